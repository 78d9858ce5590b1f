//! Fuzz target `envelope`: see [`twinwire_fuzz::envelope`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| twinwire_fuzz::envelope(data));
