//! `GET /metrics`, Prometheus's text format (0.0.4): requests by route and outcome, their
//! time as histograms, the uploads being processed and waiting, the sessions open. Metric
//! names start with `ekyc_`; routes are the engine's own paths (anything else counts as
//! `other`), so the labels stay few. No personal data: counts and times only.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// The routes counted by name.
const ROUTES: [&str; 10] = [
    "/session/init",
    "/ocr",
    "/face/liveness",
    "/api/v3/ekyc",
    "/chip/verify",
    "/liveness/challenge",
    "/health",
    "/healthz",
    "/readyz",
    "/metrics",
];

/// The histogram's upper bounds, in seconds: a session's opening to a slow verification.
const BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0];

#[derive(Debug, Default)]
struct Histogram {
    /// Per bucket, the answers at or under its bound (cumulative when written).
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// What the engine counted since it started.
#[derive(Debug, Default)]
pub(super) struct Metrics {
    /// By route and status class (`2xx`, `4xx`, `5xx`, …).
    requests: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    durations: Mutex<BTreeMap<&'static str, Histogram>>,
}

/// The route's label: its path when it is one of the engine's, else `other`.
fn route(path: &str) -> &'static str {
    ROUTES
        .into_iter()
        .find(|known| *known == path)
        .unwrap_or("other")
}

fn class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

impl Metrics {
    /// One answered request.
    pub(super) fn record(&self, path: &str, status: u16, took: Duration) {
        let route = route(path);
        let lock = |poisoned: std::sync::PoisonError<_>| poisoned.into_inner();
        *self
            .requests
            .lock()
            .unwrap_or_else(lock)
            .entry((route, class(status)))
            .or_default() += 1;
        let seconds = took.as_secs_f64();
        let mut durations = self
            .durations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let histogram = durations.entry(route).or_default();
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            histogram.counts[bucket] += 1;
        }
        histogram.sum += seconds;
        histogram.count += 1;
    }

    /// The text Prometheus scrapes, with the gauges read now.
    pub(super) fn render(&self, gauges: &Gauges) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "# HELP ekyc_requests_total Requests answered, by route and status class."
        );
        let _ = writeln!(text, "# TYPE ekyc_requests_total counter");
        for ((route, class), count) in self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
        {
            let _ = writeln!(
                text,
                "ekyc_requests_total{{route=\"{route}\",status=\"{class}\"}} {count}"
            );
        }
        let _ = writeln!(
            text,
            "# HELP ekyc_request_duration_seconds From a request's headers to its answer."
        );
        let _ = writeln!(text, "# TYPE ekyc_request_duration_seconds histogram");
        for (route, histogram) in self
            .durations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
        {
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(histogram.counts) {
                cumulative += count;
                let _ = writeln!(
                    text,
                    "ekyc_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                text,
                "ekyc_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                text,
                "ekyc_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                histogram.sum
            );
            let _ = writeln!(
                text,
                "ekyc_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count
            );
        }
        for (name, help, value) in [
            (
                "ekyc_uploads_in_progress",
                "Uploads being read and processed now (the workers busy).",
                Some(gauges.uploads_in_progress),
            ),
            (
                "ekyc_uploads_waiting",
                "Uploads waiting for a turn now (the queue).",
                Some(gauges.uploads_waiting),
            ),
            (
                "ekyc_sessions_open",
                "Sessions open now (with a shared database: every replica's).",
                gauges.sessions,
            ),
            (
                "ekyc_database_connections_open",
                "Connections this replica holds to the shared database.",
                gauges.database.map(|pool| pool.open),
            ),
            (
                "ekyc_database_connections_busy",
                "Of those, in use by a request now.",
                gauges.database.map(|pool| pool.busy),
            ),
        ] {
            // A figure not known now (the shared database away) is left out.
            let Some(value) = value else { continue };
            let _ = writeln!(text, "# HELP {name} {help}");
            let _ = writeln!(text, "# TYPE {name} gauge");
            let _ = writeln!(text, "{name} {value}");
        }
        text
    }
}

/// The figures read at the moment of a scrape.
pub(super) struct Gauges {
    pub(super) uploads_in_progress: usize,
    pub(super) uploads_waiting: usize,
    /// `None` when the shared database could not count them.
    pub(super) sessions: Option<usize>,
    /// The pool's connections, with a shared database.
    pub(super) database: Option<crate::database::PoolUse>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_and_class_and_timed_in_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.record("/ocr", 200, Duration::from_millis(700));
        metrics.record("/ocr", 200, Duration::from_millis(40));
        metrics.record("/ocr", 503, Duration::from_millis(1));
        metrics.record("/nothing/here", 404, Duration::from_millis(1));
        let text = metrics.render(&Gauges {
            uploads_in_progress: 1,
            uploads_waiting: 2,
            sessions: Some(3),
            database: Some(crate::database::PoolUse { open: 4, busy: 1 }),
        });
        assert!(
            text.contains("ekyc_requests_total{route=\"/ocr\",status=\"2xx\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("ekyc_requests_total{route=\"/ocr\",status=\"5xx\"} 1\n"));
        assert!(text.contains("ekyc_requests_total{route=\"other\",status=\"4xx\"} 1\n"));
        assert!(
            text.contains("ekyc_request_duration_seconds_bucket{route=\"/ocr\",le=\"0.05\"} 2\n")
        );
        assert!(text.contains("ekyc_request_duration_seconds_bucket{route=\"/ocr\",le=\"1\"} 3\n"));
        assert!(text.contains("ekyc_request_duration_seconds_count{route=\"/ocr\"} 3\n"));
        assert!(text.contains("ekyc_uploads_waiting 2\n"));
        assert!(text.contains("ekyc_sessions_open 3\n"));
        assert!(text.contains("ekyc_database_connections_open 4\n"));
        assert!(text.contains("ekyc_database_connections_busy 1\n"));
        assert!(
            !text.contains("/nothing/here"),
            "unknown paths are not labels"
        );
    }
}
