//! The metrics stack of `packaging/server`: its Prometheus configuration,
//! with the compose host names pointed at a real Triton and a real gateway
//! forwarding to it, scraped by a real Prometheus; then every query of the
//! provisioned Grafana dashboard is run against what it scraped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, multipart};
use serde_json::Value;

use crate::common;
use common::prometheus::{Prometheus, tool};

fn server_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/server")
}

fn query(client: &Client, base: &str, expr: &str) -> Value {
    let url = reqwest::Url::parse_with_params(&format!("{base}/api/v1/query"), &[("query", expr)])
        .unwrap();
    client.get(url).send().unwrap().json().unwrap()
}

/// The dashboard's queries, each with its panel's title.
fn dashboard_queries() -> Vec<(String, String)> {
    let path = server_dir().join("grafana/dashboards/genderlens.json");
    let dashboard: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let datasource: String = std::fs::read_to_string(
        server_dir().join("grafana/provisioning/datasources/prometheus.yml"),
    )
    .unwrap()
    .lines()
    .find_map(|l| l.trim().strip_prefix("uid: ").map(str::to_string))
    .expect("the provisioned data source has a uid");
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        let title = panel["title"].as_str().unwrap_or_default().to_string();
        assert_eq!(
            panel["datasource"]["uid"], datasource,
            "panel {title} uses the provisioned data source"
        );
        for target in panel["targets"].as_array().expect("targets") {
            queries.push((title.clone(), target["expr"].as_str().unwrap().to_string()));
        }
    }
    queries
}

#[test]
fn prometheus_scrapes_triton_and_the_gateway_and_every_dashboard_query_answers() {
    let packaged = server_dir().join("prometheus/prometheus.yml");
    let checked = Command::new(tool("promtool"))
        .args(["check", "config"])
        .arg(&packaged)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&checked.stdout)
    );

    common::runtime();
    let triton = common::triton::Triton::start(&[]);
    let gateway = common::serve::start_gateway(&["--remote", &triton.grpc_url()], &[]);

    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(&packaged)
        .unwrap()
        .replace(
            "dns_sd_configs:\n      - names: [\"triton\"]\n        type: A\n        port: 8002",
            &format!(
                "static_configs:\n      - targets: [\"127.0.0.1:{}\"]",
                triton.metrics
            ),
        )
        .replace("gateway:8080", gateway.url.trim_start_matches("http://"))
        .replace("scrape_interval: 5s", "scrape_interval: 1s");
    assert!(
        !config.contains("\"triton\"") && !config.contains("gateway:8080"),
        "every packaged target was pointed at this test's servers:\n{config}"
    );
    let prometheus = Prometheus::start(dir.path(), &config);
    let base = prometheus.url.clone();
    let client = Client::new();

    // Traffic over a few scrapes, so that rates have two points.
    let photo = std::fs::read(common::photo("astronaut.png")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut sent = 0;
    let queries = dashboard_queries();
    let mut unanswered: Vec<String>;
    loop {
        let form = multipart::Form::new().part(
            "image",
            multipart::Part::bytes(photo.clone()).file_name("astronaut.png"),
        );
        let status = client
            .post(format!("{}/predict", gateway.url))
            .multipart(form)
            .send()
            .unwrap()
            .status();
        assert_eq!(status, 200);
        sent += 1;
        std::thread::sleep(Duration::from_millis(300));

        unanswered = Vec::new();
        for (title, expr) in &queries {
            let answer = query(&client, &base, expr);
            assert_eq!(
                answer["status"], "success",
                "panel {title}: Prometheus cannot run {expr}: {answer}"
            );
            // This machine has no GPU, so Triton reports no GPU metrics.
            let gpu = expr.contains("nv_gpu_");
            let empty = answer["data"]["result"]
                .as_array()
                .is_none_or(|r| r.is_empty());
            if empty && !gpu {
                unanswered.push(format!("{title}: {expr}"));
            }
        }
        if unanswered.is_empty() || Instant::now() > deadline {
            break;
        }
    }
    assert!(
        unanswered.is_empty(),
        "after {sent} requests these dashboard queries still had no data:\n{}\ntargets: {}",
        unanswered.join("\n"),
        client
            .get(format!("{base}/api/v1/targets"))
            .send()
            .unwrap()
            .text()
            .unwrap()
    );
    let targets: Value = client
        .get(format!("{base}/api/v1/targets"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let jobs: Vec<(String, String)> = targets["data"]["activeTargets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["labels"]["job"].as_str().unwrap_or_default().to_string(),
                t["health"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        jobs.contains(&("triton".into(), "up".into()))
            && jobs.contains(&("gateway".into(), "up".into())),
        "{jobs:?}"
    );
    drop(prometheus);
}
