//! `genderlens serve` started for a test on a free loopback port, and
//! stopped (killed) when the test ends.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;

pub struct Gateway {
    pub child: Child,
    pub url: String,
    /// Everything it has written to stderr so far, a line at a time.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Gateway {
    /// Waits (up to 10 s) for a line of its log that `wanted` accepts.
    pub fn wait_for_log(&self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self.log.lock().unwrap().iter().find(|l| wanted(l)) {
                return line.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no such line in the gateway's log:\n{}",
                self.log.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the gateway with `args` after `serve --listen 127.0.0.1:0` and
/// waits until `/health` says it is ready.
pub fn start_gateway(args: &[&str], envs: &[(&str, &str)]) -> Gateway {
    let gateway = spawn_gateway(args, envs);
    // Ready once its backend is (both models loaded, or the remote server up).
    let client = Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let ready = client
            .get(format!("{}/health", gateway.url))
            .send()
            .is_ok_and(|r| r.status() == 200);
        if ready {
            break;
        }
        assert!(Instant::now() < deadline, "the gateway never became ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    gateway
}

/// Starts the gateway and returns once it listens, ready or not.
pub fn spawn_gateway(args: &[&str], envs: &[(&str, &str)]) -> Gateway {
    let mut command = Command::new(env!("CARGO_BIN_EXE_genderlens"));
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("TRITON_PROTOCOL")
        .env_remove("MODEL_NAME")
        .env_remove("GENDERLENS_REMOTE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in envs {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("starting genderlens serve");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            kept.lock().unwrap().push(line.clone());
            let _ = tx.send(line);
        }
    });
    let url = loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) => {
                if let Some(url) = line.strip_prefix("GenderLens gateway listening on ") {
                    break url.to_string();
                }
            }
            Err(_) => panic!(
                "the gateway did not start:\n{}",
                log.lock().unwrap().join("\n")
            ),
        }
    };
    Gateway { child, url, log }
}
