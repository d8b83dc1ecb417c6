//! The WebAssembly facade over `latchkey-core`.
//!
//! Empty on purpose for now: the npm package issue adds the wasm-bindgen exports. It exists so
//! that the workspace layout is final and CI proves the core links into a wasm32 `cdylib`.

pub use latchkey_core::Error;
