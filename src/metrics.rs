//! Metrics through Workers Analytics Engine (the `METRICS` binding): one data point per request
//! and one per step, queried with SQL (the schema and the queries are in docs/OPERATIONS.md).
//!
//! Writing a data point is fire-and-forget on the platform's side (it never blocks or fails the
//! request), so a missing binding — a local setup without it, a misconfigured environment — only
//! means no metrics: [`Metrics::open`] gives an inert recorder and nothing else cares.

use crate::bindings::METRICS;
use worker::{AnalyticsEngineDataPointBuilder, AnalyticsEngineDataset, Env};

/// Which kind of data point (`blob1`): one dataset holds both.
const REQUEST: &str = "request";
const STEP: &str = "step";

/// One request, as the request log line has it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestPoint<'a> {
    pub method: &'a str,
    /// The route's template ([`route_label`]), not the raw path: ids would explode the groups.
    pub route: String,
    pub status: u16,
    pub duration_ms: u64,
    /// Empty when the request never identified one (`/health`, a refused token).
    pub tenant: &'a str,
}

/// One step of a chain, as the consumer ran it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPoint<'a> {
    pub op: &'a str,
    /// The source image's format.
    pub format: &'a str,
    pub outcome: &'a str,
    pub tenant: &'a str,
    pub megapixels: f64,
    pub duration_ms: u64,
    pub memory_bytes: u64,
}

/// The recorder: the dataset when bound, else inert.
pub struct Metrics {
    dataset: Option<AnalyticsEngineDataset>,
    environment: String,
}

impl Metrics {
    pub fn open(env: &Env) -> Metrics {
        let environment = env.var("ENVIRONMENT").map(|v| v.to_string()).unwrap_or_else(|_| "unknown".into());
        Metrics { dataset: env.analytics_engine(METRICS).ok(), environment }
    }

    /// index1 = route; blobs: kind, route, method, status class, environment, tenant;
    /// doubles: status, duration_ms.
    pub fn request(&self, p: &RequestPoint<'_>) {
        let class = format!("{}xx", p.status / 100);
        let point = AnalyticsEngineDataPointBuilder::new()
            .indexes([p.route.as_str()])
            .blobs([REQUEST, p.route.as_str(), p.method, class.as_str(), self.environment.as_str(), p.tenant])
            .doubles([f64::from(p.status), p.duration_ms as f64]);
        self.write(point);
    }

    /// index1 = op; blobs: kind, op, format, outcome, environment, tenant;
    /// doubles: megapixels, duration_ms, memory_bytes.
    pub fn step(&self, p: &StepPoint<'_>) {
        let point = AnalyticsEngineDataPointBuilder::new()
            .indexes([p.op])
            .blobs([STEP, p.op, p.format, p.outcome, self.environment.as_str(), p.tenant])
            .doubles([p.megapixels, p.duration_ms as f64, p.memory_bytes as f64]);
        self.write(point);
    }

    fn write(&self, point: AnalyticsEngineDataPointBuilder) {
        let Some(dataset) = &self.dataset else { return };
        // A refused point (a local stand-in, a malformed value) costs a metric, never a request.
        if let Err(e) = dataset.write_data_point(&point.build()) {
            crate::log::warn("metrics").field("error", e.to_string()).emit();
        }
    }
}

/// The route's template for grouping: `/tasks/task_…/ws` → `/tasks/:id/ws`. Ids (`img_…`,
/// `task_…`) and a studio file's name become placeholders, and any segment that is not a short
/// lowercase word (a typo, a probe for `/wp-admin.php`) becomes `:other`, so arbitrary paths
/// cannot make arbitrarily many groups.
pub fn route_label(path: &str) -> String {
    let mut out = String::new();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    for (i, segment) in segments.iter().enumerate() {
        let label = if segment.starts_with("img_") || segment.starts_with("task_") {
            ":id"
        } else if i == 1 && segments[0] == "studio" {
            ":file"
        } else if segment.len() <= 24 && segment.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-' || b == b'.') {
            segment
        } else {
            ":other"
        };
        out.push('/');
        out.push_str(label);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_grouped_by_template_not_by_id() {
        assert_eq!(route_label("/tasks/task_01ab/ws"), "/tasks/:id/ws");
        assert_eq!(route_label("/images/img_9f/content"), "/images/:id/content");
        assert_eq!(route_label("/studio/app.js"), "/studio/:file");
        assert_eq!(route_label("/"), "/");
        assert_eq!(route_label("/openapi.json"), "/openapi.json");
        assert_eq!(route_label("/health"), "/health");
    }

    #[test]
    fn arbitrary_paths_cannot_create_arbitrary_groups() {
        assert_eq!(route_label("/images/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "/images/:other");
        assert_eq!(route_label("/x/1234"), "/x/:other");
    }
}
