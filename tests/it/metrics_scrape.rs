//! The gateway's `/metrics` as Prometheus itself reads them: a real
//! Prometheus server scrapes it (asking for OpenMetrics, as it does), and
//! `promtool` checks the classic text format that other clients get.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, multipart};
use serde_json::Value;

use crate::common;
use common::prometheus::{Prometheus, tool};

fn api(client: &Client, url: &str) -> Option<Value> {
    let answer: Value = client.get(url).send().ok()?.json().ok()?;
    (answer["status"] == "success").then(|| answer["data"].clone())
}

/// Polls Prometheus until `ready` accepts what `url` answers.
fn wait_for(client: &Client, url: &str, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(data) = api(client, url).filter(|d| ready(d)) {
            return data;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never showed {what}; last answer: {:?}",
            api(client, url)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn prometheus_scrapes_the_gateway_with_every_type_intact() {
    common::runtime();
    let gateway = common::serve::start_gateway(&["--provider", "cpu"], &[]);
    let client = Client::new();
    for (name, bytes) in [
        (
            "astronaut.png",
            std::fs::read(common::photo("astronaut.png")).unwrap(),
        ),
        ("note.jpg", b"not a photo".to_vec()),
    ] {
        let form =
            multipart::Form::new().part("image", multipart::Part::bytes(bytes).file_name(name));
        client
            .post(format!("{}/predict", gateway.url))
            .multipart(form)
            .send()
            .unwrap();
    }

    // The classic text format, as a client that asks for nothing gets it.
    let text = client
        .get(format!("{}/metrics", gateway.url))
        .send()
        .unwrap();
    assert_eq!(
        text.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = text.text().unwrap();
    let mut promtool = Command::new(tool("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let checked = promtool.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        checked.status.success() && said.trim().is_empty(),
        "promtool: {said}\n{text}"
    );

    // OpenMetrics, as Prometheus asks for it, read by Prometheus.
    let open = client
        .get(format!("{}/metrics", gateway.url))
        .header("accept", "application/openmetrics-text;version=1.0.0")
        .send()
        .unwrap();
    assert_eq!(
        open.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(open.text().unwrap().ends_with("# EOF\n"));

    let dir = tempfile::tempdir().unwrap();
    let target = gateway.url.trim_start_matches("http://").to_string();
    let prometheus = Prometheus::start(
        dir.path(),
        &format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: gateway\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    );
    let targets = wait_for(
        &client,
        &format!("{}/api/v1/targets", prometheus.url),
        "the gateway scraped",
        |d| d["activeTargets"][0]["health"] == "up",
    );
    assert_eq!(targets["activeTargets"][0]["lastError"], "", "{targets}");

    let metadata = wait_for(
        &client,
        &format!("{}/api/v1/metadata", prometheus.url),
        "the gateway's metadata",
        |d| d.get("genderlens_gateway_requests").is_some(),
    );
    let kind = |name: &str| {
        metadata[name][0]["type"]
            .as_str()
            .unwrap_or("none")
            .to_string()
    };
    assert_eq!(kind("genderlens_gateway_requests"), "counter", "{metadata}");
    assert_eq!(kind("genderlens_gateway_errors"), "counter", "{metadata}");
    assert_eq!(
        kind("genderlens_gateway_request_duration_seconds"),
        "histogram",
        "{metadata}"
    );

    let query = |q: &str| {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/api/v1/query", prometheus.url),
            &[("query", q)],
        )
        .unwrap();
        wait_for(&client, url.as_str(), q, |d| {
            d["result"].as_array().is_some_and(|r| !r.is_empty())
        })["result"][0]["value"][1]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        query(r#"genderlens_gateway_requests_total{route="/predict",status="200"}"#),
        "1"
    );
    assert_eq!(
        query(r#"genderlens_gateway_errors_total{route="/predict",status="415"}"#),
        "1"
    );
    assert_eq!(
        query(r#"genderlens_gateway_request_duration_seconds_count{route="/predict"}"#),
        "2"
    );
}
