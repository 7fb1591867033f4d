//! Prometheus metrics in the text exposition format, kept in-process: request counts and latency
//! histograms by route and status. Small on purpose: no global registry, one lock, and the
//! rendering is a few lines a reader can check against the format's specification.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Histogram>,
    /// Wasm invocations that failed, by app and failure kind.
    app_failures: BTreeMap<(String, String), u64>,
    /// Egress requests the sandbox refused, by app and reason.
    egress_denials: BTreeMap<(String, String), u64>,
}

/// The server's metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Records one answered request.
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        *inner
            .requests
            .entry((method.into(), route.into(), status))
            .or_default() += 1;
        let h = inner
            .latency
            .entry((method.into(), route.into()))
            .or_default();
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// Records a wasm invocation's failure kind (if it failed) and its refused egress requests
    /// (by reason).
    pub fn observe_invocation(&self, app: &str, failure: Option<&str>, denials: &[&str]) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if let Some(kind) = failure {
            *inner
                .app_failures
                .entry((app.into(), kind.into()))
                .or_default() += 1;
        }
        for reason in denials {
            *inner
                .egress_denials
                .entry((app.into(), (*reason).into()))
                .or_default() += 1;
        }
    }

    /// The exposition text.
    pub fn render(&self, store_backend: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP plaza_build_info Plaza's version and store backend."
        );
        let _ = writeln!(out, "# TYPE plaza_build_info gauge");
        let _ = writeln!(
            out,
            "plaza_build_info{{version=\"{}\",store=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION"),
            escape(store_backend)
        );
        let Ok(inner) = self.inner.lock() else {
            return out;
        };
        let _ = writeln!(
            out,
            "# HELP plaza_http_requests_total HTTP requests answered, by method, route and status."
        );
        let _ = writeln!(out, "# TYPE plaza_http_requests_total counter");
        for ((m, r, s), n) in &inner.requests {
            let _ = writeln!(
                out,
                "plaza_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{s}\"}} {n}",
                escape(m),
                escape(r)
            );
        }
        let _ = writeln!(
            out,
            "# HELP plaza_http_request_duration_seconds Time to answer HTTP requests."
        );
        let _ = writeln!(out, "# TYPE plaza_http_request_duration_seconds histogram");
        for ((m, r), h) in &inner.latency {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(m), escape(r));
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "plaza_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "plaza_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "plaza_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "plaza_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        let counters = [
            (
                "plaza_app_invocation_failures_total",
                "Wasm app invocations ended by a limit, trap or error, by app and kind.",
                "kind",
                &inner.app_failures,
            ),
            (
                "plaza_app_egress_denials_total",
                "Outgoing requests of wasm apps the sandbox refused, by app and reason.",
                "reason",
                &inner.egress_denials,
            ),
        ];
        for (name, help, label, values) in counters {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for ((app, value), n) in values {
                let _ = writeln!(
                    out,
                    "{name}{{app=\"{}\",{label}=\"{}\"}} {n}",
                    escape(app),
                    escape(value)
                );
            }
        }
        out
    }
}

/// Escapes a label value as the exposition format requires.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.observe("GET", "/healthz", 200, Duration::from_millis(3));
        m.observe("GET", "/healthz", 200, Duration::from_millis(30));
        let text = m.render("sqlite");
        assert!(text.contains(
            "plaza_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.05\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
        assert!(text.contains("store=\"sqlite\""));
    }

    #[test]
    fn renders_app_failures_and_egress_denials() {
        let m = Metrics::default();
        m.observe_invocation("com.example.a", Some("app-cpu-limit"), &["private_address"]);
        m.observe_invocation("com.example.a", None, &["private_address", "not_granted"]);
        let text = m.render("sqlite");
        assert!(text.contains(
            "plaza_app_invocation_failures_total{app=\"com.example.a\",kind=\"app-cpu-limit\"} 1"
        ));
        assert!(text.contains(
            "plaza_app_egress_denials_total{app=\"com.example.a\",reason=\"private_address\"} 2"
        ));
        assert!(text.contains("reason=\"not_granted\"} 1"));
    }
}
