//! The `twinwire` command line.
fn main() {}
