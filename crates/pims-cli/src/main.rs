//! The `pims` command (being built; see the project's issues).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

fn main() {
    println!("pims {}", env!("CARGO_PKG_VERSION"));
}
