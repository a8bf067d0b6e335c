//! Fuzzes the envelope decoder (and the call-body decoder).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pims_types::fuzz_checks::envelope(data));
