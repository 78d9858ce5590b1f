//! Fuzz target `chat_payloads`: see [`twinwire_fuzz::chat_payloads`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| twinwire_fuzz::chat_payloads(data));
