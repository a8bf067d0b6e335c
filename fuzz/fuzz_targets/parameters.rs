//! Fuzzes the parameter parser.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pims_types::fuzz_checks::parameters(data));
