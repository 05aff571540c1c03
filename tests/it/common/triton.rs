//! A real NVIDIA Triton Inference Server (2.51, the stock binary that PyPI's
//! nvidia-pytriton ships) serving this repository's CPU model repository on
//! free loopback ports. `tests/triton/setup.sh` installs it; without it the
//! tests fail loudly with instructions.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Triton {
    child: Option<Child>,
    pub http: u16,
    pub grpc: u16,
    pub metrics: u16,
    log: PathBuf,
    frozen: bool,
    _dir: tempfile::TempDir,
}

/// The venv that `tests/triton/setup.sh` prepares.
pub fn venv() -> PathBuf {
    let venv = std::env::var_os("GENDERLENS_TRITON_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME is set");
            Path::new(&home).join(".cache/genderlens/triton-venv")
        });
    if !venv.join(".genderlens-ready-4").exists() {
        panic!(
            "\n\nTRITON IS NOT INSTALLED — the remote tests need a real Triton server.\n\
             Install it with `tests/triton/setup.sh` (the README's test command runs it),\n\
             or set GENDERLENS_TRITON_VENV to a venv it prepared. Looked in {}\n\n",
            venv.display()
        );
    }
    venv
}

pub fn python() -> PathBuf {
    venv().join("bin/python")
}

fn tritonserver_dir(venv: &Path) -> PathBuf {
    let lib = venv.join("lib");
    let python = std::fs::read_dir(&lib)
        .expect("the venv has a lib folder")
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .expect("the venv has lib/python3.*");
    python.path().join("site-packages/pytriton/tritonserver")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Triton {
    /// The CPU model repository, plus `extra` models from `tests/triton/`.
    pub fn start(extra: &[&str]) -> Triton {
        let venv = venv();
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("models");
        let made = Command::new(python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/server/make_repository.py"))
            .args(["--variant", "cpu"])
            .arg(&repo)
            .status()
            .expect("running make_repository.py");
        assert!(made.success(), "make_repository.py failed");
        for model in extra {
            copy_dir(
                &Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/triton")
                    .join(model),
                &repo.join(model),
            );
        }
        let server = tritonserver_dir(&venv);
        let (http, grpc, metrics) = (free_port(), free_port(), free_port());
        let log = dir.path().join("triton.log");
        let path = format!(
            "{}:{}",
            venv.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let child = Command::new(server.join("bin/tritonserver"))
            // Its own process group: the python backend's stub processes are
            // stopped with the server, even when it is killed outright.
            .process_group(0)
            .arg(format!("--model-repository={}", repo.display()))
            .arg(format!(
                "--backend-directory={}",
                server.join("backends").display()
            ))
            .args([
                "--model-control-mode=none",
                "--disable-auto-complete-config",
                "--exit-on-error=true",
                "--http-address=127.0.0.1",
                "--grpc-address=127.0.0.1",
                "--metrics-address=127.0.0.1",
                "--allow-gpu-metrics=false",
                "--pinned-memory-pool-byte-size=0",
                "--cuda-memory-pool-byte-size=0:0",
                "--exit-timeout-secs=5",
            ])
            .arg(format!("--http-port={http}"))
            .arg(format!("--grpc-port={grpc}"))
            .arg(format!("--metrics-port={metrics}"))
            // The python backend's stub finds the venv's numpy through `python3` on PATH.
            .env("PATH", path)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(
                std::fs::OpenOptions::new().append(true).open(&log).unwrap(),
            ))
            .spawn()
            .expect("starting tritonserver");
        let mut triton = Triton {
            child: Some(child),
            http,
            grpc,
            metrics,
            log,
            frozen: false,
            _dir: dir,
        };
        triton.wait_ready();
        triton
    }

    fn wait_ready(&mut self) {
        let client = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "tritonserver exited ({status}) before it was ready:\n{}",
                    self.log_tail()
                );
            }
            let ready = client
                .get(format!("http://127.0.0.1:{}/v2/health/ready", self.http))
                .send()
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "tritonserver was not ready within 120 s:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn http_url(&self) -> String {
        format!("triton-http://127.0.0.1:{}", self.http)
    }

    pub fn grpc_url(&self) -> String {
        format!("triton-grpc://127.0.0.1:{}", self.grpc)
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Kills the server and its stubs outright (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal_group(&child, "-KILL");
            let _ = child.wait();
        }
    }

    /// Freezes the server and its stubs (SIGSTOP): it keeps its connections
    /// open and never answers, as a hung machine does. Dropped, it is killed.
    pub fn freeze(&mut self) {
        if let Some(child) = &self.child {
            signal_group(child, "-STOP");
            self.frozen = true;
        }
    }

    /// The server's own count of successful inferences of a model.
    pub fn inference_count(&self, model: &str) -> u64 {
        let text = reqwest::blocking::get(format!("http://127.0.0.1:{}/metrics", self.metrics))
            .and_then(|r| r.text())
            .unwrap_or_default();
        text.lines()
            .filter(|l| l.starts_with("nv_inference_request_success{"))
            .filter(|l| l.contains(&format!("model=\"{model}\"")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }
}

/// Signals the server's whole process group (the server and its stubs).
fn signal_group(child: &Child, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, "--", &format!("-{}", child.id())])
        .status();
}

impl Drop for Triton {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if self.frozen {
                signal_group(&child, "-KILL");
                let _ = child.wait();
                return;
            }
            // SIGTERM lets Triton unload its models; whatever is left of the
            // group after it exits (or after 15 s) is killed.
            signal_group(&child, "-TERM");
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline && !matches!(child.try_wait(), Ok(Some(_))) {
                std::thread::sleep(Duration::from_millis(100));
            }
            signal_group(&child, "-KILL");
            let _ = child.wait();
        }
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
