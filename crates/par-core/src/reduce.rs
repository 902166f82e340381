//! Floating-point reductions whose result does not depend on the worker count.
//!
//! Floating-point addition is not associative, so a sum split differently over workers gives
//! different bits. Here the split is fixed in advance (chunks of a given length, independent of
//! the workers), each chunk is summed in index order and the chunk sums are added in index
//! order: the same bits for any worker count. See [`crate::Executor::sum_f64`].

/// Adds `values` left to right (the order-defining reduction used for chunk sums).
pub fn ordered_sum(values: &[f64]) -> f64 {
    values.iter().sum()
}

/// The sequential reference of [`crate::Executor::sum_f64`]: sums `values` in chunks of
/// `chunk_len`, then the chunk sums in order. Panics if `chunk_len` is 0.
///
/// ```
/// let v: Vec<f64> = (0..10).map(|i| i as f64 * 0.1).collect();
/// let s = par_core::reduce::fixed_chunk_sum(&v, 4);
/// assert!((s - 4.5).abs() < 1e-12);
/// ```
pub fn fixed_chunk_sum(values: &[f64], chunk_len: usize) -> f64 {
    assert!(chunk_len > 0, "chunk_len must be at least 1");
    let sums: Vec<f64> = values.chunks(chunk_len).map(ordered_sum).collect();
    ordered_sum(&sums)
}
