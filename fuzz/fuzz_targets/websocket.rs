//! Fuzz target `websocket`: see [`twinwire_fuzz::websocket`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| twinwire_fuzz::websocket(data));
