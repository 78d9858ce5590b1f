//! Code generation from a twinwire manifest (being built).
