//! The app's test set-up: the core's (runtime, models, fixtures), plus a
//! real `genderlens serve` and a real Triton server.
#![allow(dead_code, unused_imports)]

pub mod nginx;
pub mod prometheus;
pub mod serve;
#[path = "../../../core/tests/it/common.rs"]
mod shared;
pub mod triton;

pub use shared::*;

/// The `genderlens` binary, keeping any answers in a library of its own
/// (a fresh file for each command), so that no test answers from another's
/// library, nor from the user's. A test that wants a shared library passes
/// `--library FILE`, which takes precedence.
pub fn genderlens_command() -> std::process::Command {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static FOLDER: OnceLock<tempfile::TempDir> = OnceLock::new();
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let folder = FOLDER.get_or_init(|| tempfile::tempdir().expect("a temporary folder"));
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_genderlens"));
    command.env(
        "GENDERLENS_LIBRARY",
        folder.path().join(format!("library-{n}.sqlite")),
    );
    command
}

/// `copies` hard links to each fixture photo in `dir`, named `NN-name`:
/// a big folder of real photos that costs no disk.
pub fn link_fixture_copies(dir: &std::path::Path, copies: usize) {
    for copy in 0..copies {
        for entry in std::fs::read_dir(photos_dir()).unwrap() {
            let source = entry.unwrap().path();
            let name = format!(
                "{copy:02}-{}",
                source.file_name().unwrap().to_string_lossy()
            );
            std::fs::hard_link(&source, dir.join(name)).unwrap();
        }
    }
}

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

/// A group photo: every fixture photo side by side, four to a row, so that
/// faces and their labels sit close together.
pub fn group_photo(dir: &std::path::Path) -> std::path::PathBuf {
    let (cell_w, cell_h) = (400, 450);
    let photos: Vec<std::path::PathBuf> = std::fs::read_dir(photos_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let rows = photos.len().div_ceil(4) as u32;
    let mut canvas =
        image::RgbImage::from_pixel(cell_w * 4, cell_h * rows, image::Rgb([40, 40, 40]));
    let mut photos = photos;
    photos.sort();
    for (i, path) in photos.iter().enumerate() {
        let photo = image::open(path).unwrap().to_rgb8();
        let fitted = if photo.width() * cell_h > photo.height() * cell_w {
            image::imageops::resize(
                &photo,
                cell_w,
                (cell_w * photo.height() / photo.width()).max(1),
                image::imageops::FilterType::Triangle,
            )
        } else {
            image::imageops::resize(
                &photo,
                (cell_h * photo.width() / photo.height()).max(1),
                cell_h,
                image::imageops::FilterType::Triangle,
            )
        };
        let (x, y) = ((i as u32 % 4) * cell_w, (i as u32 / 4) * cell_h);
        image::imageops::overlay(&mut canvas, &fitted, i64::from(x), i64::from(y));
    }
    let path = dir.join("group.jpg");
    canvas.save(&path).unwrap();
    path
}
