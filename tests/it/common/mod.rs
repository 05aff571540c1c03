//! The app's test set-up: the core's (runtime, models, fixtures), plus a
//! real `genderlens serve` and a real Triton server.
#![allow(dead_code, unused_imports)]

pub mod serve;
#[path = "../../../core/tests/it/common.rs"]
mod shared;
pub mod triton;

pub use shared::*;
