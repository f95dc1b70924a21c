//! Content negotiation as client_golang does it: the format a scraper's `Accept` asks for
//! (protobuf, OpenMetrics 1.0 or text 0.0.4, for every header Prometheus 2.x and 3.x sends),
//! the `escaping=` scheme, the matching `Content-Type`, and whether `Accept-Encoding` allows
//! gzip.

use std::borrow::Cow;

/// `Content-Type` of text format 0.0.4, as sent when the scraper names no escaping scheme
/// (client_golang's default, `underscores`; our names are valid legacy names, so every scheme
/// leaves them as they are).
///
/// ```
/// use instrument_metrics::exposition::{Format, TEXT_CONTENT_TYPE};
/// assert_eq!(Format::PrometheusText.content_type(), TEXT_CONTENT_TYPE);
/// ```
pub const TEXT_CONTENT_TYPE: &str =
    "text/plain; version=0.0.4; charset=utf-8; escaping=underscores";
/// `Content-Type` of OpenMetrics 1.0 text, as sent when the scraper names no escaping scheme.
///
/// ```
/// use instrument_metrics::exposition::{Format, OPENMETRICS_CONTENT_TYPE};
/// assert_eq!(Format::OpenMetrics.content_type(), OPENMETRICS_CONTENT_TYPE);
/// ```
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores";

/// `Content-Type` of the protobuf exposition (length-delimited `MetricFamily` messages, see
/// [`render_protobuf`](crate::exposition::render_protobuf)), as sent when the scraper names no escaping
/// scheme: client_golang's string, byte for byte.
///
/// ```
/// use instrument_metrics::exposition::{Format, PROTOBUF_CONTENT_TYPE};
/// assert_eq!(Format::Protobuf.content_type(), PROTOBUF_CONTENT_TYPE);
/// ```
pub const PROTOBUF_CONTENT_TYPE: &str = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores";

/// How a scraper wants names that are not valid legacy names escaped (`escaping=` in
/// `Accept`, echoed in `Content-Type`). Our own names are always valid legacy names, so every
/// scheme is the identity on them.
///
/// ```
/// use instrument_metrics::exposition::{negotiate, Escaping};
/// let p3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,*/*;q=0.2";
/// assert_eq!(negotiate(Some(p3)).escaping, Escaping::AllowUtf8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escaping {
    /// `allow-utf-8`: names as they are.
    AllowUtf8,
    /// `underscores`: invalid characters become `_` (the default).
    Underscores,
    /// `dots`: `.` becomes `_dot_`, other invalid characters `_`.
    Dots,
    /// `values`: invalid names are `U__` followed by the code points of invalid characters.
    Values,
}

impl Escaping {
    fn parse(v: &str) -> Option<Escaping> {
        match v {
            "allow-utf-8" => Some(Escaping::AllowUtf8),
            "underscores" => Some(Escaping::Underscores),
            "dots" => Some(Escaping::Dots),
            "values" => Some(Escaping::Values),
            _ => None,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What negotiation chose: a format, the OpenMetrics version asked for, and the escaping
/// scheme, which together give the `Content-Type`.
///
/// ```
/// use instrument_metrics::exposition::{negotiate, Format};
/// let n = negotiate(Some("application/openmetrics-text"));
/// assert_eq!(n.format, Format::OpenMetrics);
/// assert_eq!(n.content_type(), "application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=underscores");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// The body's format.
    pub format: Format,
    /// The escaping scheme named in `Content-Type`.
    pub escaping: Escaping,
    /// OpenMetrics 0.0.1 was asked for (an unversioned or `version=0.0.1` range); the body is
    /// the same, the `Content-Type` says which.
    om_0_0_1: bool,
}

/// Every `Content-Type` we send: [text 0.0.4, OpenMetrics 1.0.0, OpenMetrics 0.0.1, protobuf]
/// by escaping.
const CONTENT_TYPES: [[&str; 4]; 4] = [
    [
        "text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8",
        TEXT_CONTENT_TYPE,
        "text/plain; version=0.0.4; charset=utf-8; escaping=dots",
        "text/plain; version=0.0.4; charset=utf-8; escaping=values",
    ],
    [
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
        OPENMETRICS_CONTENT_TYPE,
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=dots",
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=values",
    ],
    [
        "application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=allow-utf-8",
        "application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=underscores",
        "application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=dots",
        "application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=values",
    ],
    [
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=allow-utf-8",
        PROTOBUF_CONTENT_TYPE,
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=dots",
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=values",
    ],
];

impl Negotiated {
    /// The `Content-Type` header value for this answer.
    ///
    /// ```
    /// use instrument_metrics::exposition::{negotiate, TEXT_CONTENT_TYPE};
    /// assert_eq!(negotiate(None).content_type(), TEXT_CONTENT_TYPE);
    /// ```
    #[must_use]
    pub fn content_type(self) -> &'static str {
        let row = match (self.format, self.om_0_0_1) {
            (Format::PrometheusText, _) => 0,
            (Format::OpenMetrics, false) => 1,
            (Format::OpenMetrics, true) => 2,
            (Format::Protobuf, _) => 3,
        };
        CONTENT_TYPES[row][self.escaping.index()]
    }
}

/// An exposition format.
///
/// ```
/// use instrument_metrics::exposition::Format;
/// assert_eq!(Format::OpenMetrics.content_type(), "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format 0.0.4: the fallback every scraper understands.
    PrometheusText,
    /// OpenMetrics 1.0 text, which Prometheus prefers.
    OpenMetrics,
    /// Length-delimited protobuf `io.prometheus.client.MetricFamily` messages, which
    /// Prometheus asks for first when native histograms are on.
    Protobuf,
}

impl Format {
    /// The `Content-Type` header value for a body in this format, when the scraper named no
    /// escaping scheme and (for OpenMetrics) asked for 1.0.0; [`Scrape::content_type`](crate::exposition::Scrape::content_type) has
    /// the negotiated one.
    ///
    /// ```
    /// use instrument_metrics::exposition::Format;
    /// assert!(Format::PrometheusText.content_type().starts_with("text/plain; version=0.0.4"));
    /// ```
    #[must_use]
    pub const fn content_type(self) -> &'static str {
        match self {
            Format::PrometheusText => TEXT_CONTENT_TYPE,
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
            Format::Protobuf => PROTOBUF_CONTENT_TYPE,
        }
    }
}

/// Negotiates as client_golang does: the `Accept` ranges in order of `q` (highest first, the
/// earlier on a tie, a wildcard after a named type), each range's valid `escaping=` taken as
/// it is passed, the first range we speak chosen: protobuf (`application/vnd.google.protobuf`
/// with `proto=io.prometheus.client.MetricFamily` and `encoding=delimited`), OpenMetrics
/// 1.0.0, OpenMetrics 0.0.1 (an unversioned OpenMetrics range), text 0.0.4 (an unversioned
/// `text/plain`). Nothing else matches (`*/*`, `text/plain;version=1.0.0` and protobuf's
/// `encoding=text` / `compact-text` debugging forms included), and without a match the answer
/// is text 0.0.4. The escaping scheme defaults to `underscores`.
///
/// ```
/// use instrument_metrics::exposition::{negotiate, Escaping, Format};
///
/// // What Prometheus 2.x sends.
/// let p2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// assert_eq!(negotiate(Some(p2)).format, Format::OpenMetrics);
/// assert_eq!(negotiate(Some("text/plain")).format, Format::PrometheusText);
/// assert_eq!(negotiate(None).format, Format::PrometheusText);
///
/// // What Prometheus 3.4 sends.
/// let p3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
/// let n = negotiate(Some(p3));
/// assert_eq!((n.format, n.escaping), (Format::OpenMetrics, Escaping::AllowUtf8));
/// assert_eq!(n.content_type(), "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8");
///
/// // With native histograms on, protobuf first.
/// let native = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,*/*;q=0.1";
/// let n = negotiate(Some(native));
/// assert_eq!(n.format, Format::Protobuf);
/// assert_eq!(n.content_type(), "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores");
/// ```
#[must_use]
pub fn negotiate(accept: Option<&str>) -> Negotiated {
    let mut escaping = Escaping::Underscores;
    let answer = |format, om_0_0_1, escaping| Negotiated {
        format,
        escaping,
        om_0_0_1,
    };
    let Some(accept) = accept else {
        return answer(Format::PrometheusText, false, escaping);
    };
    struct Range<'a> {
        q: f32,
        wildcard: bool,
        media: String,
        params: Vec<(String, &'a str)>,
    }
    let mut ranges: Vec<Range<'_>> = Vec::new();
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        if media.is_empty() {
            continue;
        }
        let mut q = 1.0f32;
        let mut params = Vec::new();
        for param in parts {
            let Some((k, v)) = param.split_once('=') else {
                continue;
            };
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim().trim_matches('"');
            if k == "q" {
                q = v.parse().unwrap_or(0.0);
            } else {
                params.push((k, v));
            }
        }
        if q.is_nan() || q <= 0.0 {
            continue;
        }
        ranges.push(Range {
            q,
            wildcard: media.contains('*'),
            media,
            params,
        });
    }
    // Stable: equal q keeps the header's order, a wildcard goes after a named type.
    ranges.sort_by(|a, b| b.q.total_cmp(&a.q).then(a.wildcard.cmp(&b.wildcard)));
    for r in &ranges {
        let param = |name: &str| r.params.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
        if let Some(e) = param("escaping").and_then(Escaping::parse) {
            escaping = e;
        }
        if r.media == "application/vnd.google.protobuf"
            && param("proto") == Some("io.prometheus.client.MetricFamily")
            && param("encoding") == Some("delimited")
        {
            return answer(Format::Protobuf, false, escaping);
        }
        match (r.media.as_str(), param("version")) {
            ("application/openmetrics-text", Some("1.0.0")) => {
                return answer(Format::OpenMetrics, false, escaping);
            }
            ("application/openmetrics-text", None | Some("0.0.1")) => {
                return answer(Format::OpenMetrics, true, escaping);
            }
            ("text/plain", None | Some("0.0.4")) => {
                return answer(Format::PrometheusText, false, escaping);
            }
            _ => {}
        }
    }
    answer(Format::PrometheusText, false, escaping)
}

/// Whether an `Accept-Encoding` header allows gzip (`gzip` or `*` with a non-zero `q`).
///
/// ```
/// use instrument_metrics::exposition::accepts_gzip;
/// assert!(accepts_gzip(Some("gzip")));
/// assert!(accepts_gzip(Some("br;q=1.0, gzip;q=0.8")));
/// assert!(!accepts_gzip(Some("gzip;q=0")));
/// assert!(!accepts_gzip(None));
/// ```
#[must_use]
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let Some(header) = accept_encoding else {
        return false;
    };
    let mut star = false;
    for coding in header.split(',') {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .map_or(1.0, |(_, v)| v.trim().parse::<f32>().unwrap_or(0.0));
        match name.as_str() {
            "gzip" | "x-gzip" => return q > 0.0,
            "*" => star = q > 0.0,
            _ => {}
        }
    }
    star
}

/// The values of a header that appeared several times, comma-joined as RFC 9110 allows for
/// list-valued headers such as `Accept`; borrowed when it appeared once. Each framework
/// handler feeds it its own header type's values.
#[cfg_attr(
    not(any(feature = "exporter", feature = "axum", feature = "actix-web")),
    allow(dead_code)
)]
pub(crate) fn join_header_values<'a>(
    mut values: impl Iterator<Item = &'a str>,
) -> Option<Cow<'a, str>> {
    let first = values.next()?;
    match values.next() {
        None => Some(Cow::Borrowed(first)),
        Some(second) => {
            let mut all = format!("{first}, {second}");
            for more in values {
                all.push_str(", ");
                all.push_str(more);
            }
            Some(Cow::Owned(all))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{accepts_gzip, negotiate, Format};

    fn format(accept: Option<&str>) -> Format {
        negotiate(accept).format
    }

    /// The `Accept` headers Prometheus sends (default, and with native histograms on, which
    /// puts protobuf first) and what we answer, as client_golang does: protobuf when it comes
    /// first, with the escaping its own range names (3.4+ names none there: `underscores`).
    #[test]
    fn every_prometheus_accept_header_gets_what_client_golang_would_answer() {
        const OM1_UNDERSCORES: &str =
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores";
        const OM1_UTF8: &str =
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8";
        const PROTO_UNDERSCORES: &str = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores";
        const PROTO_UTF8: &str = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=allow-utf-8";
        let table: [(&str, &str, &str); 8] = [
            (
                "2.42 (to 2.48)",
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
                OM1_UNDERSCORES,
            ),
            (
                "2.42, native histograms",
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
                PROTO_UNDERSCORES,
            ),
            (
                "2.53 (2.49 to 2.55)",
                "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
                OM1_UNDERSCORES,
            ),
            (
                "2.53, native histograms",
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,application/openmetrics-text;version=0.0.1;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
                PROTO_UNDERSCORES,
            ),
            (
                "3.0 (to 3.3)",
                "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;escaping=allow-utf-8;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;escaping=allow-utf-8;q=0.3,*/*;q=0.2",
                OM1_UTF8,
            ),
            (
                "3.0, native histograms",
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;escaping=allow-utf-8;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;escaping=allow-utf-8;q=0.2,*/*;q=0.1",
                PROTO_UTF8,
            ),
            (
                "3.4+",
                "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
                OM1_UTF8,
            ),
            (
                "3.4+, native histograms",
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
                PROTO_UNDERSCORES,
            ),
        ];
        for (version, accept, want) in table {
            assert_eq!(
                negotiate(Some(accept)).content_type(),
                want,
                "Prometheus {version}"
            );
        }
    }

    #[test]
    fn other_headers_get_client_golang_answers() {
        let ct = |a: Option<&str>| negotiate(a).content_type();
        let text = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores";
        assert_eq!(ct(None), text);
        assert_eq!(ct(Some("*/*")), text);
        assert_eq!(ct(Some("text/plain")), text);
        // Text 1.0.0 alone is not a format client_golang negotiates: the fallback, with its escaping.
        assert_eq!(
            ct(Some("text/plain;version=1.0.0;escaping=allow-utf-8")),
            "text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8"
        );
        assert_eq!(
            ct(Some("application/openmetrics-text")),
            "application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=underscores"
        );
        assert_eq!(
            ct(Some(
                "application/openmetrics-text;version=0.0.1;escaping=dots"
            )),
            "application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=dots"
        );
        // An unknown scheme is ignored; a later valid one still counts.
        assert_eq!(
            ct(Some(
                "application/openmetrics-text;version=1.0.0;escaping=bogus"
            )),
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"
        );
        assert_eq!(
            ct(Some(
                "application/json;escaping=values;q=0.9,text/plain;q=0.5"
            )),
            "text/plain; version=0.0.4; charset=utf-8; escaping=values"
        );
        // A wildcard never outranks a named type of the same q.
        assert_eq!(
            ct(Some(
                "*/*;q=0.5,application/openmetrics-text;version=1.0.0;q=0.5"
            )),
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"
        );
    }

    #[test]
    fn prometheus_3_accept_header_gets_openmetrics() {
        let p3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
        assert_eq!(format(Some(p3)), Format::OpenMetrics);
    }

    #[test]
    fn protobuf_is_answered_only_for_delimited_metric_families() {
        let native = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.9,text/plain;version=0.0.4;q=0.5";
        assert_eq!(format(Some(native)), Format::Protobuf);
        let ct = |a: &str| negotiate(Some(a)).content_type();
        assert_eq!(
            ct("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=dots"),
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=dots"
        );
        // Higher q wins over protobuf's place in the header.
        assert_eq!(
            format(Some("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,application/openmetrics-text;version=1.0.0;q=0.9")),
            Format::OpenMetrics
        );
        // The text forms (debugging), another message, or no encoding: not spoken; the next
        // range (or the fallback) answers, with the escaping the skipped range named.
        for other in [
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text",
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=compact-text",
            "application/vnd.google.protobuf;proto=other.Message;encoding=delimited",
            "application/vnd.google.protobuf;encoding=delimited",
            "application/vnd.google.protobuf",
        ] {
            assert_eq!(format(Some(other)), Format::PrometheusText, "{other}");
        }
        assert_eq!(
            ct("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text;escaping=values"),
            "text/plain; version=0.0.4; charset=utf-8; escaping=values"
        );
    }

    #[test]
    fn preference_follows_q_values() {
        assert_eq!(
            format(Some(
                "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5"
            )),
            Format::PrometheusText
        );
        assert_eq!(
            format(Some("application/openmetrics-text;version=2.0.0")),
            Format::PrometheusText
        );
        assert_eq!(format(Some("application/json")), Format::PrometheusText);
        assert_eq!(
            format(Some("application/openmetrics-text;q=0")),
            Format::PrometheusText
        );
        assert_eq!(format(Some("garbage;;;=,,q=")), Format::PrometheusText);
    }

    #[test]
    fn gzip_only_when_allowed() {
        assert!(accepts_gzip(Some("*")));
        assert!(!accepts_gzip(Some("*;q=0")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(!accepts_gzip(Some("gzip;q=0, *")));
    }
}
