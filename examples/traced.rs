//! Tracing for the examples: `tracing` spans carrying OpenTelemetry context, so the metrics
//! get exemplars with real trace ids.
//!
//! [`init`] installs a subscriber with tracing-opentelemetry's layer over an SDK tracer (no
//! exporter: the spans only have to exist; a real service would export them) and the W3C
//! propagator. [`requests`] is an axum middleware that runs each request in a `request` span
//! continuing the caller's trace (`traceparent` header) or starting one.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TracerProvider as _;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

/// Installs the global subscriber and propagator; keep the provider alive while serving.
///
/// ```
/// let provider = instrument_metrics_examples::traced::init();
/// # drop(provider);
/// ```
#[must_use]
pub fn init() -> opentelemetry_sdk::trace::SdkTracerProvider {
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let subscriber = tracing_subscriber::registry().with(
        tracing_opentelemetry::layer().with_tracer(provider.tracer("instrument-metrics-examples")),
    );
    // A second init in one process (tests) keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber);
    provider
}

struct Headers<'a>(&'a axum::http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(axum::http::HeaderName::as_str).collect()
    }
}

/// Runs the rest of the stack inside a `request` span whose parent is the caller's trace.
/// Put it outside (after) the metrics layer, so the span is current when a request starts.
pub async fn requests(request: Request, next: Next) -> Response {
    let parent =
        opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(request.headers())));
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path()
    );
    let _ = span.set_parent(parent);
    next.run(request).instrument(span).await
}
