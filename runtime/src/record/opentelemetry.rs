//! The exemplar source of the `opentelemetry` feature: the trace context of the current
//! `tracing` span (through tracing-opentelemetry's layer), else OpenTelemetry's own current
//! context (code that uses the OpenTelemetry API directly).

use opentelemetry::trace::TraceContextExt as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::record::exemplar::TraceContext;

/// The trace context a call runs in, from `tracing` and OpenTelemetry; the default exemplar
/// source when the `opentelemetry` feature is on. Pass it to
/// [`set_exemplar_source`](crate::set_exemplar_source) to restore it after setting another.
///
/// ```
/// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
///
/// let remote = SpanContext::new(
///     TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
///     SpanId::from_hex("00f067aa0ba902b7").unwrap(),
///     TraceFlags::SAMPLED,
///     true,
///     TraceState::default(),
/// );
/// let _guard = opentelemetry::Context::current().with_remote_span_context(remote).attach();
/// let ctx = instrument_metrics::opentelemetry_trace_context().unwrap();
/// assert_eq!(ctx.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(ctx.span_id_hex(), "00f067aa0ba902b7");
/// ```
#[must_use]
pub fn opentelemetry_trace_context() -> Option<TraceContext> {
    let span = tracing::Span::current();
    let from_span = if span.is_none() {
        None
    } else {
        let context = span.context();
        let sc = context.span().span_context().clone();
        sc.is_valid().then_some(sc)
    };
    let sc = match from_span {
        Some(sc) => sc,
        None => {
            let sc = opentelemetry::Context::map_current(|c| c.span().span_context().clone());
            if !sc.is_valid() {
                return None;
            }
            sc
        }
    };
    Some(TraceContext::new(
        u128::from_be_bytes(sc.trace_id().to_bytes()),
        u64::from_be_bytes(sc.span_id().to_bytes()),
    ))
}
