//! `genderlens serve`, the real binary on a loopback port with the real
//! models: the routes, clear 4xx answers for bad uploads, metrics, 64
//! concurrent requests matched to their photos, and a clean stop.

use crate::common;

use common::serve::Gateway;

use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, multipart};
use serde_json::Value;

fn start(extra: &[&str]) -> Gateway {
    common::runtime();
    let mut args = vec!["--provider", "cpu"];
    args.extend_from_slice(extra);
    common::serve::start_gateway(&args, &[])
}

fn upload(client: &Client, url: &str, field: &str, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = multipart::Form::new().part(
        field.to_string(),
        multipart::Part::bytes(bytes).file_name(name.to_string()),
    );
    let response = client
        .post(format!("{url}/predict"))
        .multipart(form)
        .send()
        .expect("the gateway answers");
    let status = response.status().as_u16();
    (status, response.json().expect("a JSON answer"))
}

fn photo_bytes(name: &str) -> Vec<u8> {
    std::fs::read(common::photo(name)).unwrap()
}

#[test]
fn predict_health_page_and_metrics() {
    let gateway = start(&[]);
    let client = Client::new();

    let health: Value = client
        .get(format!("{}/health", gateway.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["backend"]["backend"], "local");
    assert!(
        health["backend"]["detail"]
            .as_str()
            .unwrap()
            .contains("CPUExecutionProvider"),
        "{health}"
    );

    // The answer matches the local pipeline on the same photo.
    let (local, _) = common::engine()
        .classify_all(vec![common::photo("astronaut.png")])
        .unwrap();
    let (status, answer) = upload(
        &client,
        &gateway.url,
        "image",
        "astronaut.png",
        photo_bytes("astronaut.png"),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["gender"], "female");
    let score = answer["score"].as_f64().unwrap();
    assert!((score - f64::from(local[0].score.unwrap())).abs() < 1e-5);
    assert_eq!(answer["faces"].as_array().unwrap().len(), 1);
    // Age and every model's own answer, as a local result has them.
    let age = answer["age"].as_f64().expect("an age") as f32;
    assert_eq!(Some(age), local[0].age);
    assert_eq!(
        answer["models"],
        serde_json::json!(["age-v1", "faceapi-agegender", "gender-v1"])
    );
    assert_eq!(answer["faces"][0]["age"], answer["age"]);
    let faceapi = &answer["faces"][0]["models"]["faceapi-agegender"];
    assert!(faceapi["p_male"].as_f64().unwrap() < 0.5, "{answer}");
    assert_eq!(answer["status"], "ok");
    assert!(answer.get("index").is_none() && answer.get("path").is_none());

    let page = client.get(format!("{}/", gateway.url)).send().unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains(r#"name="image""#));

    // Bad uploads: each gets a clear 4xx answer and the server carries on.
    let (status, answer) = upload(
        &client,
        &gateway.url,
        "photo",
        "x.jpg",
        photo_bytes("obama.jpg"),
    );
    assert_eq!(status, 400);
    assert!(answer["error"].as_str().unwrap().contains("\"image\""));
    let (status, answer) = upload(
        &client,
        &gateway.url,
        "image",
        "notes.txt",
        b"just text".to_vec(),
    );
    assert_eq!(status, 415);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("not a recognised image format")
    );
    let mut truncated = photo_bytes("obama.jpg");
    truncated.truncate(truncated.len() / 2);
    let (status, answer) = upload(&client, &gateway.url, "image", "half.jpg", truncated);
    assert_eq!(status, 422);
    assert!(
        answer["error"].as_str().unwrap().contains("truncated"),
        "{answer}"
    );
    let (status, answer) = upload(
        &client,
        &gateway.url,
        "image",
        "camera.png",
        photo_bytes("camera.png"),
    );
    assert_eq!(status, 200, "{answer}");

    // Unknown routes and methods: JSON errors too.
    let response = client.get(format!("{}/nope", gateway.url)).send().unwrap();
    assert_eq!(response.status(), 404);
    let answer: Value = response.json().expect("a JSON 404");
    assert!(
        answer["error"].as_str().unwrap().contains("POST /predict"),
        "{answer}"
    );
    let response = client
        .get(format!("{}/predict", gateway.url))
        .send()
        .unwrap();
    assert_eq!(response.status(), 405);
    let answer: Value = response.json().expect("a JSON 405");
    assert!(answer["error"].as_str().is_some(), "{answer}");

    // Not a multipart form at all: still a JSON error, not plain text.
    let response = client
        .post(format!("{}/predict", gateway.url))
        .header("content-type", "application/json")
        .body(r#"{"image": "not like this"}"#)
        .send()
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().expect("a JSON error");
    assert!(
        answer["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{answer}"
    );

    let metrics = client
        .get(format!("{}/metrics", gateway.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains(r#"genderlens_gateway_requests_total{route="/predict",status="200"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"genderlens_gateway_errors_total{route="/predict",status="415"} 1"#)
    );
    assert!(metrics.contains("genderlens_gateway_request_duration_seconds_bucket"));
}

#[test]
fn oversized_uploads_are_refused_with_413() {
    let gateway = start(&["--max-upload-mb", "1"]);
    let client = Client::new();
    let mut big = photo_bytes("obama.jpg");
    big.resize(3 * 1024 * 1024, 0);
    let (status, answer) = upload(&client, &gateway.url, "image", "big.jpg", big);
    assert_eq!(status, 413, "{answer}");
    assert!(answer["error"].as_str().is_some());
    let (status, _) = upload(
        &client,
        &gateway.url,
        "image",
        "obama.jpg",
        photo_bytes("obama.jpg"),
    );
    assert_eq!(status, 200);
}

#[test]
fn sixty_four_concurrent_requests_each_get_their_own_answer() {
    let gateway = start(&[]);
    let expected = [
        ("astronaut.png", "female"),
        ("biden.jpg", "male"),
        ("obama.jpg", "male"),
        ("obama2.jpg", "male"),
    ];
    let client = Client::new();
    let answers: Vec<(usize, u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..64)
            .map(|n| {
                let (client, url) = (client.clone(), gateway.url.clone());
                scope.spawn(move || {
                    let (name, _) = expected[n % expected.len()];
                    let (status, answer) = upload(&client, &url, "image", name, photo_bytes(name));
                    (n, status, answer)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (n, status, answer) in answers {
        let (name, gender) = expected[n % expected.len()];
        assert_eq!(status, 200, "request {n} ({name}): {answer}");
        assert_eq!(answer["gender"], gender, "request {n} ({name})");
        let width = answer["width"].as_u64().unwrap();
        let actual = image::image_dimensions(common::photo(name)).unwrap().0;
        assert_eq!(
            width,
            u64::from(actual),
            "request {n} got another photo's answer"
        );
    }
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_gateway_cleanly() {
    let mut gateway = start(&[]);
    terminate(&gateway);
    let status = wait_for_exit(&mut gateway, Duration::from_secs(30));
    assert!(status.success(), "{status}");
}

/// A models folder like the shipped one, whose classifier is `classifier`
/// (with the manifest's sha256 updated to match).
fn models_with_classifier(classifier: &std::path::Path) -> tempfile::TempDir {
    let shipped = common::bundle().dir.clone();
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&shipped).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let bytes = std::fs::read(classifier).unwrap();
    std::fs::write(dir.path().join("gender-v1.onnx"), &bytes).unwrap();
    let manifest_path = dir.path().join("manifest.json");
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["classifier"]["sha256"] = genderlens::manifest::sha256_hex(&bytes).into();
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    dir
}

/// Server faults are the server's: a classifier that fails at run time, or
/// answers NaN, gets a 500 for a photo with a face, never a 422; a photo
/// without a face needs no classifier and still gets its answer, and a
/// damaged upload is still the client's 422.
#[test]
fn a_model_failure_on_a_photo_is_a_500_not_a_422() {
    let faulty = tempfile::tempdir().unwrap();
    let status = Command::new(common::triton::python())
        .arg(common::fixtures().join("../triton/faulty_classifier.py"))
        .arg(faulty.path())
        .status()
        .expect("running faulty_classifier.py");
    assert!(status.success());
    for (model, expected) in [
        ("fails.onnx", "running the gender classifier"),
        ("nan.onnx", "not a probability"),
    ] {
        let models = models_with_classifier(&faulty.path().join(model));
        let gateway = start(&["--models", models.path().to_str().unwrap()]);
        let client = Client::new();
        let (status, answer) = upload(
            &client,
            &gateway.url,
            "image",
            "obama.jpg",
            photo_bytes("obama.jpg"),
        );
        assert_eq!(status, 500, "{model}: {answer}");
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{model}: {answer}");

        let mut broken = photo_bytes("obama.jpg");
        broken.truncate(broken.len() / 3);
        let (status, answer) = upload(&client, &gateway.url, "image", "broken.jpg", broken);
        assert_eq!(
            status, 422,
            "{model}: a damaged upload is the client's fault: {answer}"
        );

        let blank = {
            let mut png = Vec::new();
            image::RgbImage::from_pixel(200, 200, image::Rgb([200, 200, 200]))
                .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .unwrap();
            png
        };
        let (status, answer) = upload(&client, &gateway.url, "image", "blank.png", blank);
        assert_eq!(
            (status, answer["status"].as_str()),
            (200, Some("no_face")),
            "{model}: {answer}"
        );
    }
}

/// A classifier that cannot even load: `/health` says why within seconds,
/// before any upload arrives, and an upload gets `503` with the same reason.
#[test]
fn a_model_that_cannot_load_is_reported_by_health_at_once() {
    common::runtime();
    let garbage = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(garbage.path(), b"this is not an ONNX model").unwrap();
    let models = models_with_classifier(garbage.path());
    let gateway = common::serve::spawn_gateway(
        &[
            "--provider",
            "cpu",
            "--models",
            models.path().to_str().unwrap(),
        ],
        &[],
    );
    let client = Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let health = loop {
        let response = client
            .get(format!("{}/health", gateway.url))
            .send()
            .unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().unwrap();
        let detail = body["backend"]["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if detail.contains("could not start") {
            assert_eq!(status, 503, "{body}");
            break body;
        }
        assert!(Instant::now() < deadline, "/health never said why: {body}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(health["status"], "unavailable");
    let (status, answer) = upload(
        &client,
        &gateway.url,
        "image",
        "obama.jpg",
        photo_bytes("obama.jpg"),
    );
    assert_eq!(status, 503, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("could not start"),
        "{answer}"
    );
}

/// A raw TCP connection to the gateway, with a read deadline.
fn connect(gateway: &Gateway) -> std::net::TcpStream {
    let address = gateway.url.trim_start_matches("http://");
    let stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// What the server sends before it closes the connection (empty when it
/// closes without a word); panics if it neither answers nor closes in 10 s.
fn read_until_closed(stream: &mut std::net::TcpStream) -> String {
    try_read_until_closed(stream)
        .unwrap_or_else(|e| panic!("the gateway kept the connection open: {e}"))
}

/// The same, with the read timeout as an error rather than a panic.
fn try_read_until_closed(stream: &mut std::net::TcpStream) -> std::io::Result<String> {
    use std::io::Read;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(e),
        }
    }
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// Sends the gateway SIGTERM, as a service manager stops it.
fn terminate(gateway: &Gateway) {
    let pid = gateway.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
}

fn wait_for_exit(gateway: &mut Gateway, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = gateway.child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the gateway did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Clients that send too slowly are cut off: a request head that never
/// ends (slowloris) closes its connection after --header-timeout, a body
/// that stalls gets a 408, others are served meanwhile, and SIGTERM
/// completes within --grace even with a half-sent upload open.
#[test]
fn slow_clients_cannot_hold_the_gateway_or_its_stop() {
    use std::io::Write;
    let gateway = start(&["--header-timeout", "1", "--body-timeout", "2"]);
    let mut slow: Vec<_> = (0..50)
        .map(|_| {
            let mut stream = connect(&gateway);
            stream
                .write_all(b"POST /predict HTTP/1.1\r\nhost: x\r\nx-slow: ")
                .unwrap();
            stream
        })
        .collect();
    let client = Client::new();
    let health = client
        .get(format!("{}/health", gateway.url))
        .send()
        .unwrap();
    assert_eq!(health.status(), 200, "served while 50 slow clients wait");
    let started = Instant::now();
    for stream in &mut slow {
        let answer = read_until_closed(stream);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );

    let mut stalled = connect(&gateway);
    stalled
        .write_all(
            b"POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=b\r\n\
              content-length: 100000\r\n\r\n--b\r\ncontent-disposition: form-data; name=\"image\"; \
              filename=\"a.jpg\"\r\n\r\n\xff\xd8\xff",
        )
        .unwrap();
    let answer = read_until_closed(&mut stalled);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains(r#""error":"the upload did not arrive"#),
        "{answer}"
    );
    drop(gateway);

    let mut gateway = start(&["--body-timeout", "120", "--grace", "2"]);
    let mut half_sent = connect(&gateway);
    half_sent
        .write_all(
            b"POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=b\r\n\
              content-length: 100000\r\n\r\n--b\r\n",
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    terminate(&gateway);
    let status = wait_for_exit(&mut gateway, Duration::from_secs(15));
    assert!(status.success(), "{status}");
}

/// Over --max-connections a connection gets a JSON 503 at once; over
/// --max-pending an upload gets a JSON 503 with Retry-After.
#[test]
fn connection_and_upload_caps_answer_503() {
    let gateway = start(&["--max-connections", "3", "--header-timeout", "30"]);
    let idle: Vec<_> = (0..3).map(|_| connect(&gateway)).collect();
    // On a busy machine the gateway may take the next connection before it
    // has accepted all three idle ones; that one then waits for its headers
    // like any other. Another try, once they are in, is over the cap.
    let answer = (0..10)
        .find_map(|_| {
            let mut fourth = connect(&gateway);
            fourth
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            try_read_until_closed(&mut fourth).ok()
        })
        .expect("a connection over the cap is answered and closed");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(
        answer.contains(r#"{"error":"too many connections"#),
        "{answer}"
    );
    drop(idle);
    drop(gateway);

    let gateway = start(&["--max-pending", "1"]);
    let url = gateway.url.clone();
    let answers: Vec<(u16, Option<String>, Value)> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let url = url.clone();
                scope.spawn(move || {
                    let form = multipart::Form::new().part(
                        "image",
                        multipart::Part::bytes(photo_bytes("obama3.jpg")).file_name("o.jpg"),
                    );
                    let response = Client::new()
                        .post(format!("{url}/predict"))
                        .multipart(form)
                        .send()
                        .unwrap();
                    let status = response.status().as_u16();
                    let retry = response
                        .headers()
                        .get("retry-after")
                        .map(|v| v.to_str().unwrap().to_string());
                    (status, retry, response.json().unwrap())
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let served = answers.iter().filter(|(s, _, _)| *s == 200).count();
    let refused: Vec<_> = answers.iter().filter(|(s, _, _)| *s == 503).collect();
    assert!(served >= 1, "{answers:?}");
    assert!(
        !refused.is_empty(),
        "eight at once, one at a time: {answers:?}"
    );
    assert_eq!(served + refused.len(), 8, "{answers:?}");
    for (_, retry, body) in refused {
        assert_eq!(retry.as_deref(), Some("1"));
        assert!(
            body["error"].as_str().unwrap().contains("try again"),
            "{body}"
        );
    }
}

/// A memory figure of a running process from `/proc`, in bytes: `VmHWM`
/// (its peak so far) or `VmRSS` (resident now).
fn memory_of(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap();
    kib * 1024
}

fn peak_rss(pid: u32) -> u64 {
    memory_of(pid, "VmHWM:")
}

fn rss(pid: u32) -> u64 {
    memory_of(pid, "VmRSS:")
}

/// `side`×`side` pixels of noise: an RGB image that does not compress.
fn noise(side: u32, mut state: u64) -> image::RgbImage {
    let pixels: Vec<u8> = (0..side * side * 3)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    image::RgbImage::from_raw(side, side, pixels).unwrap()
}

/// 64 uploads of an 18.75 MB photo at once, with the default limits: each is
/// answered, and the gateway stays under 1 GB, because uploads wait for
/// their share of --max-upload-memory-mb before their bodies are read.
#[test]
fn many_large_uploads_at_once_keep_the_gateway_under_a_gigabyte() {
    // 2500×2500 pixels of noise: a PNG that does not compress, 18.75 MB.
    let mut upload = Vec::new();
    noise(2_500, 0x2545_f491_4f6c_dd1d)
        .write_to(
            &mut std::io::Cursor::new(&mut upload),
            image::ImageFormat::Png,
        )
        .unwrap();
    assert!(upload.len() > 17 << 20, "{} bytes", upload.len());

    let gateway = start(&[]);
    // One photo first: the pipeline that serves uploads is loaded then.
    let (status, _) = self::upload(
        &Client::new(),
        &gateway.url,
        "image",
        "obama.jpg",
        photo_bytes("obama.jpg"),
    );
    assert_eq!(status, 200);
    let before = rss(gateway.child.id());
    let url = gateway.url.clone();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..64)
            .map(|n| {
                let (url, upload) = (&url, &upload);
                scope.spawn(move || {
                    let form = multipart::Form::new().part(
                        "image",
                        multipart::Part::bytes(upload.clone()).file_name(format!("{n}.png")),
                    );
                    Client::builder()
                        .timeout(Duration::from_secs(300))
                        .build()
                        .unwrap()
                        .post(format!("{url}/predict"))
                        .multipart(form)
                        .send()
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0)
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let peak = peak_rss(gateway.child.id());
    eprintln!(
        "64 uploads of {} MB: gateway peak {} MB (at rest {} MB)",
        upload.len() >> 20,
        peak >> 20,
        before >> 20
    );
    assert!(peak < 1 << 30, "the gateway peaked at {} MB", peak >> 20);
    // Once idle, it gives the burst's memory back instead of keeping it
    // (kept, it stays near the peak; some of it is ONNX Runtime's arena).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut resident = rss(gateway.child.id());
    while resident > before + (250 << 20) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        resident = rss(gateway.child.id());
    }
    eprintln!("idle again: {} MB resident", resident >> 20);
    assert!(
        resident <= before + (250 << 20),
        "after the burst the gateway kept {} MB (at rest before it: {} MB, peak {} MB)",
        resident >> 20,
        before >> 20,
        peak >> 20
    );
}

/// A 100 MB photo sent to a gateway streams from disk as the request is
/// written: the client's peak memory stays near what a small photo costs it,
/// where holding the file (let alone copying it) would add 100 MB or more.
#[test]
fn a_large_photo_streams_to_the_server_instead_of_being_held_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    // 5800×5800 pixels of noise: a PNG that does not compress, about 100 MB.
    let large = dir.path().join("large.png");
    noise(5_800, 0x9e37_79b9_7f4a_7c15).save(&large).unwrap();
    let size = std::fs::metadata(&large).unwrap().len();
    assert!(size > 95 << 20, "{size} bytes");

    let gateway = start(&["--max-upload-mb", "256", "--max-upload-memory-mb", "512"]);
    let classify = |photo: &std::path::Path, out: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_genderlens"));
        command
            .args(["classify", "--format", "jsonl", "--remote", &gateway.url])
            .args([
                "--max-file-mb",
                "512",
                "--remote-timeout",
                "300",
                "--output",
            ])
            .arg(dir.path().join(out))
            .arg(photo);
        let (status, stderr, peak) = common::run_measuring_peak_rss(command);
        assert!(status.success(), "{stderr}");
        let result: Value = serde_json::from_str(
            std::fs::read_to_string(dir.path().join(out))
                .unwrap()
                .trim(),
        )
        .unwrap();
        assert_ne!(result["status"], "error", "{result}");
        peak
    };
    let small_peak = classify(&common::photo("obama.jpg"), "small.jsonl");
    let large_peak = classify(&large, "large.jsonl");
    eprintln!(
        "client peak: {} MB for a small photo, {} MB for a {} MB one",
        small_peak >> 20,
        large_peak >> 20,
        size >> 20
    );
    assert!(
        large_peak < small_peak + (40 << 20),
        "sending a {} MB photo took the client from {} MB to {} MB",
        size >> 20,
        small_peak >> 20,
        large_peak >> 20
    );
}

#[test]
fn each_request_is_logged_once_and_its_id_travels_to_the_next_server() {
    // A gateway forwarding to another: the id a client sends, or the one the
    // first gateway makes up, reaches the second one's log.
    let inner = start(&[]);
    let outer = common::serve::start_gateway(&["--remote", &inner.url], &[]);
    let client = Client::new();
    let send = |id: Option<&str>| {
        let form = multipart::Form::new().part(
            "image",
            multipart::Part::bytes(photo_bytes("astronaut.png")).file_name("astronaut.png"),
        );
        let mut request = client
            .post(format!("{}/predict", outer.url))
            .multipart(form);
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        let response = request.send().unwrap();
        assert_eq!(response.status(), 200);
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string()
    };

    assert_eq!(send(Some("album-7/photo-3")), "album-7/photo-3");
    let line = |gateway: &Gateway, id: &str| {
        let wanted = format!("request_id={id}");
        gateway.wait_for_log(|l| l.ends_with(&wanted))
    };
    for gateway in [&outer, &inner] {
        let logged = line(gateway, "album-7/photo-3");
        for field in [
            "method=POST",
            "route=/predict",
            "status=200",
            " ms=",
            "faces=1",
        ] {
            assert!(logged.contains(field), "{field} missing from: {logged}");
        }
        assert!(
            !logged.contains('\u{1b}'),
            "colour codes in a log file: {logged:?}"
        );
    }

    let made_up = send(None);
    assert!(made_up.starts_with("gl-"), "{made_up}");
    line(&inner, &made_up);

    // An unusable id is replaced rather than written into the log as is.
    let replaced = send(Some("two words"));
    assert!(replaced.starts_with("gl-"), "{replaced}");

    // A miss is logged too, with no faces.
    let missing = client.get(format!("{}/nowhere", outer.url)).send().unwrap();
    let id = missing.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let logged = line(&outer, &id);
    assert!(
        logged.contains("status=404") && logged.contains("faces=-"),
        "{logged}"
    );
    let posts = outer
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("route=/predict"))
        .count();
    assert_eq!(posts, 3, "one line per request");
}
