//! Fuzz target `manifest_codegen`: see [`twinwire_fuzz::manifest_codegen`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| twinwire_fuzz::manifest_codegen(data));
