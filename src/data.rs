//! Datasets in batches: packing cases into the time-major batches a
//! [`Workspace`](crate::train::Workspace) takes, with a weight per column so that a short last
//! batch is padded without counting the padding, and a [`Confusion`] matrix of a classifier's
//! results. Nothing here allocates, so it runs on a device as on a host.
//!
//! A dataset is whatever the caller keeps (a `Vec` of arrays on a host, a `static` table in
//! flash); the packers read it through a closure, `|case, t| -> x⟨t⟩`, so any layout fits.
//! A batch of `M` columns holds the cases `idx` (at most `M` indices into the dataset, one
//! chunk of a shuffled order, see [`batches`]): column `j` is case `idx[j]`, and the columns
//! past `idx.len()` are **padding**: zero inputs, class 0 and weight 0. With those weights
//! ([`Target::weighted`]) the padding is left out of the loss, the gradient and the
//! [`Confusion`] counts exactly, so one workspace of `M` columns serves every batch, the short
//! last one included.
//!
//! ```
//! use tinyrnn::data::{batches, Batch, Confusion};
//! use tinyrnn::init::{Init, Rng};
//! use tinyrnn::optim::Adam;
//! use tinyrnn::train::LstmWorkspace;
//! use tinyrnn::LstmParams;
//!
//! // 10 cases of 5 steps and 2 features, class = sign of the first step's first feature.
//! let cases: [([[f32; 2]; 5], usize); 10] = core::array::from_fn(|i| {
//!     let s = if i % 2 == 0 { 1.0 } else { -1.0 };
//!     let mut x = [[0.0; 2]; 5];
//!     x[0] = [s, 0.5];
//!     (x, i % 2)
//! });
//! let mut rng = Rng::new(1);
//! let mut model = LstmParams::<f32, 2, 8, 2>::init(&Init::default(), &mut rng);
//! let mut opt = Adam::new(0.05);
//! let mut ws = LstmWorkspace::<f32, 2, 8, 2, 4, 5>::zeros(); // batches of 4
//! let mut batch = Batch::zeros();
//! let mut order: [usize; 10] = core::array::from_fn(|i| i);
//! for _epoch in 0..20 {
//!     rng.shuffle(&mut order);
//!     for idx in batches::<4>(&order) {
//!         // 4, 4, then 2 cases and 2 padding columns of weight 0.
//!         batch.fill(idx, |i, t| cases[i].0[t].into(), |i| cases[i].1);
//!         ws.train_step(&mut model, &mut opt, &batch.x, batch.class_last())?;
//!     }
//! }
//! let mut confusion = Confusion::new();
//! let all: [usize; 10] = core::array::from_fn(|i| i);
//! for idx in batches::<4>(&all) {
//!     batch.fill(idx, |i, t| cases[i].0[t].into(), |i| cases[i].1);
//!     ws.evaluate(&model, &batch.x, batch.class_last(), &mut confusion)?;
//! }
//! assert_eq!(confusion.total(), 10); // the padding is not counted
//! assert_eq!(confusion.accuracy(), 1.0);
//! # Ok::<(), tinyrnn::Error>(())
//! ```
//!
//! [`Target::weighted`]: crate::loss::Target::weighted

use crate::loss::{Target, Weighted};
use crate::Real;
use core::fmt;
use nalgebra::{SMatrix, SVector};

/// The batches of a dataset: `order` (indices of cases, e.g. shuffled by
/// [`Rng::shuffle`](crate::init::Rng::shuffle)) in chunks of `M`, the last one shorter if `M`
/// does not divide `order.len()`. Each chunk is the `idx` of one [`Batch::fill`].
///
/// # Example
/// ```
/// use tinyrnn::data::batches;
/// let order = [4, 0, 3, 1, 2];
/// let mut it = batches::<2>(&order);
/// assert_eq!(it.next(), Some(&[4, 0][..]));
/// assert_eq!(it.next(), Some(&[3, 1][..]));
/// assert_eq!(it.next(), Some(&[2][..])); // one case, one padding column
/// assert_eq!(it.next(), None);
/// ```
pub fn batches<const M: usize>(order: &[usize]) -> core::slice::Chunks<'_, usize> {
    const { assert!(M > 0, "a batch needs at least one column") };
    order.chunks(M)
}

/// Packs the inputs of the cases `idx` into a time-major batch: column `j` of `x[t]` is
/// `input(idx[j], t)`, and every column from `idx.len()` on is zero (padding). Returns the
/// number of cases packed, `min(idx.len(), M)` (indices past the `M`-th are not read).
///
/// `input` is called once per case and step, case by case.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::data::pack_sequence;
///
/// let series = [[1.0_f32, 2.0, 3.0], [4.0, 5.0, 6.0]]; // 2 cases, 3 steps, 1 feature
/// let mut x = [SMatrix::<f32, 1, 4>::repeat(9.0); 3];
/// let n = pack_sequence(&[1, 0], &mut x, |i, t| [series[i][t]].into());
/// assert_eq!(n, 2);
/// assert_eq!(x[2], SMatrix::<f32, 1, 4>::new(6.0, 3.0, 0.0, 0.0));
/// ```
pub fn pack_sequence<T: Real, const N_X: usize, const M: usize, const T_X: usize>(
    idx: &[usize],
    x: &mut [SMatrix<T, N_X, M>; T_X],
    mut input: impl FnMut(usize, usize) -> SVector<T, N_X>,
) -> usize {
    let n = idx.len().min(M);
    for (j, &i) in idx.iter().take(M).enumerate() {
        for (t, xt) in x.iter_mut().enumerate() {
            xt.set_column(j, &input(i, t));
        }
    }
    for xt in x.iter_mut() {
        xt.columns_range_mut(n..).fill(T::zero());
    }
    n
}

/// Packs one vector per case into the columns of a matrix (a regression target such as
/// [`Target::ValueLast`]'s): column `j` is `f(idx[j])`, every column from `idx.len()` on is
/// zero. Returns the number of cases packed, `min(idx.len(), M)`.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::data::pack_columns;
///
/// let next = [0.5_f64, -0.25, 2.0];
/// let mut v = SMatrix::<f64, 1, 4>::zeros();
/// assert_eq!(pack_columns(&[2, 0, 1], &mut v, |i| [next[i]].into()), 3);
/// assert_eq!(v, SMatrix::<f64, 1, 4>::new(2.0, 0.5, -0.25, 0.0));
/// ```
pub fn pack_columns<T: Real, const R: usize, const M: usize>(
    idx: &[usize],
    m: &mut SMatrix<T, R, M>,
    mut f: impl FnMut(usize) -> SVector<T, R>,
) -> usize {
    let n = idx.len().min(M);
    for (j, &i) in idx.iter().take(M).enumerate() {
        m.set_column(j, &f(i));
    }
    m.columns_range_mut(n..).fill(T::zero());
    n
}

/// The weights of a batch holding `cases` real columns: 1 for the first `cases`, 0 for the
/// padding after them (see [`Target::weighted`]).
///
/// # Example
/// ```
/// use tinyrnn::data::mask;
/// let mut w = [0.5_f32; 4];
/// mask(3, &mut w);
/// assert_eq!(w, [1.0, 1.0, 1.0, 0.0]);
/// ```
///
/// [`Target::weighted`]: crate::loss::Target::weighted
pub fn mask<T: Real, const M: usize>(cases: usize, weights: &mut [T; M]) {
    for (j, w) in weights.iter_mut().enumerate() {
        *w = if j < cases { T::one() } else { T::zero() };
    }
}

/// One batch of a classification dataset, time-major: the inputs `x[t]` (column `j` is the
/// `j`-th case), a class index and a weight per column, and how many columns are cases. The
/// columns after them are padding: zero inputs, class 0, weight 0.
///
/// [`Batch::fill`] packs it from a slice of indices and two closures; [`Batch::class_last`]
/// is its [`Target::ClassLast`], weighted, for [`Workspace::train_step`],
/// [`Workspace::accumulate`] and [`Workspace::evaluate`]. For other targets (probabilities,
/// values), pack them with [`pack_columns`] and weight them with `batch.weights`.
///
/// # Example
/// ```
/// use tinyrnn::data::Batch;
/// let cases = [([1.0_f32, 2.0], 1_usize), ([3.0, 4.0], 0), ([5.0, 6.0], 1)];
/// let mut batch = Batch::<f32, 1, 4, 2>::zeros();
/// batch.fill(&[2, 0], |i, t| [cases[i].0[t]].into(), |i| cases[i].1);
/// assert_eq!(batch.x[1].as_slice(), &[6.0, 2.0, 0.0, 0.0]);
/// assert_eq!((batch.labels, batch.weights, batch.cases), ([1, 1, 0, 0], [1.0, 1.0, 0.0, 0.0], 2));
/// ```
///
/// [`Workspace::train_step`]: crate::train::Workspace::train_step
/// [`Workspace::accumulate`]: crate::train::Workspace::accumulate
/// [`Workspace::evaluate`]: crate::train::Workspace::evaluate
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Batch<T: Real, const N_X: usize, const M: usize, const T_X: usize> {
    /// The inputs, `x[t]` of shape `(N_X, M)`.
    pub x: [SMatrix<T, N_X, M>; T_X],
    /// The class index of each column (0 for padding).
    pub labels: [usize; M],
    /// The weight of each column: 1 for a case, 0 for padding.
    pub weights: [T; M],
    /// How many columns hold cases (the first `cases`).
    pub cases: usize,
}

impl<T: Real, const N_X: usize, const M: usize, const T_X: usize> Batch<T, N_X, M, T_X> {
    /// The empty batch (every column padding), usable in `const` and `static` initialisers.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::data::Batch;
    /// static EMPTY: Batch<f32, 3, 8, 10> = Batch::ZEROS;
    /// assert_eq!((EMPTY.cases, EMPTY.weights), (0, [0.0; 8]));
    /// ```
    pub const ZEROS: Self = Self {
        x: [crate::params::zero_matrix(); T_X],
        labels: [0; M],
        weights: [T::ZERO; M],
        cases: 0,
    };

    /// The empty batch.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::data::Batch;
    /// let batch = Batch::<f64, 2, 4, 6>::zeros();
    /// assert!(batch.x.iter().all(|x| x.sum() == 0.0));
    /// ```
    pub fn zeros() -> Self {
        Self::ZEROS
    }

    /// Packs the cases `idx` (at most `M`; indices past the `M`-th are not read): column `j`
    /// gets the inputs `input(idx[j], t)` for every step `t` (see [`pack_sequence`]), the class
    /// `label(idx[j])` and weight 1; the remaining columns become padding. Returns the number
    /// of cases packed, also stored in [`Batch::cases`].
    ///
    /// # Example
    /// ```
    /// use tinyrnn::data::Batch;
    /// // Cases stored as [[T; N_X]; T_X], as a `.ts` file is read: 2 features, 3 steps.
    /// let series = [[[0.0_f32, 1.0], [2.0, 3.0], [4.0, 5.0]], [[6.0, 7.0], [8.0, 9.0], [1.0, 2.0]]];
    /// let classes = [3, 1];
    /// let mut batch = Batch::<f32, 2, 2, 3>::zeros();
    /// assert_eq!(batch.fill(&[1, 0], |i, t| series[i][t].into(), |i| classes[i]), 2);
    /// assert_eq!(batch.x[0].column(0).as_slice(), &[6.0, 7.0]);
    /// assert_eq!(batch.labels, [1, 3]);
    /// assert_eq!(batch.fill(&[0], |i, t| series[i][t].into(), |i| classes[i]), 1);
    /// assert_eq!(batch.x[0].column(1).as_slice(), &[0.0, 0.0]); // padding
    /// assert_eq!((batch.labels, batch.weights), ([3, 0], [1.0, 0.0]));
    /// ```
    pub fn fill(
        &mut self,
        idx: &[usize],
        input: impl FnMut(usize, usize) -> SVector<T, N_X>,
        mut label: impl FnMut(usize) -> usize,
    ) -> usize {
        let n = pack_sequence(idx, &mut self.x, input);
        for (j, l) in self.labels.iter_mut().enumerate() {
            *l = match idx.get(j) {
                Some(&i) if j < n => label(i),
                _ => 0,
            };
        }
        mask(n, &mut self.weights);
        self.cases = n;
        n
    }

    /// The batch's class indices as the target at the last step, weighted by
    /// [`Batch::weights`]: `Target::ClassLast(&self.labels).weighted(&self.weights)`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::data::Batch;
    /// use tinyrnn::loss::Target;
    /// let mut batch = Batch::<f32, 1, 3, 4>::zeros();
    /// batch.fill(&[0, 1], |_, _| [0.5].into(), |i| i);
    /// let target = batch.class_last::<2>();
    /// assert!(matches!(target.target, Target::ClassLast(&[0, 1, 0])));
    /// assert_eq!(target.weights, Some(&[1.0, 1.0, 0.0]));
    /// ```
    pub fn class_last<const N_Y: usize>(&self) -> Weighted<'_, T, N_Y, M, T_X> {
        Target::ClassLast(&self.labels).weighted(&self.weights)
    }
}

/// The index of the largest entry of column `j` (the first one on a tie, as `torch.argmax`;
/// NaN entries are never chosen unless all are NaN, then 0). Also 0 for `j ≥ M`.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::data::argmax;
/// let y = SMatrix::<f32, 3, 2>::from_column_slice(&[0.1, 0.7, 0.2, 0.5, 0.5, 0.5]);
/// assert_eq!((argmax(&y, 0), argmax(&y, 1)), (1, 0)); // a tie: the first
/// ```
pub fn argmax<T: Real, const N_Y: usize, const M: usize>(
    y: &SMatrix<T, N_Y, M>,
    j: usize,
) -> usize {
    if j >= M {
        return 0;
    }
    let col = y.column(j);
    let (mut best, mut b) = (0, T::NAN);
    for (k, &v) in col.iter().enumerate() {
        // `!(v <= best)` would pick a NaN; `v > best` skips it, and a NaN best is replaced.
        if k == 0 || v > b || (b.is_nan() && !v.is_nan()) {
            (best, b) = (k, v);
        }
    }
    best
}

/// A classifier's confusion matrix over `N_Y` classes: `counts[truth][predicted]`, the number
/// of cases of class `truth` predicted as `predicted`. Rows are true classes, columns
/// predictions.
///
/// Filled by [`Workspace::evaluate`](crate::train::Workspace::evaluate) over a test set, or
/// by [`Confusion::add_batch`] from a training step's predictions; printed as a table by its
/// `Display` (classes by index) or [`Confusion::with_names`].
///
/// # Example
/// ```
/// use tinyrnn::data::Confusion;
/// let mut c = Confusion::<3>::new();
/// for (truth, predicted) in [(0, 0), (0, 0), (1, 1), (1, 2), (2, 2)] {
///     c.add(truth, predicted);
/// }
/// assert_eq!((c.correct(), c.total(), c.accuracy()), (4, 5, 0.8));
/// assert_eq!(c.recall(1), Some(0.5));
/// assert_eq!(c.precision(2), Some(0.5));
/// print!("{c}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Confusion<const N_Y: usize> {
    /// `counts[truth][predicted]`.
    pub counts: [[u32; N_Y]; N_Y],
}

impl<const N_Y: usize> Default for Confusion<N_Y> {
    fn default() -> Self {
        Self::ZEROS
    }
}

impl<const N_Y: usize> Confusion<N_Y> {
    /// No cases counted, usable in `const` and `static` initialisers.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::data::Confusion;
    /// static C: Confusion<4> = Confusion::ZEROS;
    /// assert_eq!(C.total(), 0);
    /// ```
    pub const ZEROS: Self = Self {
        counts: [[0; N_Y]; N_Y],
    };

    /// No cases counted.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::data::Confusion;
    /// assert_eq!(Confusion::<2>::new().counts, [[0, 0], [0, 0]]);
    /// ```
    pub const fn new() -> Self {
        Self::ZEROS
    }

    /// Counts one case of class `truth` predicted as `predicted`. A class `≥ N_Y` is not
    /// counted; a count saturates at `u32::MAX`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::data::Confusion;
    /// let mut c = Confusion::<2>::new();
    /// c.add(1, 0);
    /// c.add(2, 0); // out of range: ignored
    /// assert_eq!(c.counts, [[0, 0], [1, 0]]);
    /// ```
    pub fn add(&mut self, truth: usize, predicted: usize) {
        if let Some(n) = self
            .counts
            .get_mut(truth)
            .and_then(|row| row.get_mut(predicted))
        {
            *n = n.saturating_add(1);
        }
    }

    /// Counts a batch: for every column `j` whose weight is not 0, the class `labels[j]`
    /// predicted as the [`argmax`] of column `j` of `y` (probabilities or logits). Padding
    /// columns (weight 0) are not counted; any other weight counts a column once.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::data::Confusion;
    /// // A training step's last-step predictions (`ws.y_pred[T_X - 1]`), 3 cases + padding.
    /// let y = SMatrix::<f32, 2, 4>::new(0.9, 0.3, 0.4, 0.5, 0.1, 0.7, 0.6, 0.5);
    /// let mut c = Confusion::new();
    /// c.add_batch(&y, &[0, 1, 0, 0], &[1.0, 1.0, 1.0, 0.0]);
    /// assert_eq!(c.counts, [[1, 1], [0, 1]]);
    /// ```
    pub fn add_batch<T: Real, const M: usize>(
        &mut self,
        y: &SMatrix<T, N_Y, M>,
        labels: &[usize; M],
        weights: &[T; M],
    ) {
        for (j, (&k, &w)) in labels.iter().zip(weights).enumerate() {
            if w != T::zero() {
                self.add(k, argmax(y, j));
            }
        }
    }

    /// The number of cases counted.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::data::Confusion;
    /// assert_eq!(Confusion { counts: [[3, 1], [2, 4]] }.total(), 10);
    /// ```
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().map(|&n| u64::from(n)).sum()
    }

    /// The number of cases predicted correctly (the diagonal).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::data::Confusion;
    /// assert_eq!(Confusion { counts: [[3, 1], [2, 4]] }.correct(), 7);
    /// ```
    pub fn correct(&self) -> u64 {
        let diagonal = self
            .counts
            .iter()
            .enumerate()
            .filter_map(|(k, row)| row.get(k));
        diagonal.map(|&n| u64::from(n)).sum()
    }

    /// The share of cases predicted correctly; 0 if none was counted.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::data::Confusion;
    /// assert_eq!(Confusion { counts: [[3, 1], [2, 4]] }.accuracy(), 0.7);
    /// assert_eq!(Confusion::<2>::new().accuracy(), 0.0);
    /// ```
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct(), self.total()).unwrap_or(0.0)
    }

    /// Class `k`'s recall: the share of the cases of class `k` predicted as `k`. `None` if no
    /// case of class `k` was counted (or `k ≥ N_Y`).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::data::Confusion;
    /// let c = Confusion { counts: [[3, 1], [2, 4]] };
    /// assert_eq!((c.recall(0), c.recall(1)), (Some(0.75), Some(4.0 / 6.0)));
    /// assert_eq!(Confusion::<2>::new().recall(0), None);
    /// ```
    pub fn recall(&self, k: usize) -> Option<f64> {
        let row = self.counts.get(k)?;
        ratio(
            u64::from(*row.get(k)?),
            row.iter().map(|&n| u64::from(n)).sum(),
        )
    }

    /// Class `k`'s precision: the share of the cases predicted as `k` that are of class `k`.
    /// `None` if no case was predicted as `k` (or `k ≥ N_Y`).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::data::Confusion;
    /// let c = Confusion { counts: [[3, 1], [2, 4]] };
    /// assert_eq!((c.precision(0), c.precision(1)), (Some(0.6), Some(0.8)));
    /// ```
    pub fn precision(&self, k: usize) -> Option<f64> {
        let hits = u64::from(*self.counts.get(k)?.get(k)?);
        let column = self.counts.iter().filter_map(|row| row.get(k));
        ratio(hits, column.map(|&n| u64::from(n)).sum())
    }

    /// The table with class names instead of indices (`names[k]` for class `k`; a class
    /// without a name shows its index).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::data::Confusion;
    /// let c = Confusion { counts: [[3, 1], [2, 4]] };
    /// let table = c.with_names(&["summer", "winter"]).to_string();
    /// assert_eq!(
    ///     table,
    ///     "          summer winter recall\n\
    ///      summer         3      1  0.750\n\
    ///      winter         2      4  0.667\n\
    ///      precision  0.600  0.800\n\
    ///      accuracy   0.700 (7 of 10)\n"
    /// );
    /// ```
    pub fn with_names<'a, S: AsRef<str>>(&'a self, names: &'a [S]) -> ConfusionTable<'a, S, N_Y> {
        ConfusionTable {
            confusion: self,
            names,
        }
    }
}

/// `num / den`, `None` for `den = 0`.
fn ratio(num: u64, den: u64) -> Option<f64> {
    (den != 0).then(|| num as f64 / den as f64)
}

impl<const N_Y: usize> core::ops::AddAssign for Confusion<N_Y> {
    /// Adds another matrix's counts (saturating), e.g. those of another batch or seed.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::data::Confusion;
    /// let mut c = Confusion { counts: [[1, 0], [0, 1]] };
    /// c += Confusion { counts: [[2, 1], [0, 0]] };
    /// assert_eq!(c.counts, [[3, 1], [0, 1]]);
    /// ```
    fn add_assign(&mut self, other: Self) {
        for (row, other) in self.counts.iter_mut().zip(other.counts) {
            for (n, m) in row.iter_mut().zip(other) {
                *n = n.saturating_add(m);
            }
        }
    }
}

/// A [`Confusion`] matrix with class names, printed as a table (see
/// [`Confusion::with_names`]).
///
/// # Example
/// ```
/// use tinyrnn::data::Confusion;
/// let mut c = Confusion::<2>::new();
/// c.add(0, 0);
/// c.add(1, 0);
/// let table = c.with_names(&["rest", "walk"]);
/// assert_eq!(table.names[1], "walk");
/// let text = table.to_string();
/// assert!(text.contains("rest") && text.contains("walk"));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ConfusionTable<'a, S, const N_Y: usize> {
    /// The counts.
    pub confusion: &'a Confusion<N_Y>,
    /// `names[k]` is class `k`'s name.
    pub names: &'a [S],
}

/// A class's name, or its index when it has none.
enum Label<'a> {
    Name(&'a str),
    Index(usize),
}

impl Label<'_> {
    fn width(&self) -> usize {
        match *self {
            Label::Name(s) => s.chars().count(),
            Label::Index(k) => digits(k as u64),
        }
    }
}

impl fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Label::Name(s) => f.pad(s),
            Label::Index(k) => {
                // Padded as text (left-aligned by default), as a name is.
                // usize::MAX has 20 digits; they are written from the right.
                let mut buf = [0_u8; 20];
                let mut n = k;
                let mut used = 0;
                for d in buf.iter_mut().rev() {
                    *d = b'0' + (n % 10) as u8;
                    n /= 10;
                    used += 1;
                    if n == 0 {
                        break;
                    }
                }
                let digits = buf
                    .get(buf.len().saturating_sub(used)..)
                    .unwrap_or_default();
                f.pad(core::str::from_utf8(digits).unwrap_or("?"))
            }
        }
    }
}

fn digits(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

impl<S: AsRef<str>, const N_Y: usize> ConfusionTable<'_, S, N_Y> {
    fn label(&self, k: usize) -> Label<'_> {
        match self.names.get(k) {
            Some(s) => Label::Name(s.as_ref()),
            None => Label::Index(k),
        }
    }
}

/// The table: a header of predicted classes and `recall`, a row per true class with its
/// counts and recall, a `precision` row, and the accuracy (`-` where a ratio is undefined).
impl<S: AsRef<str>, const N_Y: usize> fmt::Display for ConfusionTable<'_, S, N_Y> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.confusion;
        let names = (0..N_Y).map(|k| self.label(k).width()).max().unwrap_or(0);
        let counts = c.counts.iter().flatten().map(|&n| digits(u64::from(n)));
        // Label column: the names and "precision"; value columns: names, counts, "recall".
        let wl = names.max("precision".len());
        let wc = counts.fold(names.max("recall".len()), usize::max);
        let cell = |f: &mut fmt::Formatter<'_>, r: Option<f64>| match r {
            Some(r) => write!(f, " {r:>wc$.3}"),
            None => write!(f, " {:>wc$}", "-"),
        };
        write!(f, "{:wl$}", "")?;
        for k in 0..N_Y {
            write!(f, " {:>wc$}", self.label(k))?;
        }
        writeln!(f, " {:>wc$}", "recall")?;
        for (k, row) in c.counts.iter().enumerate() {
            write!(f, "{:wl$}", self.label(k))?;
            for n in row {
                write!(f, " {n:>wc$}")?;
            }
            cell(f, c.recall(k))?;
            writeln!(f)?;
        }
        write!(f, "{:wl$}", "precision")?;
        for k in 0..N_Y {
            cell(f, c.precision(k))?;
        }
        writeln!(f)?;
        write!(f, "{:wl$}", "accuracy")?;
        cell(f, ratio(c.correct(), c.total()))?;
        writeln!(f, " ({} of {})", c.correct(), c.total())
    }
}

/// The table with classes by index (see [`Confusion::with_names`] for names).
///
/// # Example
/// ```
/// use tinyrnn::data::Confusion;
/// let c = Confusion { counts: [[5, 0], [1, 4]] };
/// print!("{c}");
/// assert_eq!(
///     c.to_string(),
///     "               0      1 recall\n\
///      0              5      0  1.000\n\
///      1              1      4  0.800\n\
///      precision  0.833  1.000\n\
///      accuracy   0.900 (9 of 10)\n"
/// );
/// ```
impl<const N_Y: usize> fmt::Display for Confusion<N_Y> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: [&str; 0] = [];
        fmt::Display::fmt(&self.with_names(&names), f)
    }
}
