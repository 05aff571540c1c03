//! What a network does to remote mode, with small real TCP servers standing
//! in for a broken one: nothing listening, a server that never answers, one
//! that answers garbage, and HTTP errors. Every photo gets its own clear
//! error, the batch goes on, and nothing waits past its timeout.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use genderlens::remote::{Remote, RemoteOptions, Upload, batch};

/// The settings a batch lists and reads files under: the defaults.
fn defaults() -> genderlens::EngineSettings {
    genderlens::EngineSettings::default()
}
use genderlens::{ErrorKind, ImageResult, Status};

const PROTOCOLS: [&str; 3] = ["triton-grpc", "triton-http", "http"];

fn photos() -> Vec<PathBuf> {
    ["astronaut.png", "obama.jpg", "biden.jpg"]
        .iter()
        .map(|n| common::photo(n))
        .collect()
}

fn classify(url: &str, timeout_secs: f64, retries: u32) -> (Vec<ImageResult>, Duration) {
    let remote = Remote::connect(RemoteOptions {
        url: url.to_string(),
        timeout_secs,
        retries,
        max_in_flight: 2,
        ..RemoteOptions::default()
    })
    .expect("a valid remote");
    let started = Instant::now();
    let results =
        common::batch_results(batch::start(Arc::new(remote), photos(), &defaults(), None));
    (results, started.elapsed())
}

/// Every photo failed with `expected` in its message, and as the kind of
/// failure it is.
fn assert_all_failed(what: &str, results: &[ImageResult], expected: &str, kind: ErrorKind) {
    assert_eq!(results.len(), 3, "{what}: every photo reported");
    for result in results {
        assert_eq!(result.status, Status::Error, "{what}");
        let message = result.error.as_deref().unwrap_or_default();
        assert!(
            message.contains(expected),
            "{what}: expected {expected:?}, got {message}"
        );
        assert_eq!(result.error_kind, Some(kind), "{what}: {message}");
    }
}

fn listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// A server that accepts every connection and keeps it open without a word.
fn silent_server() -> u16 {
    let (listener, port) = listener();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    port
}

#[test]
fn nothing_listening_fails_each_photo_quickly() {
    let (listener, port) = listener();
    drop(listener);
    for scheme in PROTOCOLS {
        let url = format!("{scheme}://127.0.0.1:{port}");
        let (results, took) = classify(&url, 30.0, 1);
        assert_all_failed(
            &url,
            &results,
            "cannot reach the server",
            ErrorKind::Upstream,
        );
        assert!(took < Duration::from_secs(20), "{url}: took {took:?}");
    }
    let out = common::genderlens_command()
        .args([
            "doctor",
            "--remote",
            &format!("triton-grpc://127.0.0.1:{port}"),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL server ready: cannot reach the server"),
        "{text}"
    );
    assert!(text.contains("FAIL model ready: not checked"), "{text}");
}

#[test]
fn a_server_that_never_answers_times_out_per_photo() {
    let port = silent_server();
    for scheme in PROTOCOLS {
        let url = format!("{scheme}://127.0.0.1:{port}");
        let (results, took) = classify(&url, 1.0, 2);
        assert_all_failed(
            &url,
            &results,
            "no answer from the server within 1s",
            ErrorKind::Upstream,
        );
        // Three photos, two at a time, one second each, no retries on a timeout.
        assert!(took < Duration::from_secs(8), "{url}: took {took:?}");
    }
}

/// One photo at a time against a server that accepts and never answers:
/// each photo costs one timeout, not one for the model's metadata and
/// another for the photo.
#[test]
fn a_hung_server_costs_one_timeout_per_photo() {
    let port = silent_server();
    for scheme in PROTOCOLS {
        let url = format!("{scheme}://127.0.0.1:{port}");
        let remote = Remote::connect(RemoteOptions {
            url: url.clone(),
            timeout_secs: 1.0,
            retries: 2,
            max_in_flight: 1,
            ..RemoteOptions::default()
        })
        .unwrap();
        let started = Instant::now();
        let results =
            common::batch_results(batch::start(Arc::new(remote), photos(), &defaults(), None));
        let took = started.elapsed();
        assert_all_failed(
            &url,
            &results,
            "no answer from the server within 1s",
            ErrorKind::Upstream,
        );
        // Three photos in turn: three seconds; two timeouts each would be six.
        assert!(
            took >= Duration::from_millis(2900) && took < Duration::from_millis(5500),
            "{url}: took {took:?}"
        );
    }
}

/// An answer that arrives a byte at a time, each in good time, never ends
/// the request timeout's count: the photo fails when its timeout is up.
#[test]
fn a_dripping_answer_times_out_like_a_silent_one() {
    let port = hostile_http_server(drip);
    for scheme in ["triton-http", "http"] {
        let url = format!("{scheme}://127.0.0.1:{port}");
        let (results, took) = classify(&url, 1.0, 0);
        assert_all_failed(
            &url,
            &results,
            "no answer from the server within 1s",
            ErrorKind::Upstream,
        );
        // Three photos, two at a time, a second each.
        assert!(took < Duration::from_secs(5), "{url}: took {took:?}");
    }
}

#[test]
fn a_server_that_answers_garbage_is_an_error_per_photo() {
    let (listener, port) = listener();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            let _ = stream.write_all(b"\x00\x17garbage that is neither HTTP nor HTTP/2\r\n\r\n");
            let _ = stream.flush();
        }
    });
    for scheme in PROTOCOLS {
        let url = format!("{scheme}://127.0.0.1:{port}");
        let (results, took) = classify(&url, 5.0, 0);
        assert_all_failed(&url, &results, GARBAGE, ErrorKind::Upstream);
        assert!(took < Duration::from_secs(20), "{url}: took {took:?}");
    }
}

/// What a reply that is neither HTTP nor HTTP/2 is called, over every protocol.
const GARBAGE: &str = "the server's answer makes no sense";

/// What a test server saw: how many requests, and their Authorization headers.
#[derive(Default)]
struct Seen {
    requests: AtomicUsize,
    authorization: Mutex<Vec<String>>,
}

/// Answers every HTTP request with `status` and a JSON error.
fn http_server(status: &'static str) -> (u16, Arc<Seen>) {
    let (listener, port) = listener();
    let seen = Arc::new(Seen::default());
    let shared = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let seen = shared.clone();
            std::thread::spawn(move || answer_requests(stream, status, &seen));
        }
    });
    (port, seen)
}

/// Reads one HTTP request (head and body), noting its Authorization header;
/// false once the client has gone.
fn read_request(reader: &mut BufReader<TcpStream>, seen: &Seen) -> bool {
    let mut length = 0usize;
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return false;
    }
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 {
            return false;
        }
        if header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
            if name.eq_ignore_ascii_case("authorization") {
                seen.authorization
                    .lock()
                    .unwrap()
                    .push(value.trim().to_string());
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).is_ok()
}

fn answer_requests(stream: TcpStream, status: &str, seen: &Seen) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        if !read_request(&mut reader, seen) {
            return;
        }
        seen.requests.fetch_add(1, Ordering::SeqCst);
        let body = format!(r#"{{"error":"the test server says {status}"}}"#);
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn http_errors_are_reported_and_only_503_is_retried() {
    for (status, expected, kind, attempts) in [
        (
            "400 Bad Request",
            "refused this image: HTTP 400",
            ErrorKind::Input,
            1,
        ),
        (
            "404 Not Found",
            "denied the request: HTTP 404",
            ErrorKind::Upstream,
            1,
        ),
        (
            "500 Internal Server Error",
            "failed on this image: HTTP 500",
            ErrorKind::Upstream,
            1,
        ),
        (
            "503 Service Unavailable",
            "not ready: the test server says 503",
            ErrorKind::Upstream,
            3,
        ),
    ] {
        for scheme in ["triton-http", "http"] {
            let (port, seen) = http_server(status);
            let url = format!("{scheme}://127.0.0.1:{port}");
            let (results, _) = classify(&url, 10.0, 2);
            assert_all_failed(&url, &results, expected, kind);
            assert!(
                results[0]
                    .error
                    .as_deref()
                    .unwrap()
                    .contains("the test server says"),
                "the server's own message is kept: {:?}",
                results[0].error
            );
            // Triton's HTTP client asks for the model's metadata first; while
            // that fails, no image is sent, so one request per attempt.
            let requests = seen.requests.load(Ordering::SeqCst);
            let per_photo = attempts;
            assert!(
                requests == 3 * per_photo,
                "{url} {status}: {requests} requests for 3 photos, expected {}",
                3 * per_photo
            );
        }
    }
}

#[test]
fn the_bearer_token_goes_with_every_request() {
    for scheme in ["triton-http", "http"] {
        let (port, seen) = http_server("400 Bad Request");
        let remote = Remote::connect(RemoteOptions {
            url: format!("{scheme}://127.0.0.1:{port}"),
            token: Some("s3cret-token".into()),
            ..RemoteOptions::default()
        })
        .unwrap();
        let photo = common::photo("obama.jpg");
        let result = remote.classify(0, photo.clone(), &Upload::file(&photo, u64::MAX).unwrap());
        assert_eq!(result.status, Status::Error);
        let sent = seen.authorization.lock().unwrap().clone();
        assert!(!sent.is_empty(), "{scheme}: no Authorization header");
        assert!(
            sent.iter().all(|h| h == "Bearer s3cret-token"),
            "{scheme}: {sent:?}"
        );
    }
}

/// A real gRPC server (Triton's service definition, from tritonclient) that
/// records the `authorization` metadata of every call it gets.
struct TokenServer {
    child: std::process::Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl TokenServer {
    fn start() -> Self {
        Self::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Self {
        use std::io::BufRead;
        let log = tempfile::NamedTempFile::new().unwrap();
        let script = common::fixtures().join("../triton/grpc_token_server.py");
        let mut child = std::process::Command::new(common::triton::python())
            .arg(&script)
            .arg(log.path())
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("starting the gRPC token server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the gRPC token server did not start: {line:?}"));
        Self { child, port, log }
    }

    fn tokens_seen(&self) -> Vec<String> {
        std::fs::read_to_string(self.log.path())
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_bearer_token_reaches_a_grpc_server() {
    for (token, answer) in [
        (Some("s3cret-token"), "token accepted"),
        (None, "no valid token"),
    ] {
        let server = TokenServer::start();
        let remote = Remote::connect(RemoteOptions {
            url: format!("triton-grpc://127.0.0.1:{}", server.port),
            token: token.map(str::to_string),
            retries: 0,
            ..RemoteOptions::default()
        })
        .unwrap();
        let photo = common::photo("obama.jpg");
        let result = remote.classify(0, photo.clone(), &Upload::file(&photo, u64::MAX).unwrap());
        let message = result.error.unwrap_or_default();
        assert!(message.contains(answer), "{token:?}: {message}");
        let seen = server.tokens_seen();
        assert!(!seen.is_empty(), "{token:?}: the server got no call");
        let expected = token.map_or(String::new(), |t| format!("Bearer {t}"));
        assert!(seen.iter().all(|t| *t == expected), "{token:?}: {seen:?}");
    }
}

/// Serves one kind of hostile HTTP answer to every request, forever.
fn hostile_http_server(answer: fn(&mut TcpStream)) -> u16 {
    let (listener, port) = listener();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            std::thread::spawn(move || {
                // Take the whole request, then misbehave.
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if read_request(&mut reader, &Seen::default()) {
                    answer(&mut stream);
                }
            });
        }
    });
    port
}

/// An answer that claims 2 GB, then stops sending.
fn huge_content_length(stream: &mut TcpStream) {
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2147483648\r\n\r\n{",
    );
    std::thread::sleep(Duration::from_secs(30));
}

/// An answer that promises 100 kB, then sends a byte every 100 ms.
fn drip(stream: &mut TcpStream) {
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n",
    );
    while stream.write_all(b" ").and_then(|()| stream.flush()).is_ok() {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An answer whose chunked body never ends.
fn endless_body(stream: &mut TcpStream) {
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    let chunk = vec![b' '; 1 << 20];
    let framed = [
        format!("{:x}\r\n", chunk.len()).into_bytes(),
        chunk,
        b"\r\n".to_vec(),
    ]
    .concat();
    while stream.write_all(&framed).is_ok() {}
}

/// The peak memory of `genderlens classify --remote URL` on three photos.
fn classify_remote_peak_rss(url: &str) -> (std::process::ExitStatus, String, u64) {
    let mut command = common::genderlens_command();
    command
        .args([
            "classify",
            "--remote",
            url,
            "--retries",
            "0",
            "--remote-timeout",
            "20",
        ])
        .args(photos());
    common::run_measuring_peak_rss(command)
}

/// Replies that are too big, announced or streamed, are refused at the
/// client's own limit: each photo gets an upstream error, and memory stays
/// small (an unbounded read of these replies takes gigabytes).
#[test]
fn oversized_replies_are_refused_and_memory_stays_bounded() {
    for (what, answer) in [
        (
            "a 2 GB content-length",
            huge_content_length as fn(&mut TcpStream),
        ),
        ("an endless body", endless_body),
    ] {
        let port = hostile_http_server(answer);
        for scheme in ["triton-http", "http"] {
            let url = format!("{scheme}://127.0.0.1:{port}");
            let (results, _) = classify(&url, 20.0, 0);
            assert_all_failed(
                &format!("{what} over {url}"),
                &results,
                "this client accepts",
                ErrorKind::Upstream,
            );
            let (status, stderr, peak) = classify_remote_peak_rss(&url);
            assert!(!status.success(), "{stderr}");
            assert!(
                stderr.contains("this client accepts"),
                "{what} over {url}: {stderr}"
            );
            assert!(
                peak < 200 * 1024 * 1024,
                "{what} over {url}: the client peaked at {} MB",
                peak / (1024 * 1024)
            );
        }
    }
    // gRPC: tonic refuses the long message before reading it; this client's
    // limit, not the server refusing the image.
    let server = TokenServer::start_with(&["--huge"]);
    let url = format!("triton-grpc://127.0.0.1:{}", server.port);
    let (results, _) = classify(&url, 20.0, 0);
    assert_all_failed(
        &url,
        &results,
        "larger than the 16 MB this client accepts",
        ErrorKind::Upstream,
    );
}

/// In remote mode a file that is not an image stays on this machine: it
/// fails as it would locally, and the server never sees it.
#[test]
fn what_is_not_an_image_is_never_uploaded() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("holiday.jpg");
    std::fs::write(&fake, b"root:x:0:0:root:/root:/bin/bash\n").unwrap();
    for scheme in ["triton-http", "http"] {
        let (port, seen) = http_server("400 Bad Request");
        let remote = Remote::connect(RemoteOptions {
            url: format!("{scheme}://127.0.0.1:{port}"),
            ..RemoteOptions::default()
        })
        .unwrap();
        let results = common::batch_results(batch::start(
            Arc::new(remote),
            vec![fake.clone()],
            &defaults(),
            None,
        ));
        assert_eq!(results.len(), 1);
        let message = results[0].error.as_deref().unwrap_or_default();
        assert!(
            message.contains("not a recognised image format"),
            "{message}"
        );
        assert_eq!(results[0].error_kind, Some(ErrorKind::Input));
        assert_eq!(
            seen.requests.load(Ordering::SeqCst),
            0,
            "{scheme}: it was sent"
        );
    }
}

/// In remote mode, a link in a folder that leads out of it is not followed:
/// the photo it points at is not sent, and the batch says why.
#[cfg(unix)]
#[test]
fn links_out_of_a_folder_are_not_uploaded() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(common::photo("obama.jpg"), dir.path().join("holiday.jpg")).unwrap();
    let (port, seen) = http_server("400 Bad Request");
    let remote = Remote::connect(RemoteOptions {
        url: format!("http://127.0.0.1:{port}"),
        ..RemoteOptions::default()
    })
    .unwrap();
    let events = batch::start(
        Arc::new(remote),
        vec![dir.path().to_path_buf()],
        &defaults(),
        None,
    )
    .wait();
    let skipped: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            genderlens::EngineEvent::Listed { skipped, .. } => Some(skipped.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0].reason.contains("outside the folder"),
        "{skipped:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, genderlens::EngineEvent::Image(_))),
        "nothing to classify"
    );
    assert_eq!(seen.requests.load(Ordering::SeqCst), 0, "nothing was sent");
}
