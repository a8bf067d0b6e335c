//! UniFFI's generator, built from the workspace (the guide below is README.md).
//!
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

fn main() {
    uniffi::uniffi_bindgen_main()
}
