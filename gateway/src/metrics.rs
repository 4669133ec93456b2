//! Prometheus metrics, served at /metrics in the text format.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::state::AppState;

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub active_sessions: IntGauge,
    pub sign_ins: IntCounterVec,
    pub cache: IntCounterVec,
    pub launches: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("vestibule_http_requests_total", "HTTP requests by route, method and status."),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("vestibule_http_request_duration_seconds", "HTTP request latency by route.").buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route"],
        )
        .expect("valid metric");
        let active_sessions = IntGauge::new("vestibule_active_sessions", "Sessions that have not ended or expired.")
            .expect("valid metric");
        let sign_ins = IntCounterVec::new(
            Opts::new("vestibule_sign_ins_total", "Sign-in attempts by outcome."),
            &["outcome"],
        )
        .expect("valid metric");
        let cache = IntCounterVec::new(
            Opts::new("vestibule_cache_requests_total", "In-memory cache lookups by cache and result (hit or miss)."),
            &["cache", "result"],
        )
        .expect("valid metric");
        let launches = IntCounterVec::new(
            Opts::new("vestibule_launches_total", "App launches through the gateway, by protocol."),
            &["protocol"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(launches.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(active_sessions.clone()),
            Box::new(sign_ins.clone()),
            Box::new(cache.clone()),
        ] {
            registry.register(collector).expect("metric registered once");
        }
        Self { registry, requests, latency, active_sessions, sign_ins, cache, launches }
    }

    pub fn cache_lookup(&self, cache: &str, hit: bool) {
        self.cache.with_label_values(&[cache, if hit { "hit" } else { "miss" }]).inc();
    }

    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer).expect("text encoding to a Vec");
        String::from_utf8(buffer).expect("prometheus text is UTF-8")
    }
}

/// Counts and times every request by its route pattern (never the raw path,
/// which would let clients create unbounded label values).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let metrics = &state.metrics;
    metrics.latency.with_label_values(&[&route]).observe(started.elapsed().as_secs_f64());
    metrics.requests.with_label_values(&[&route, &method, response.status().as_str()]).inc();
    response
}

pub async fn serve(State(state): State<AppState>) -> impl IntoResponse {
    ([("content-type", "text/plain; version=0.0.4")], state.metrics.render())
}
