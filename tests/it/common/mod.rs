//! The app's test set-up: the core's (runtime, models, fixtures), plus a
//! real `genderlens serve` and a real Triton server.
#![allow(dead_code, unused_imports)]

pub mod serve;
#[path = "../../../core/tests/it/common.rs"]
mod shared;
pub mod triton;

pub use shared::*;

/// Runs `command` to its end, sampling its peak resident memory (`VmHWM`
/// in `/proc`) while it runs; returns its status, stderr and that peak in
/// bytes.
pub fn run_measuring_peak_rss(
    mut command: std::process::Command,
) -> (std::process::ExitStatus, String, u64) {
    use std::process::Stdio;
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut { stderr }, &mut text).unwrap();
        text
    });
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            let hwm = text
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
                .unwrap_or(0);
            peak_kib = peak_kib.max(hwm);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    (status, reader.join().unwrap(), peak_kib * 1024)
}
