//! BasicMotions preprocessing, shared by `examples/basic_motions.rs` and the firmware's host
//! test `tests/firmware_golden.rs` (which embeds the result in the firmware), so both train on
//! exactly the same numbers: average every `pool` steps, then standardise each channel with the
//! training split's mean and standard deviation.

/// Averages every `pool` consecutive values of each channel: `x[t][c]` is the mean of
/// `channels[c][t·pool .. (t+1)·pool]`. Values past `T_X·pool` are ignored.
pub fn pool<const N_X: usize, const T_X: usize>(
    channels: &[Vec<f64>],
    pool: usize,
) -> [[f32; N_X]; T_X] {
    let mut x = [[0.0_f32; N_X]; T_X];
    for (c, channel) in channels.iter().enumerate().take(N_X) {
        for (t, pooled) in channel.chunks_exact(pool).enumerate().take(T_X) {
            x[t][c] = (pooled.iter().sum::<f64>() / pool as f64) as f32;
        }
    }
    x
}

/// Each channel's `(mean, standard deviation)` over every case and step of the training split
/// (the deviation floored at 1e-8, so a constant channel does not divide by zero).
pub fn channel_stats<'a, const N_X: usize, const T_X: usize>(
    train: impl Iterator<Item = &'a [[f32; N_X]; T_X]> + Clone,
) -> [(f64, f64); N_X] {
    let n = (train.clone().count() * T_X) as f64;
    core::array::from_fn(|c| {
        let values = || {
            train
                .clone()
                .flat_map(move |x| x.iter().map(move |s| f64::from(s[c])))
        };
        let mean = values().sum::<f64>() / n;
        let var = values().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt().max(1e-8))
    })
}

/// Standardises one series in place with the training statistics.
pub fn standardise<const N_X: usize, const T_X: usize>(
    x: &mut [[f32; N_X]; T_X],
    stats: &[(f64, f64); N_X],
) {
    for s in x.iter_mut() {
        for (v, &(mean, std)) in s.iter_mut().zip(stats) {
            *v = ((f64::from(*v) - mean) / std) as f32;
        }
    }
}
