//! Remote mode against the real thing: a real Triton server (the stock
//! binary) running this repository's model repository, GenderLens's HTTP and
//! gRPC clients, `genderlens serve` in both modes, NVIDIA's tritonclient as
//! a cross-check, and the faults a network brings.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::triton::Triton;
use genderlens::remote::{Remote, RemoteOptions, Upload, batch};

/// The settings a batch lists and reads files under: the defaults.
fn defaults() -> genderlens::EngineSettings {
    genderlens::EngineSettings::default()
}
use genderlens::{EngineEvent, Gender, ImageResult, Status};
use serde_json::Value;

fn options(url: &str) -> RemoteOptions {
    RemoteOptions {
        url: url.to_string(),
        ..RemoteOptions::default()
    }
}

fn remote(url: &str) -> Arc<Remote> {
    Arc::new(Remote::connect(options(url)).expect("a valid remote"))
}

fn run_batch(remote: Arc<Remote>, paths: Vec<PathBuf>) -> Vec<ImageResult> {
    common::batch_results(batch::start(remote, paths, &defaults(), None))
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// What parity compares of one face: the box, the label, p(male), age,
/// whether it is uncertain, and the models that answered.
#[derive(Debug, Clone)]
struct FaceAnswer {
    bbox: [f32; 4],
    gender: Gender,
    p_male: f32,
    age: Option<f32>,
    uncertain: bool,
    models: Vec<String>,
}

/// Per photo: each face's answer, left to right.
type Faces = BTreeMap<String, Vec<FaceAnswer>>;

fn faces_of<'a>(results: impl IntoIterator<Item = &'a ImageResult>) -> Faces {
    results
        .into_iter()
        .filter(|r| r.status != Status::Error)
        .map(|r| {
            let mut faces = r.faces.clone();
            faces.sort_by(|a, b| a.bbox[0].total_cmp(&b.bbox[0]));
            (
                file_name(&r.path),
                faces
                    .into_iter()
                    .map(|f| FaceAnswer {
                        bbox: f.bbox,
                        gender: f.gender,
                        p_male: f.p_male,
                        age: f.age,
                        uncertain: f.uncertain,
                        models: f.models.keys().cloned().collect(),
                    })
                    .collect(),
            )
        })
        .collect()
}

fn local_faces(photos: &Path) -> Faces {
    let (results, _) = common::engine()
        .classify_all(vec![photos.to_path_buf()])
        .expect("the local pipeline runs");
    faces_of(&results)
}

/// The fixtures, a group photo of all of them, and that group photo as a
/// 12-megapixel JPEG: decoded at a quarter of its size, where its faces
/// are too small for their inputs, so they are cut from a finer decode.
fn parity_photos() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::triton::copy_dir(&common::photos_dir(), dir.path());
    let group = common::group_photo(dir.path());
    let large = image::imageops::resize(
        &image::open(&group).unwrap().to_rgb8(),
        4032,
        3024,
        image::imageops::FilterType::Triangle,
    );
    large.save(dir.path().join("group_12mp.jpg")).unwrap();
    dir
}

/// The server runs the app's own decoding, alignment and postprocessing;
/// only the models run in another ONNX Runtime, whose float arithmetic may
/// differ in the last bits.
fn assert_parity(what: &str, local: &Faces, remote: &Faces) {
    assert_eq!(
        local.keys().collect::<Vec<_>>(),
        remote.keys().collect::<Vec<_>>(),
        "{what}: the same photos"
    );
    let mut compared = 0;
    for (photo, faces) in local {
        let other = &remote[photo];
        assert_eq!(faces.len(), other.len(), "{what}: faces in {photo}");
        for (local, remote) in faces.iter().zip(other) {
            let box_gap = local
                .bbox
                .iter()
                .zip(remote.bbox)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(
                box_gap <= 0.01,
                "{what}: box {:?} locally, {:?} remotely in {photo}",
                local.bbox,
                remote.bbox
            );
            assert_eq!(
                local.gender, remote.gender,
                "{what}: label of a face in {photo}"
            );
            assert!(
                (local.p_male - remote.p_male).abs() <= 1e-4,
                "{what}: p_male {} locally, {} remotely in {photo}",
                local.p_male,
                remote.p_male
            );
            let age = local.age.expect("a local age");
            assert_eq!(Some(age), remote.age, "{what}: age of a face in {photo}");
            assert_eq!(
                local.uncertain, remote.uncertain,
                "{what}: uncertain in {photo}"
            );
            assert_eq!(
                local.models, remote.models,
                "{what}: the models that answered in {photo}"
            );
            compared += 1;
        }
    }
    // The fixtures' faces, then each again in the group photo at two sizes.
    assert!(compared >= 24, "{what}: only {compared} faces compared");
}

/// The parity photos plus one damaged JPEG, in a folder of their own.
fn photos_with_a_broken_one(parity: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::triton::copy_dir(parity, dir.path());
    let mut broken = vec![0xFF, 0xD8, 0xFF, 0xE0];
    broken.extend(std::iter::repeat_n(0x42, 300));
    std::fs::write(dir.path().join("broken.jpg"), broken).unwrap();
    dir
}

/// `copies` copies of the fixtures (48 photos for 6), in a folder of their own.
fn fixture_copies(copies: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for copy in 0..copies {
        for entry in std::fs::read_dir(common::photos_dir()).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{copy}-{}", entry.file_name().to_string_lossy());
            std::fs::copy(entry.path(), dir.path().join(name)).unwrap();
        }
    }
    dir
}

/// Runs a command that must succeed, showing its stderr if it does not.
fn run_ok(command: &mut Command) -> std::process::Output {
    let out = command.output().expect("running a helper program");
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn genderlens(args: &[&str]) -> std::process::Output {
    common::genderlens_command()
        .args(args)
        .env_remove("GENDERLENS_REMOTE")
        .output()
        .expect("running genderlens")
}

#[test]
fn triton_http_and_grpc_agree_with_the_local_pipeline() {
    let triton = Triton::start(&["mismatched_model"]);
    let parity = parity_photos();
    let local = local_faces(parity.path());
    let photos = photos_with_a_broken_one(parity.path());

    for url in [triton.http_url(), triton.grpc_url()] {
        let results = run_batch(remote(&url), vec![photos.path().to_path_buf()]);
        assert_eq!(
            results.len(),
            local.len() + 1,
            "{url}: every photo answered"
        );
        let broken = results
            .iter()
            .find(|r| file_name(&r.path) == "broken.jpg")
            .unwrap();
        assert_eq!(broken.status, Status::Error, "{url}");
        let message = broken.error.as_deref().unwrap_or_default();
        assert!(
            message.contains("refused this image")
                && (message.contains("damaged") || message.contains("not a recognised image")),
            "{url}: a clear message for the damaged photo, got {message}"
        );
        let astronaut = results
            .iter()
            .find(|r| file_name(&r.path) == "astronaut.png")
            .unwrap();
        assert_eq!((astronaut.width, astronaut.height), (Some(512), Some(512)));
        assert_parity(&url, &local, &faces_of(&results));
    }

    // NVIDIA's own client gets the same answer as GenderLens's gRPC client.
    let astronaut = common::photo("astronaut.png");
    let ours = remote(&triton.grpc_url()).classify(
        0,
        astronaut.clone(),
        &Upload::file(&astronaut, u64::MAX).unwrap(),
    );
    let theirs = run_ok(
        Command::new(common::triton::python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/triton/crosscheck.py"))
            .args([
                "grpc",
                &format!("127.0.0.1:{}", triton.grpc),
                "gender_ensemble",
            ])
            .arg(&astronaut),
    );
    let theirs: Value = serde_json::from_slice(&theirs.stdout).expect("tritonclient printed JSON");
    assert_eq!(theirs["gender"], ours.gender.unwrap().as_str());
    let their_p = theirs["faces"][0]["p_male"].as_f64().unwrap() as f32;
    assert!(
        (their_p - ours.faces[0].p_male).abs() < 1e-6,
        "{their_p} vs {}",
        ours.faces[0].p_male
    );

    // The CLI: `classify --remote` writes the same results and says where they came from.
    let grpc = triton.grpc_url();
    let out = genderlens(&[
        "classify",
        "--remote",
        &grpc,
        "--format",
        "csv",
        astronaut.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.contains(&format!("remote:{grpc}/gender_ensemble")),
        "{csv}"
    );
    assert!(csv.contains("female"), "{csv}");

    // "Test connection": all three checks pass, and each failure is named.
    for url in [triton.http_url(), triton.grpc_url()] {
        let out = genderlens(&["doctor", "--remote", &url, "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let checks = report["checks"].as_array().unwrap();
        assert_eq!(checks.len(), 3);
        assert!(checks.iter().all(|c| c["ok"] == true), "{report}");
        // Each step's backend and devices, as its config declares them.
        let models = report["models"].as_array().expect("the models' setups");
        let names: Vec<&str> = models
            .iter()
            .map(|m| m["model"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "gender_ensemble",
                "gender_decode",
                "face_detector",
                "gender_align",
                "gender_model",
                "age_model",
                "faceapi_model",
                "gender_postprocess"
            ],
            "{report}"
        );
        assert_eq!(models[0]["backend"], "ensemble");
        assert_eq!(models[2]["backend"], "python", "{report}");
        assert_eq!(models[2]["instances"][0], "2 instances on CPU", "{report}");
        assert_eq!(models[2]["accelerators"].as_array().unwrap().len(), 0);
        let out = genderlens(&["doctor", "--remote", &url]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("face_detector: python, 2 instances on CPU, no accelerator"),
            "{text}"
        );

        let out = genderlens(&[
            "doctor",
            "--remote",
            &url,
            "--model-name",
            "mismatched_model",
        ]);
        assert!(!out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("ok   model ready"), "{text}");
        assert!(
            text.contains("FAIL model contract: the model has no IMAGE_BYTES input"),
            "{text}"
        );

        let out = genderlens(&["doctor", "--remote", &url, "--model-name", "no_such_model"]);
        assert!(!out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("FAIL model ready: model no_such_model is not ready")
                || text.contains("FAIL model ready: /v2/models/no_such_model is not ready"),
            "{text}"
        );
    }

    // A model with the wrong contract: each photo gets an error, nothing is misread.
    let wrong = Arc::new(
        Remote::connect(RemoteOptions {
            model: "mismatched_model".into(),
            ..options(&triton.grpc_url())
        })
        .unwrap(),
    );
    let results = run_batch(wrong, vec![common::photo("obama.jpg")]);
    assert_eq!(results[0].status, Status::Error);
    assert!(
        results[0]
            .error
            .as_deref()
            .unwrap()
            .contains("the model does not fit"),
        "{:?}",
        results[0].error
    );
    assert_eq!(results[0].error_kind, Some(genderlens::ErrorKind::Upstream));
}

#[test]
fn gateway_mode_in_process_and_forwarding_to_triton() {
    let triton = Triton::start(&[]);
    let parity = parity_photos();
    let local = local_faces(parity.path());
    let photos = parity.path().to_path_buf();

    let forwarding = common::serve::start_gateway(
        &[],
        &[
            ("TRITON_PROTOCOL", "grpc"),
            ("TRITON_GRPC_URL", &format!("127.0.0.1:{}", triton.grpc)),
            ("MODEL_NAME", "gender_ensemble"),
        ],
    );
    let health: Value = reqwest::blocking::get(format!("{}/health", forwarding.url))
        .unwrap()
        .json()
        .unwrap();
    assert!(
        health["backend"]["backend"]
            .as_str()
            .unwrap()
            .starts_with("remote:triton-grpc://127.0.0.1"),
        "{health}"
    );
    common::runtime();
    let in_process = common::serve::start_gateway(&["--provider", "cpu"], &[]);

    for gateway in [&forwarding, &in_process] {
        let results = run_batch(remote(&gateway.url), vec![photos.clone()]);
        assert!(
            results.iter().all(|r| r.status != Status::Error),
            "{results:?}"
        );
        assert_parity(&gateway.url, &local, &faces_of(&results));
        let out = genderlens(&["doctor", "--remote", &gateway.url]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    // A damaged upload through the forwarding gateway: 422 with Triton's reason.
    let form = reqwest::blocking::multipart::Form::new().part(
        "image",
        reqwest::blocking::multipart::Part::bytes(b"\xFF\xD8\xFF\xE0not really".to_vec())
            .file_name("x.jpg"),
    );
    let answer = reqwest::blocking::Client::new()
        .post(format!("{}/predict", forwarding.url))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(answer.status(), 422);

    // Triton gone: the forwarding gateway says so with 503, and /health turns unhealthy.
    drop(triton);
    let bytes = std::fs::read(common::photo("obama.jpg")).unwrap();
    let form = reqwest::blocking::multipart::Form::new().part(
        "image",
        reqwest::blocking::multipart::Part::bytes(bytes).file_name("obama.jpg"),
    );
    let answer = reqwest::blocking::Client::new()
        .post(format!("{}/predict", forwarding.url))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(answer.status(), 503);
    let health = reqwest::blocking::get(format!("{}/health", forwarding.url)).unwrap();
    assert_eq!(health.status(), 503);
}

#[test]
fn sixty_four_concurrent_requests_come_back_to_their_own_images() {
    let triton = Triton::start(&[]);
    let photos: Vec<(PathBuf, Vec<u8>, (u32, u32))> =
        ["astronaut.png", "obama.jpg", "biden.jpg", "camera.png"]
            .iter()
            .map(|name| {
                let path = common::photo(name);
                let bytes = std::fs::read(&path).unwrap();
                let size = image::image_dimensions(&path).unwrap();
                (path, bytes, size)
            })
            .collect();
    let photos = Arc::new(photos);
    for url in [triton.grpc_url(), triton.http_url()] {
        let remote = Arc::new(
            Remote::connect(RemoteOptions {
                max_in_flight: 16,
                timeout_secs: 120.0,
                ..options(&url)
            })
            .unwrap(),
        );
        let threads: Vec<_> = (0..64)
            .map(|i| {
                let (remote, photos) = (remote.clone(), photos.clone());
                std::thread::spawn(move || {
                    let (path, bytes, size) = &photos[i % photos.len()];
                    let upload = Upload::memory(bytes.clone(), u64::MAX).unwrap();
                    let result = remote.classify(i, path.clone(), &upload);
                    (i, result, *size)
                })
            })
            .collect();
        for thread in threads {
            let (i, result, (width, height)) = thread.join().unwrap();
            assert_eq!(
                result.status,
                Status::Ok,
                "{url} request {i}: {:?}",
                result.error
            );
            assert_eq!(
                (result.width, result.height),
                (Some(width), Some(height)),
                "{url} request {i} got another image's answer"
            );
            let expected = if i % photos.len() == 0 {
                Gender::Female
            } else {
                Gender::Male
            };
            assert_eq!(result.gender, Some(expected), "{url} request {i}");
        }
    }
    assert!(triton.inference_count("gender_ensemble") >= 128);
}

#[test]
fn server_killed_in_the_middle_of_a_batch() {
    let mut triton = Triton::start(&[]);
    let dir = fixture_copies(6);
    let remote = Arc::new(
        Remote::connect(RemoteOptions {
            max_in_flight: 2,
            retries: 1,
            timeout_secs: 10.0,
            ..options(&triton.grpc_url())
        })
        .unwrap(),
    );
    let handle = batch::start(remote, vec![dir.path().to_path_buf()], &defaults(), None);
    let mut results = Vec::new();
    let mut killed_at = None;
    let mut finished = false;
    for event in handle.events().iter() {
        match event {
            EngineEvent::Image(result) => {
                results.push(*result);
                if results.len() == 4 {
                    triton.kill();
                    killed_at = Some(Instant::now());
                }
            }
            EngineEvent::Finished(summary) => {
                finished = true;
                assert_eq!(summary.total, 48);
            }
            _ => {}
        }
    }
    assert!(finished);
    let waited = killed_at.expect("the server was killed").elapsed();
    assert!(
        waited < Duration::from_secs(90),
        "the batch hung for {waited:?}"
    );
    assert_eq!(results.len(), 48, "every photo has a result");
    let ok = results.iter().filter(|r| r.status == Status::Ok).count();
    let failed: Vec<_> = results
        .iter()
        .filter(|r| r.status == Status::Error)
        .collect();
    assert!(ok >= 4, "{ok} answered before the kill");
    assert!(failed.len() >= 40, "{} failed after the kill", failed.len());
    let message = failed.last().unwrap().error.as_deref().unwrap();
    assert!(message.contains("cannot reach the server"), "{message}");
}

#[test]
fn two_servers_share_a_batch_and_one_dying_loses_no_photo() {
    let mut first = Triton::start(&[]);
    let second = Triton::start(&[]);
    let dir = fixture_copies(6);
    // compose's proxy in front of both, over HTTP and gRPC: each takes photos.
    let proxy_dir = tempfile::tempdir().unwrap();
    let (config, http_port, grpc_port) = compose_proxy_config(&[&first, &second]);
    let proxy = common::nginx::Nginx::start(proxy_dir.path(), &config, &[http_port, grpc_port]);
    for protocol in ["triton-http", "triton-grpc"] {
        let port = if protocol == "triton-http" {
            http_port
        } else {
            grpc_port
        };
        let counts = || {
            (
                first.inference_count("gender_ensemble"),
                second.inference_count("gender_ensemble"),
            )
        };
        let before = counts();
        let through = remote(&format!("{protocol}://127.0.0.1:{port}"));
        let results = run_batch(through, vec![dir.path().to_path_buf()]);
        assert!(
            results.iter().all(|r| r.status != Status::Error),
            "{protocol} through the proxy: {:?}",
            results.iter().find(|r| r.status == Status::Error)
        );
        let after = counts();
        assert!(
            after.0 > before.0 && after.1 > before.1,
            "{protocol}: the proxy spread the photos over both servers: {before:?} → {after:?}"
        );
    }
    drop(proxy);

    // Without a proxy: tonic balances the two, and one dying loses no photo.
    let url = format!("{}, {}", first.grpc_url(), second.grpc_url());
    let out = genderlens(&["doctor", "--remote", &url]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("ok   server ready: 2 of 2 servers are ready"),
        "{text}"
    );
    let remote = Arc::new(
        Remote::connect(RemoteOptions {
            max_in_flight: 4,
            retries: 3,
            timeout_secs: 20.0,
            ..options(&url)
        })
        .unwrap(),
    );
    assert_eq!(
        remote.provenance(),
        format!(
            "remote:{},{}/gender_ensemble",
            first.grpc_url(),
            second.grpc_url()
        )
    );
    let mut before_the_kill = None;
    let results = batch_with_a_fault(remote, dir.path(), 16, || {
        before_the_kill = Some((
            first.inference_count("gender_ensemble"),
            second.inference_count("gender_ensemble"),
        ));
        first.kill();
    });
    let (first_share, second_share) = before_the_kill.expect("the first server was killed");
    assert!(
        first_share > 0 && second_share > 0,
        "both servers took photos before the kill: {first_share} and {second_share}"
    );
    assert_eq!(results.len(), 48, "every photo has a result");
    let failed = failed_photos(&results);
    assert!(
        failed.is_empty(),
        "the second server answers every photo the first did not: {failed:?}"
    );
    let second_total = second.inference_count("gender_ensemble");
    assert!(
        second_total > second_share,
        "the second server took the rest: {second_total} after {second_share}"
    );

    // "Test connection" names the server that is gone, and passes on the other.
    let out = genderlens(&["doctor", "--remote", &url]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "1 of 2 servers are ready; not answering, left out until they do: {}",
            first.grpc_url()
        )),
        "{text}"
    );
}

#[test]
fn a_frozen_server_holds_a_batch_up_for_seconds_and_loses_no_photo() {
    let first = Triton::start(&[]);
    let mut second = Triton::start(&[]);
    let dir = fixture_copies(4);
    let url = format!("{}, {}", first.grpc_url(), second.grpc_url());
    // The default timeout: a frozen server must not cost each photo 30 s.
    let remote = Arc::new(Remote::connect(options(&url)).unwrap());
    let mut frozen_at = None;
    let results = batch_with_a_fault(remote, dir.path(), 6, || {
        second.freeze();
        frozen_at = Some(Instant::now());
    });
    let waited = frozen_at.expect("the second server was frozen").elapsed();
    assert_eq!(results.len(), 32, "every photo has a result");
    let failed = failed_photos(&results);
    assert!(
        failed.is_empty(),
        "the photos caught on the frozen server went to the other: {failed:?}"
    );
    // Keep-alive gives up on the frozen server's connection in about 10 s
    // and its photos go to the other at once; each photo waiting out its
    // timeout (30 s) would take longer.
    assert!(
        waited < Duration::from_secs(25),
        "the batch waited {waited:?} for a frozen server"
    );
}

/// The batch's results, with `fault` done once `after` photos have answered.
fn batch_with_a_fault(
    remote: Arc<Remote>,
    photos: &Path,
    after: usize,
    fault: impl FnOnce(),
) -> Vec<ImageResult> {
    let handle = batch::start(remote, vec![photos.to_path_buf()], &defaults(), None);
    let mut fault = Some(fault);
    let mut results = Vec::new();
    for event in handle.events().iter() {
        if let EngineEvent::Image(result) = event {
            results.push(*result);
            if results.len() == after
                && let Some(fault) = fault.take()
            {
                fault();
            }
        }
    }
    results
}

/// Each failed photo and its message.
fn failed_photos(results: &[ImageResult]) -> Vec<(String, Option<String>)> {
    results
        .iter()
        .filter(|r| r.status == Status::Error)
        .map(|r| (file_name(&r.path), r.error.clone()))
        .collect()
}

/// `packaging/server/nginx/triton.conf` as compose runs it, with the two
/// servers in place of the `triton` replicas and free ports to listen on;
/// also the ports, HTTP then gRPC.
fn compose_proxy_config(servers: &[&Triton]) -> (String, u16, u16) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/server/nginx/triton.conf"),
    )
    .unwrap();
    let (http, grpc) = (common::triton::free_port(), common::triton::free_port());
    let each = |port: fn(&Triton) -> u16| {
        servers
            .iter()
            .map(|s| format!("server 127.0.0.1:{} max_fails=1 fail_timeout=10s;", port(s)))
            .collect::<Vec<_>>()
            .join("\n    ")
    };
    let config = text
        .replace(
            "server triton:8000 max_fails=1 fail_timeout=10s;",
            &each(|s| s.http),
        )
        .replace(
            "server triton:8001 max_fails=1 fail_timeout=10s;",
            &each(|s| s.grpc),
        )
        .replace("listen 8000;", &format!("listen 127.0.0.1:{http};"))
        .replace(
            "listen 8001 http2;",
            &format!("listen 127.0.0.1:{grpc} http2;"),
        );
    assert!(
        config.contains(&format!("127.0.0.1:{}", servers[1].grpc)),
        "the config names its replicas as the test expects:\n{config}"
    );
    (config, http, grpc)
}

/// A private CA and a certificate for localhost/127.0.0.1 signed by it.
fn test_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        // openssl is the Debian package of that name.
        run_ok(Command::new("openssl").args(args).current_dir(dir));
    };
    let new_ca = |subject: &str, name: &str| {
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        openssl(&[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", subject,
            "-keyout", &key, "-out", &pem,
        ]);
    };
    new_ca("/CN=GenderLens test CA", "ca");
    // Another CA, standing in for a trust store that does not know ours.
    new_ca("/CN=Some other CA", "other-ca");
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
    ]);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
        "-out",
        "cert.pem",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    )
}

#[test]
fn tls_to_triton_trusts_the_system_roots_and_nothing_else() {
    let triton = Triton::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_certificates(dir.path());
    let (https, grpcs) = (common::triton::free_port(), common::triton::free_port());
    let mut proxy = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/triton/tls_proxy.py"))
        .args([cert.to_str().unwrap(), key.to_str().unwrap()])
        .arg(format!("{https}:{}", triton.http))
        .arg(format!("{grpcs}:{}", triton.grpc))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("starting the TLS proxy");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(proxy.stdout.take().unwrap()),
        &mut ready,
    )
    .unwrap();
    assert_eq!(ready.trim(), "ready");

    let astronaut = common::photo("astronaut.png");
    for url in [
        format!("triton-https://localhost:{https}"),
        format!("triton-grpcs://localhost:{grpcs}"),
    ] {
        // SSL_CERT_FILE stands in for the system's trust store (rustls-native-certs reads it).
        let trusted = run_ok(
            common::genderlens_command()
                .args(["classify", "--remote", &url, "--format", "jsonl"])
                .arg(&astronaut)
                .env("SSL_CERT_FILE", &ca),
        );
        let result: Value = serde_json::from_slice(&trusted.stdout).unwrap();
        assert_eq!(result["gender"], "female", "{url}");

        let untrusted = common::genderlens_command()
            .args([
                "classify",
                "--remote",
                &url,
                "--retries",
                "0",
                "--format",
                "jsonl",
            ])
            .arg(&astronaut)
            .env("SSL_CERT_FILE", dir.path().join("other-ca.pem"))
            .output()
            .unwrap();
        assert!(
            !untrusted.status.success(),
            "{url}: an unknown certificate was accepted"
        );
        let result: Value = serde_json::from_slice(&untrusted.stdout).unwrap();
        assert_eq!(result["status"], "error", "{url}");
        let message = result["error"].as_str().unwrap();
        assert!(
            message.contains("invalid peer certificate"),
            "{url}: {message}"
        );
    }
    let _ = proxy.kill();
    let _ = proxy.wait();
}

#[test]
fn the_gpu_repository_renames_the_models_and_sets_tensorrt_up() {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/server/make_repository.py");
    let check = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/triton/check_gpu_repository.py");
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    for (precision, cache) in [("fp16", "/cache/tensorrt"), ("fp32", "/var/cache/engines")] {
        let repo = dir.path().join(precision);
        let mut make = Command::new(common::triton::python());
        make.arg(&script).args(["--variant", "gpu"]);
        if precision == "fp32" {
            make.args(["--precision", "fp32", "--engine-cache", cache]);
        }
        run_ok(make.arg(&repo));
        let config = std::fs::read_to_string(repo.join("face_detector/config.pbtxt")).unwrap();
        assert!(
            config.contains(r#"platform: "onnxruntime_onnx""#)
                && config.contains(r#"name: "tensorrt""#),
            "detection runs on the GPU: {config}"
        );
        // The renamed graphs answer exactly as the shipped models, and
        // TensorRT's profile, warm-up, precision and cache fit each model.
        let out = run_ok(
            Command::new(common::triton::python())
                .arg(&check)
                .arg(&repo)
                .arg(&models)
                .args([precision, cache]),
        );
        let report = String::from_utf8_lossy(&out.stdout);
        assert_eq!(report.lines().count(), 4, "{report}");

        // The ahead-of-time alternative builds each plan with the same profile.
        let mut plans = Command::new("bash");
        plans.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/server/build_plans.sh"));
        if precision == "fp32" {
            plans.arg("--fp32");
        }
        let out = run_ok(plans.arg("--dry-run").arg(&repo));
        let plan = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            plan.matches(r#"platform: "tensorrt_plan""#).count(),
            4,
            "{plan}"
        );
        for shapes in [
            "--minShapes=DETECTOR_INPUT:1x3x32x32",
            "--maxShapes=DETECTOR_INPUT:1x3x640x640",
            "--maxShapes=INPUT__0:512x3x32x32",
            "--optShapes=INPUT__0:32x3x64x64",
        ] {
            assert!(plan.contains(shapes), "{shapes}: {plan}");
        }
        assert_eq!(
            plan.matches("--fp16").count(),
            if precision == "fp16" { 4 } else { 0 }
        );
    }
}
