//! The app's integration tests, one binary so the window, HTTP and gRPC
//! dependencies link once: the command line, the gateway, the desktop app
//! (headless and in a real window) and remote mode against a real Triton.

mod common;

mod cli;
mod desktop_smoke;
mod fuzz_regressions;
mod gateway;
mod gui;
mod library;
mod metrics_scrape;
mod observability;
mod remote;
mod remote_faults;
mod upload_page;
