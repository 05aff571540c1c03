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

    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
