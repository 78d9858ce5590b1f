//! Fuzz target `dispatch`: see [`twinwire_fuzz::dispatch`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| twinwire_fuzz::dispatch(data));
