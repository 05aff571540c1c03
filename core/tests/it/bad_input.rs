//! Bad input: every broken item gets its own clear status and the batch goes on.

use crate::common;

use std::path::{Path, PathBuf};

use genderlens_core::{ImageResult, Status};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A well-formed PNG whose header claims 30000×30000 (2.7 GB of RGB) over a
/// few bytes of compressed data: a decompression bomb.
fn png_bomb_header() -> Vec<u8> {
    fn chunk(png: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = 30000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&30000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

fn find<'a>(results: &'a [ImageResult], name: &str) -> &'a ImageResult {
    results
        .iter()
        .find(|r| r.path.file_name().is_some_and(|n| n == name))
        .unwrap_or_else(|| panic!("no result for {name}: {results:#?}"))
}

fn assert_error(results: &[ImageResult], name: &str, needle: &str) {
    let r = find(results, name);
    assert_eq!(r.status, Status::Error, "{name}: {r:?}");
    let message = r.error.as_deref().unwrap_or_default();
    assert!(
        message.contains(needle),
        "{name}: error {message:?} should mention {needle:?}"
    );
}

#[test]
fn each_bad_file_gets_its_own_error_and_the_good_ones_still_classify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = std::fs::read(common::photo("obama.jpg")).unwrap();
    write(d, "a_good.jpg", &good);
    write(d, "truncated.jpg", &good[..good.len() / 3]);
    write(d, "empty.jpg", b"");
    write(d, "text.jpg", b"this is not a photo, just text\n");
    write(d, "bomb.png", &png_bomb_header());

    // Root reads mode-000 files, so there an I/O error stands in for "unreadable".
    let unreadable = d.join("unreadable.jpg");
    if running_as_root() {
        eprintln!(
            "running as root: using /proc/self/mem (reads fail with EIO) as the unreadable file"
        );
        std::os::unix::fs::symlink("/proc/self/mem", &unreadable).unwrap();
    } else {
        std::fs::write(&unreadable, &good).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).unwrap();
    }

    let looped = d.join("looped");
    std::fs::create_dir(&looped).unwrap();
    write(&looped, "z_good.jpg", &good);
    std::os::unix::fs::symlink(&looped, looped.join("back")).unwrap();

    let missing = d.join("does-not-exist.jpg");
    let (results, summary) = common::engine()
        .classify_all(vec![d.to_path_buf(), missing.clone()])
        .expect("the batch itself runs");

    assert_eq!(find(&results, "a_good.jpg").status, Status::Ok);
    assert_eq!(
        find(&results, "z_good.jpg").status,
        Status::Ok,
        "photos beside a symlink loop still run"
    );
    assert_error(&results, "truncated.jpg", "damaged");
    assert_error(&results, "empty.jpg", "empty");
    assert_error(&results, "text.jpg", "not a recognised image format");
    assert_error(&results, "bomb.png", "megapixel limit");
    assert_error(&results, "does-not-exist.jpg", "no such file");
    let unreadable_result = find(&results, "unreadable.jpg");
    assert_eq!(
        unreadable_result.status,
        Status::Error,
        "{unreadable_result:?}"
    );
    assert!(
        unreadable_result
            .error
            .as_deref()
            .unwrap()
            .starts_with("cannot read file"),
        "{unreadable_result:?}"
    );
    assert!(
        results.iter().any(|r| r.status == Status::Error
            && r.error.as_deref().unwrap().contains("symbolic link loop")),
        "the loop is reported: {results:#?}"
    );
    assert_eq!(summary.ok, 2);
    assert_eq!(summary.failed, results.len() - 2);
    assert_eq!(summary.total, results.len());
}

#[test]
fn the_megapixel_limit_is_a_setting() {
    let mut settings = common::cpu_settings();
    settings.max_megapixels = 0.5; // obama.jpg is 910×1137 ≈ 1.03 MP
    let (results, _) = common::engine_with(settings)
        .classify_all(vec![
            common::photo("obama.jpg"),
            common::photo("astronaut.png"),
        ])
        .unwrap();
    assert_error(&results, "obama.jpg", "above the 0.5 megapixel limit");
    assert_eq!(
        find(&results, "astronaut.png").status,
        Status::Ok,
        "512×512 is under 0.5 MP"
    );
}
