//! One scrape: everything served, read once (our families from the catalog, the user's
//! gathered from the registry), written in the negotiated format, gzipped when allowed. Every
//! handler (the standalone exporter, axum, actix-web) answers with [`scrape`]; use it to write
//! a handler for another framework.

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::expose::catalog;
use crate::expose::collector::without_our_families;
use crate::expose::created;
use crate::expose::encode::{gathered, protobuf as pb, text};
use crate::expose::negotiate::{accepts_gzip, negotiate, Escaping, Format};
use crate::expose::registry::{decorations, groups, registry};
use crate::expose::snapshot::Family;

/// A ready response body for one scrape: what a handler for any framework sends back.
///
/// ```
/// let s = instrument_metrics::exposition::scrape(Some("text/plain"), Some("identity"));
/// assert!(!s.gzip);
/// let text = String::from_utf8(s.body).unwrap();
/// assert!(!text.contains("# EOF"));
/// ```
#[derive(Clone, Debug)]
pub struct Scrape {
    /// The format the body is in.
    pub format: Format,
    /// The body, gzip-compressed if [`Scrape::gzip`].
    pub body: Vec<u8>,
    /// Whether the body is gzip-compressed.
    pub gzip: bool,
    /// The negotiated `Content-Type` (version and escaping scheme included).
    content_type: &'static str,
}

impl Scrape {
    /// The `Content-Type` header value.
    ///
    /// ```
    /// let s = instrument_metrics::exposition::scrape(None, None);
    /// assert_eq!(s.content_type(), instrument_metrics::exposition::TEXT_CONTENT_TYPE);
    /// ```
    #[must_use]
    pub fn content_type(&self) -> &'static str {
        self.content_type
    }

    /// The `Content-Encoding` header value, if any.
    ///
    /// ```
    /// let s = instrument_metrics::exposition::scrape(None, Some("gzip"));
    /// assert_eq!(s.content_encoding(), Some("gzip"));
    /// ```
    #[must_use]
    pub fn content_encoding(&self) -> Option<&'static str> {
        self.gzip.then_some("gzip")
    }
}

/// Renders the registry for a scraper that sent these `Accept` and `Accept-Encoding` headers.
///
/// ```
/// use instrument_metrics::exposition::{scrape, Format};
///
/// let s = scrape(Some("application/openmetrics-text;version=1.0.0"), None);
/// assert_eq!(s.format, Format::OpenMetrics);
/// assert!(String::from_utf8(s.body).unwrap().ends_with("# EOF\n"));
/// ```
#[must_use]
pub fn scrape(accept: Option<&str>, accept_encoding: Option<&str>) -> Scrape {
    let negotiated = negotiate(accept);
    let format = negotiated.format;
    let content_type = negotiated.content_type();
    let body = match format {
        Format::PrometheusText => text_body(
            text::Dialect::Prometheus,
            text_escaping(negotiated.escaping),
        )
        .into_bytes(),
        Format::OpenMetrics => text_body(
            text::Dialect::OpenMetrics,
            text_escaping(negotiated.escaping),
        )
        .into_bytes(),
        Format::Protobuf => protobuf(negotiated.escaping),
    };
    if accepts_gzip(accept_encoding) {
        if let Some(body) = gzip(&body) {
            return Scrape {
                format,
                body,
                gzip: true,
                content_type,
            };
        }
    }
    Scrape {
        format,
        body,
        gzip: false,
        content_type,
    }
}

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    // Fast level: scrapes are frequent and the text compresses well even so.
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4),
        flate2::Compression::fast(),
    );
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

/// One reading of everything served: our families, then the user's, gathered with ours
/// silenced (they are already in the reading).
fn read(escaping: Escaping) -> Vec<Family> {
    let registry = registry();
    let mut families = catalog::read(groups(), created::started());
    let others = without_our_families(|| registry.gather());
    families.extend(gathered::convert(&others, escaping));
    families
}

/// Everything in [`registry`](crate::registry()), function metrics included, in the Prometheus
/// text format 0.0.4.
///
/// Every instrumented function is there from the start, with each `result` at 0.
///
/// ```
/// use instrument_metrics::instrument_metrics;
///
/// #[instrument_metrics]
/// fn never_called_in_this_example() {}
///
/// let text = instrument_metrics::render();
/// assert!(text.lines().any(|l| l.starts_with(
///     "function_calls_total{function=\"never_called_in_this_example\"") && l.ends_with(" 0")));
/// ```
///
/// Names that are not valid legacy names (ours always are; a collector of yours can yield
/// others) are escaped with `underscores`, as [`TEXT_CONTENT_TYPE`] says.
///
/// [`TEXT_CONTENT_TYPE`]: crate::exposition::TEXT_CONTENT_TYPE
#[must_use]
pub fn render() -> String {
    text_body(text::Dialect::Prometheus, Escaping::Underscores)
}

/// Everything in [`registry`](crate::registry()), in OpenMetrics 1.0 text, ending in `# EOF`.
///
/// ```
/// use instrument_metrics::instrument_metrics;
///
/// #[instrument_metrics]
/// fn om_example() {}
/// om_example();
///
/// let text = instrument_metrics::exposition::render_openmetrics();
/// assert!(text.contains("# TYPE function_calls counter\n"));
/// assert!(text.contains(r#"function_calls_total{function="om_example",module="rust_out",result="ok"} 1"#));
/// assert!(text.ends_with("# EOF\n"));
/// ```
///
/// Names that are not valid legacy names are escaped with `underscores`, as
/// [`OPENMETRICS_CONTENT_TYPE`] says.
///
/// [`OPENMETRICS_CONTENT_TYPE`]: crate::exposition::OPENMETRICS_CONTENT_TYPE
#[must_use]
pub fn render_openmetrics() -> String {
    text_body(text::Dialect::OpenMetrics, Escaping::Underscores)
}

/// The escaping a text dialect applies for a scraper that asked for `escaping`. The text
/// writer cannot quote a name (`{"my.metric"}`, text 1.0.0's and OpenMetrics 2.0's syntax), and
/// an unquoted `my.metric` is refused by every text parser, so a scraper that allows UTF-8 gets
/// `underscores` (legacy names are valid UTF-8 names too).
fn text_escaping(escaping: Escaping) -> Escaping {
    match escaping {
        Escaping::AllowUtf8 => Escaping::Underscores,
        other => other,
    }
}

/// One text exposition in `dialect`, names escaped by `escaping`; OpenMetrics ends in `# EOF`.
fn text_body(dialect: text::Dialect, escaping: Escaping) -> String {
    let families = read(escaping);
    let mut out = String::with_capacity(size_hint(&TEXT_SIZE));
    text::encode(&families, decorations(), dialect, &mut out);
    if dialect == text::Dialect::OpenMetrics {
        out.push_str("# EOF\n");
    }
    TEXT_SIZE.store(out.len(), Ordering::Relaxed);
    out
}

/// Everything in [`registry`](crate::registry()), function metrics included, in the
/// Prometheus protobuf exposition format: length-delimited `io.prometheus.client.MetricFamily`
/// messages (each one behind its length as a base-128 varint), what Prometheus reads when it
/// asks for `application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
/// encoding=delimited` (it does with native histograms on). Names that are not valid legacy
/// names (ours always are) are escaped with `underscores`, the scheme a scraper gets when it
/// names none; [`scrape`] applies the one it asked for.
///
/// Decode it with any protobuf library and client_model's `metrics.proto`; with `prost`,
/// `MetricFamily::decode_length_delimited` in a loop until the buffer is empty.
///
/// ```
/// use instrument_metrics::instrument_metrics;
///
/// #[instrument_metrics]
/// fn protobuf_example() {}
/// protobuf_example();
///
/// let bytes = instrument_metrics::exposition::render_protobuf();
/// // The first message's length, a varint, then the message: field 1 (name) comes first.
/// let (mut len, mut at) = (0usize, 0);
/// while bytes[at] & 0x80 != 0 {
///     len |= usize::from(bytes[at] & 0x7f) << (7 * at);
///     at += 1;
/// }
/// len |= usize::from(bytes[at]) << (7 * at);
/// let first = &bytes[at + 1..at + 1 + len];
/// assert_eq!(first[0], 0x0a); // field 1, length-delimited
/// assert_eq!(&first[2..2 + usize::from(first[1])], b"function_calls_total");
/// ```
#[must_use]
pub fn render_protobuf() -> Vec<u8> {
    protobuf(Escaping::Underscores)
}

fn protobuf(escaping: Escaping) -> Vec<u8> {
    let families = read(escaping);
    let mut out = Vec::with_capacity(size_hint(&PROTOBUF_SIZE));
    pb::encode(&families, decorations(), &mut out);
    PROTOBUF_SIZE.store(out.len(), Ordering::Relaxed);
    out
}

/// The size of the last body of each kind: the next one is sized from it, so a scrape writes
/// into one allocation instead of growing (and copying) its buffer a dozen times.
static TEXT_SIZE: AtomicUsize = AtomicUsize::new(0);
static PROTOBUF_SIZE: AtomicUsize = AtomicUsize::new(0);

fn size_hint(last: &AtomicUsize) -> usize {
    let n = last.load(Ordering::Relaxed);
    // A little room for series that appeared since, and never less than a small page.
    (n + n / 8).max(16 * 1024)
}
