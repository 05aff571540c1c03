//! The core's integration tests, one binary: the real ONNX Runtime and the
//! real models, with no window, no HTTP and no Triton. This is the fast tier
//! (`cargo test -p genderlens-core`).

mod common;

mod bad_input;
mod classifier;
mod engine;
mod export;
mod formats;
mod landmarks;
mod library;
mod listing;
mod parity;
mod reduced_decode;
mod stability;
