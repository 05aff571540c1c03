//! Prometheus metrics for `GET /metrics`: requests and errors by route and
//! status, and a latency histogram.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    pub route: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    errors: Family<RequestLabels, Counter>,
    latency: Family<RouteLabel, Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("genderlens_gateway");
        let requests = Family::<RequestLabels, Counter>::default();
        let errors = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabel, Histogram>::new_with_constructor(|| {
            // 5 ms to about 20 s: a CPU photo takes ~0.1 s, a slow remote much more.
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.005, 2.0, 13,
            ))
        });
        registry.register("requests", "Requests answered", requests.clone());
        registry.register(
            "errors",
            "Requests answered with a 4xx or 5xx status",
            errors.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from request to answer",
            latency.clone(),
        );
        Self {
            registry,
            requests,
            errors,
            latency,
        }
    }
}

impl Metrics {
    pub fn record(&self, route: &str, status: u16, seconds: f64) {
        let labels = RequestLabels {
            route: route.to_string(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        if status >= 400 {
            self.errors.get_or_create(&labels).inc();
        }
        self.latency
            .get_or_create(&RouteLabel {
                route: route.to_string(),
            })
            .observe(seconds);
    }

    /// OpenMetrics 1.0, as the registry writes it.
    pub fn render_openmetrics(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }

    /// Prometheus's classic text format, version 0.0.4.
    pub fn render_classic_text(&self) -> String {
        openmetrics_to_text(&self.render_openmetrics())
    }
}

/// The two formats differ, for what this registry writes, in three ways: a
/// 0.0.4 counter's `HELP` and `TYPE` name its `_total` samples (OpenMetrics
/// names the family without the suffix), and 0.0.4 has no `# UNIT` and no
/// `# EOF`. A parser given the OpenMetrics form as 0.0.4 loses the counters'
/// type.
fn openmetrics_to_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split_once(' '))
        .filter(|(_, kind)| *kind == "counter")
        .map(|(name, _)| name)
        .collect();
    let mut text = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let descriptor = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|prefix| Some((prefix, line.strip_prefix(prefix)?)));
        match descriptor {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                if prefix == "# TYPE " && tail == "unknown" {
                    // OpenMetrics' `unknown` is 0.0.4's `untyped`.
                    text.push_str(&format!("{prefix}{name} untyped\n"));
                } else if counters.contains(name) {
                    text.push_str(&format!("{prefix}{name}_total {tail}\n"));
                } else {
                    text.push_str(line);
                    text.push('\n');
                }
            }
            None => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_named_by_their_samples_in_the_classic_format() {
        let metrics = Metrics::default();
        metrics.record("/predict", 200, 0.05);
        metrics.record("/predict", 415, 0.01);
        let open = metrics.render_openmetrics();
        assert!(
            open.contains("# TYPE genderlens_gateway_requests counter\n"),
            "{open}"
        );
        assert!(open.ends_with("# EOF\n"), "{open}");

        let text = metrics.render_classic_text();
        assert!(
            text.contains("# TYPE genderlens_gateway_requests_total counter\n"),
            "{text}"
        );
        assert!(text.contains("# HELP genderlens_gateway_errors_total Requests answered with a 4xx or 5xx status.\n"), "{text}");
        assert!(text.contains("# TYPE genderlens_gateway_request_duration_seconds histogram\n"));
        assert!(
            text.contains(r#"genderlens_gateway_requests_total{route="/predict",status="200"} 1"#)
        );
        assert!(!text.contains("# EOF"), "{text}");
        assert!(
            !text.contains("# TYPE genderlens_gateway_requests counter"),
            "{text}"
        );
    }
}
