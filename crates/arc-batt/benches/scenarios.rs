//! Scenario `arc-batt` (work in progress on this branch).
fn main() {}
