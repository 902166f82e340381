//! The `solve` example (work in progress on this branch).
fn main() {}
