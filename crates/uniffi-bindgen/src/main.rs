//! `uniffi-bindgen`: UniFFI's generator, built from the workspace so that it is always the
//! release of the scaffolding `pims-ffi` compiles with (`uniffi` is pinned with `=`).
//!
//! ```text
//! pims-uniffi-bindgen generate target/debug/libpims_ffi.so -l kotlin -l python -l swift -o target/bindings
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

fn main() {
    uniffi::uniffi_bindgen_main()
}
