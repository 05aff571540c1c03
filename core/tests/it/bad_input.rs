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

    // Root reads mode-000 files; there a link into /proc stands in, which
    // the walk must refuse to follow (never read from /proc).
    let unreadable = d.join("unreadable.jpg");
    let as_root = running_as_root();
    if as_root {
        eprintln!("running as root: a link to /proc/self/mem stands in for the unreadable file");
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
    if as_root {
        assert!(
            !results.iter().any(|r| r.path.ends_with("unreadable.jpg")),
            "a link into /proc is not followed, so never read: {results:#?}"
        );
    } else {
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
    }
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

/// A small deterministic generator (xorshift), so the sweep is the same on
/// every run and a failure names a file that can be made again.
struct Mutator(u64);

impl Mutator {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// One of: bytes flipped, the file cut short, a run overwritten, a run
    /// repeated; the first bytes (the format's signature) are kept, so each
    /// file still reaches its format's decoder.
    fn mutate(&mut self, original: &[u8]) -> Vec<u8> {
        let mut bytes = original.to_vec();
        let keep = 8.min(bytes.len());
        let span = bytes.len() - keep;
        match self.below(4) {
            0 => {
                for _ in 0..1 + self.below(24) {
                    let at = keep + self.below(span);
                    bytes[at] ^= 1 << self.below(8);
                }
            }
            1 => bytes.truncate(keep + self.below(span)),
            2 => {
                let at = keep + self.below(span);
                let end = (at + 1 + self.below(64)).min(bytes.len());
                bytes[at..end].fill(0xff);
            }
            _ => {
                let at = keep + self.below(span);
                let end = (at + 1 + self.below(256)).min(bytes.len());
                let run = bytes[at..end].to_vec();
                bytes.splice(at..at, run);
            }
        }
        bytes
    }
}

/// Damaged files of every format, 300 of them: each gets its result, none
/// makes the pipeline panic (a caught panic would be an `internal` error),
/// and the batch finishes.
#[test]
fn three_hundred_mutated_images_each_get_a_result_and_none_panics() {
    use genderlens_core::ErrorKind;
    use image::ImageFormat;
    let photo = image::open(common::photo("astronaut.png")).unwrap().resize(
        160,
        160,
        image::imageops::FilterType::Triangle,
    );
    let originals: Vec<(Vec<u8>, &str)> = [
        (ImageFormat::Jpeg, "jpg"),
        (ImageFormat::Png, "png"),
        (ImageFormat::WebP, "webp"),
        (ImageFormat::Bmp, "bmp"),
        (ImageFormat::Tiff, "tif"),
        (ImageFormat::Gif, "gif"),
    ]
    .into_iter()
    .map(|(format, extension)| {
        let mut bytes = Vec::new();
        let image = match format {
            ImageFormat::Jpeg | ImageFormat::Bmp | ImageFormat::Gif => {
                image::DynamicImage::ImageRgb8(photo.to_rgb8())
            }
            _ => photo.clone(),
        };
        image
            .write_to(&mut std::io::Cursor::new(&mut bytes), format)
            .unwrap();
        (bytes, extension)
    })
    .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut mutator = Mutator(0x9e37_79b9_7f4a_7c15);
    for n in 0..300 {
        let (original, extension) = &originals[n % originals.len()];
        write(
            dir.path(),
            &format!("m{n:03}.{extension}"),
            &mutator.mutate(original),
        );
    }
    let (results, summary) = common::engine()
        .classify_all(vec![dir.path().to_path_buf()])
        .expect("the batch runs");
    assert_eq!(results.len(), 300);
    assert_eq!(
        summary.ok + summary.no_face + summary.failed,
        300,
        "{summary:?}"
    );
    eprintln!(
        "mutated sweep: {} ok, {} without a face, {} failed",
        summary.ok, summary.no_face, summary.failed
    );
    // The sweep reaches deep into the decoders only if many files still decode.
    assert!(summary.ok + summary.no_face >= 30, "{summary:?}");
    assert!(summary.failed >= 30, "{summary:?}");
    let indices: std::collections::BTreeSet<_> = results.iter().map(|r| r.index).collect();
    assert_eq!(indices.len(), 300, "one result per file");
    let panicked: Vec<_> = results
        .iter()
        .filter(|r| r.error_kind == Some(ErrorKind::Internal))
        .map(|r| format!("{}: {:?}", r.path.display(), r.error))
        .collect();
    assert!(panicked.is_empty(), "{panicked:#?}");
    assert!(
        results
            .iter()
            .all(|r| (r.status == Status::Error) == r.error.is_some()),
        "a failure always says why"
    );
}

/// A legal 100-megapixel 16-bit RGBA PNG with an EXIF rotation, under a
/// megabyte on disk: decoding, rotating and converting it would take about
/// 1.5 GB, so it is refused from its header, before any pixel is allocated,
/// and the photos beside it classify.
#[test]
fn an_image_too_costly_to_decode_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let costly = dir.path().join("costly.png");
    common::big_png(
        &costly,
        10_000,
        png::ColorType::Rgba,
        png::BitDepth::Sixteen,
    );
    let size = std::fs::metadata(&costly).unwrap().len();
    eprintln!("costly.png: {size} bytes");
    assert!(size < 32 << 20, "a small file: {size} bytes");
    std::fs::copy(common::photo("obama.jpg"), dir.path().join("obama.jpg")).unwrap();
    let settings = common::cpu_settings();
    assert_eq!(settings.max_decode_memory_mb, 512, "the documented default");
    let (results, _) = common::engine_with(settings)
        .classify_all(vec![dir.path().to_path_buf()])
        .unwrap();
    let refused = results.iter().find(|r| r.path == costly).unwrap();
    let message = refused.error.as_deref().unwrap_or_default();
    assert!(
        message.contains("takes 1526 MB (10000x10000), above the 512 MB decoding memory limit"),
        "{message}"
    );
    assert_eq!(refused.error_kind, Some(genderlens_core::ErrorKind::Input));
    let obama = results
        .iter()
        .find(|r| r.path.ends_with("obama.jpg"))
        .unwrap();
    assert_eq!(obama.status, Status::Ok);
}
