//! Walking a step's input or output, or a layer's state, as flat slices (shared by the
//! layer and property tests).

use nalgebra::SMatrix;
use tinyrnn::lstm::LstmState;
use tinyrnn::Real;

/// A step's input or output, or a layer's state, as a list of column-major slices (one per
/// matrix). Column `j` of every part is example `j`.
pub trait Flat<T> {
    fn parts(&self) -> Vec<&[T]>;
    fn parts_mut(&mut self) -> Vec<&mut [T]>;
}

impl<T: Real, const R: usize, const C: usize> Flat<T> for SMatrix<T, R, C> {
    fn parts(&self) -> Vec<&[T]> {
        vec![self.as_slice()]
    }
    fn parts_mut(&mut self) -> Vec<&mut [T]> {
        vec![self.as_mut_slice()]
    }
}

impl<T> Flat<T> for () {
    fn parts(&self) -> Vec<&[T]> {
        Vec::new()
    }
    fn parts_mut(&mut self) -> Vec<&mut [T]> {
        Vec::new()
    }
}

impl<T: Real, const N: usize, const M: usize> Flat<T> for LstmState<T, N, M> {
    fn parts(&self) -> Vec<&[T]> {
        vec![self.a.as_slice(), self.c.as_slice()]
    }
    fn parts_mut(&mut self) -> Vec<&mut [T]> {
        vec![self.a.as_mut_slice(), self.c.as_mut_slice()]
    }
}

impl<T, A: Flat<T>, B: Flat<T>> Flat<T> for (A, B) {
    fn parts(&self) -> Vec<&[T]> {
        let mut p = self.0.parts();
        p.extend(self.1.parts());
        p
    }
    fn parts_mut(&mut self) -> Vec<&mut [T]> {
        let mut p = self.0.parts_mut();
        p.extend(self.1.parts_mut());
        p
    }
}

impl<T, V: Flat<T>, const N: usize> Flat<T> for [V; N] {
    fn parts(&self) -> Vec<&[T]> {
        self.iter().flat_map(|v| v.parts()).collect()
    }
    fn parts_mut(&mut self) -> Vec<&mut [T]> {
        self.iter_mut().flat_map(|v| v.parts_mut()).collect()
    }
}
