//! The gateway's upload page in a real headless Chromium, behind a real
//! nginx for the failure a proxy adds (its own HTML 502). The scenarios are
//! in `tests/browser/upload_page.mjs`; this starts what they need and fails
//! loudly when Chromium, nginx or the browser driver is missing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;
use crate::common::nginx::Nginx;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn required(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is missing at {}: tests/run installs it (see the README's test section)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A proxy that serves the page from `gateway` and sends `/predict` to a
/// socket nobody listens on, as a proxy does whose classifier has gone down.
fn start_proxy(dir: &Path, gateway: &str) -> (Nginx, String) {
    let port = free_port();
    let d = dir.display();
    let server = format!(
        "client_max_body_size 64m;\n\
         client_body_buffer_size 64m;\n\
         server {{\n\
           listen 127.0.0.1:{port};\n\
           location = /predict {{ proxy_pass http://unix:{d}/nobody-listens.sock; }}\n\
           location / {{ proxy_pass {gateway}; }}\n\
         }}"
    );
    let nginx = Nginx::start(dir, &server, &[port]);
    (nginx, format!("http://127.0.0.1:{port}/"))
}

#[test]
fn the_upload_page_holds_up_in_a_real_browser() {
    let browser = repo().join("tests/browser");
    required(
        browser.join("node_modules/playwright-core"),
        "the browser driver (playwright-core)",
    );
    let chromium = required(
        std::env::var_os("GENDERLENS_CHROMIUM")
            .map_or_else(|| "/usr/bin/chromium".into(), PathBuf::from),
        "Chromium (Debian package chromium)",
    );
    common::nginx::binary();

    let work = tempfile::tempdir().unwrap();
    let not_a_photo = work.path().join("holiday.jpg");
    std::fs::write(&not_a_photo, "these bytes are a note, not a photo\n").unwrap();
    // Over the gateway's 20 MB default upload limit.
    let too_large = work.path().join("scan.jpg");
    std::fs::File::create(&too_large)
        .and_then(|f| f.set_len(25 << 20))
        .unwrap();
    // Screenshots stay where a person can look at them after the run.
    let shots = std::env::var_os("GENDERLENS_PAGE_SHOTS")
        .map_or_else(|| work.path().join("shots"), PathBuf::from);
    std::fs::create_dir_all(&shots).unwrap();
    let proxy_dir = work.path().join("nginx");
    std::fs::create_dir_all(&proxy_dir).unwrap();

    common::runtime();
    let gateway = common::serve::start_gateway(&["--provider", "cpu"], &[]);
    let (proxy, proxy_url) = start_proxy(&proxy_dir, &gateway.url);

    let output = Command::new("node")
        .arg(browser.join("upload_page.mjs"))
        .current_dir(&browser)
        .env("GATEWAY_URL", format!("{}/", gateway.url))
        .env("PROXY_URL", &proxy_url)
        .env("GATEWAY_PID", gateway.child.id().to_string())
        .env("SINGLE", common::photo("astronaut.png"))
        .env("GROUP", common::group_photo(work.path()))
        .env("NOT_A_PHOTO", &not_a_photo)
        .env("TOO_LARGE", &too_large)
        .env("SHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("running node (Debian package nodejs)");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the page failed in Chromium:\n{log}"
    );
    assert!(log.contains("all checks passed"), "{log}");
    for shot in ["desktop-light.png", "phone-dark.png"] {
        assert!(shots.join(shot).exists(), "no screenshot {shot}:\n{log}");
    }
    drop(proxy);
}
