//! A real nginx (Debian's `nginx` package) in the foreground, with its own
//! prefix, logs and temp folders in a test's directory, stopped (workers
//! too) when the test ends. Missing, it fails the test loudly.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Nginx {
    child: Child,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // TERM lets the master stop its workers; a killed master would leave them.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

pub fn binary() -> PathBuf {
    let nginx = PathBuf::from("/usr/sbin/nginx");
    assert!(
        nginx.exists(),
        "nginx (Debian package nginx) is missing at {}: tests/run installs it",
        nginx.display()
    );
    nginx
}

impl Nginx {
    /// nginx serving `http_block` (upstreams and servers) from `dir`, once
    /// every port in `ports` takes connections.
    pub fn start(dir: &Path, http_block: &str, ports: &[u16]) -> Nginx {
        std::fs::create_dir_all(dir).unwrap();
        let d = dir.display();
        let config = format!(
            "worker_processes 1;\n\
             pid {d}/nginx.pid;\n\
             error_log {d}/error.log;\n\
             daemon off;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n\
               access_log off;\n\
               client_body_temp_path {d}/body;\n\
               proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fastcgi;\n\
               uwsgi_temp_path {d}/uwsgi;\n\
               scgi_temp_path {d}/scgi;\n\
               {http_block}\n\
             }}\n"
        );
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config).unwrap();
        let child = Command::new(binary())
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting nginx");
        let mut nginx = Nginx { child };
        let deadline = Instant::now() + Duration::from_secs(30);
        for &port in ports {
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                // Exited (a port taken, a bad config): say so, not "slow".
                if let Ok(Some(status)) = nginx.child.try_wait() {
                    panic!(
                        "nginx exited ({status}): {}",
                        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
                    );
                }
                assert!(
                    Instant::now() < deadline,
                    "nginx did not start: {}",
                    std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        nginx
    }
}
