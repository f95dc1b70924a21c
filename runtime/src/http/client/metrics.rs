//! [`HttpClientMetrics`]: what the client layer and the reqwest middleware record into,
//! configured once (buckets, constant labels, a bound on server addresses).

use crate::error::Error;
use crate::http::metrics::{DEFAULT_DURATION_BUCKETS, DEFAULT_SIZE_BUCKETS};
use crate::record::http::method_index;
use crate::record::native::Histograms;
use crate::record::outbound::{client_table, Call, ClientTable};

/// Distinct (server address, port) pairs kept by default; calls to more share the value
/// `_OTHER`.
pub const DEFAULT_ADDRESS_LIMIT: usize = 100;

/// The HTTP client metrics of a set of outbound calls: `http_client_request_duration_seconds`,
/// `http_client_active_requests`, `http_client_request_body_size_bytes` and
/// `http_client_response_body_size_bytes`, served from [`registry()`](crate::registry()).
///
/// Cheap to clone (a reference). Two `HttpClientMetrics` with the same constant labels share
/// their series; give a client of its own a label (`peer="billing"`) to tell its calls apart.
///
/// ```
/// use instrument_metrics::http::HttpClientMetrics;
///
/// let metrics = HttpClientMetrics::builder()
///     .label("client", "billing")
///     .address_limit(20)
///     .build()?;
/// # let _ = metrics;
/// # Ok::<(), instrument_metrics::Error>(())
/// ```
#[derive(Clone)]
pub struct HttpClientMetrics {
    table: &'static ClientTable,
}

impl std::fmt::Debug for HttpClientMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientMetrics")
            .field("labels", &self.table.labels)
            .finish_non_exhaustive()
    }
}

impl Default for HttpClientMetrics {
    /// No constant labels, default buckets and address limit. If the builder already made
    /// metrics without constant labels, these share them (and their buckets).
    ///
    /// ```
    /// let metrics = instrument_metrics::http::HttpClientMetrics::default();
    /// # let _ = metrics;
    /// ```
    fn default() -> Self {
        let table = client_table(
            Vec::new(),
            DEFAULT_DURATION_BUCKETS.to_vec(),
            DEFAULT_SIZE_BUCKETS.to_vec(),
            DEFAULT_ADDRESS_LIMIT,
            None,
        )
        .unwrap_or_else(|(existing, _)| existing);
        // A registry that already has these names still gets the series recorded; the
        // builder's `build()` is where that failure is reported.
        let _ = crate::expose::registry::register_group(crate::expose::catalog::Group::HttpClient);
        HttpClientMetrics { table }
    }
}

impl HttpClientMetrics {
    /// A builder for metrics with other buckets, constant labels or address limit.
    ///
    /// ```
    /// let metrics = instrument_metrics::http::HttpClientMetrics::builder().build().unwrap();
    /// # let _ = metrics;
    /// ```
    #[must_use]
    pub fn builder() -> HttpClientMetricsBuilder {
        HttpClientMetricsBuilder::default()
    }

    /// Starts measuring one call of `method` to `host` (a name or an IP address, IPv6 in
    /// brackets or not) and `port` (0: not known). `request_bytes` is the request body's
    /// length when known before it is sent.
    #[inline]
    pub(crate) fn begin(
        &self,
        method: &http::Method,
        host: &str,
        port: u16,
        request_bytes: Option<u64>,
    ) -> Call {
        let endpoint = self.table.endpoint(host, port);
        self.table
            .begin(method_index(method), endpoint, request_bytes)
    }
}

/// Configures [`HttpClientMetrics`]; [`build`](Self::build) checks everything and registers
/// the families.
///
/// ```
/// let metrics = instrument_metrics::http::HttpClientMetrics::builder()
///     .size_buckets([0, 1024, 1 << 20])
///     .build()
///     .unwrap();
/// # let _ = metrics;
/// ```
#[derive(Clone, Debug)]
pub struct HttpClientMetricsBuilder {
    duration_buckets: Vec<f64>,
    size_buckets: Vec<u64>,
    labels: Vec<(String, String)>,
    address_limit: usize,
    histograms: Option<Histograms>,
}

impl Default for HttpClientMetricsBuilder {
    fn default() -> Self {
        HttpClientMetricsBuilder {
            duration_buckets: DEFAULT_DURATION_BUCKETS.to_vec(),
            size_buckets: DEFAULT_SIZE_BUCKETS.to_vec(),
            labels: Vec::new(),
            address_limit: DEFAULT_ADDRESS_LIMIT,
            histograms: None,
        }
    }
}

impl HttpClientMetricsBuilder {
    /// Upper bounds of the duration histogram, in seconds: finite, positive, increasing
    /// (default: [`DEFAULT_DURATION_BUCKETS`](crate::http::DEFAULT_DURATION_BUCKETS),
    /// OpenTelemetry's advice for HTTP durations).
    ///
    /// ```
    /// let b = instrument_metrics::http::HttpClientMetrics::builder().duration_buckets([0.05, 0.5, 5.0]);
    /// assert!(b.build().is_ok());
    /// ```
    #[must_use]
    pub fn duration_buckets(mut self, bounds: impl IntoIterator<Item = f64>) -> Self {
        self.duration_buckets = bounds.into_iter().collect();
        self
    }

    /// Upper bounds of both body size histograms, in bytes: increasing (default:
    /// [`DEFAULT_SIZE_BUCKETS`](crate::http::DEFAULT_SIZE_BUCKETS)).
    ///
    /// ```
    /// let b = instrument_metrics::http::HttpClientMetrics::builder().size_buckets([0, 100, 10_000]);
    /// assert!(b.build().is_ok());
    /// ```
    #[must_use]
    pub fn size_buckets(mut self, bounds: impl IntoIterator<Item = u64>) -> Self {
        self.size_buckets = bounds.into_iter().collect();
        self
    }

    /// A constant label on every series (`client="billing"`). Names are checked by
    /// [`build`](Self::build): valid Prometheus label names, not the ones this library sets.
    ///
    /// ```
    /// let b = instrument_metrics::http::HttpClientMetrics::builder().label("client", "billing");
    /// assert!(b.build().is_ok());
    /// ```
    #[must_use]
    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push((name.into(), value.into()));
        self
    }

    /// How many distinct (server address, port) pairs to keep (default
    /// [`DEFAULT_ADDRESS_LIMIT`]); calls to every further one are recorded with
    /// `server_address="_OTHER"` and `server_port="_OTHER"`, and counted in
    /// `instrument_metrics_http_client_address_overflow_total`. A guard for clients that call
    /// hosts taken from data (webhooks, crawlers, per-tenant domains).
    ///
    /// ```
    /// let b = instrument_metrics::http::HttpClientMetrics::builder().address_limit(10);
    /// assert!(b.build().is_ok());
    /// ```
    #[must_use]
    pub fn address_limit(mut self, limit: usize) -> Self {
        self.address_limit = limit;
        self
    }

    /// How the duration histogram is exposed: classic `le` buckets, native (exponential)
    /// buckets for protobuf scrapes, or both. Without this call it follows
    /// [`set_default_histograms`](crate::set_default_histograms) as it is when each series is
    /// first seen.
    ///
    /// ```
    /// use instrument_metrics::Histograms;
    ///
    /// let b = instrument_metrics::http::HttpClientMetrics::builder()
    ///     .label("histograms", "native")
    ///     .histograms(Histograms::Native);
    /// assert!(b.build().is_ok());
    /// ```
    #[must_use]
    pub fn histograms(mut self, kind: Histograms) -> Self {
        self.histograms = Some(kind);
        self
    }

    /// Checks the configuration and registers the HTTP client families in
    /// [`registry()`](crate::registry()) (choosing it, if not done yet).
    ///
    /// ```
    /// let err = instrument_metrics::http::HttpClientMetrics::builder()
    ///     .label("server_address", "x")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("set by the HTTP client metrics"));
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for bad buckets, label names or a clash with metrics that have
    /// the same labels and other buckets or address limit; [`Error::Prometheus`] when the
    /// registry already has families of these names (the series are recorded all the same).
    pub fn build(self) -> Result<HttpClientMetrics, Error> {
        crate::http::metrics::check_duration_buckets(&self.duration_buckets)?;
        if self.size_buckets.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::InvalidConfig(
                "size buckets must be strictly increasing".to_owned(),
            ));
        }
        for (i, (name, _)) in self.labels.iter().enumerate() {
            check_label_name(name)?;
            if self.labels[..i].iter().any(|(n, _)| n == name) {
                return Err(Error::InvalidConfig(format!(
                    "label `{name}` given twice; keep one"
                )));
            }
        }
        let table = client_table(
            self.labels,
            self.duration_buckets,
            self.size_buckets,
            self.address_limit,
            self.histograms,
        )
        .map_err(|(_, why)| Error::InvalidConfig(why))?;
        crate::expose::registry::register_group(crate::expose::catalog::Group::HttpClient)?;
        Ok(HttpClientMetrics { table })
    }
}

fn check_label_name(name: &str) -> Result<(), Error> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(Error::InvalidConfig(format!(
            "`{name}` is not a label name: use letters, digits and `_`, not starting with a digit"
        )));
    }
    if name.starts_with("__") || crate::expose::catalog::http_client::RESERVED.contains(&name) {
        return Err(Error::InvalidConfig(format!(
            "label `{name}` is set by the HTTP client metrics themselves; pick another name"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_configurations_are_errors_not_panics() {
        let b = HttpClientMetrics::builder;
        for (builder, needle) in [
            (b().duration_buckets([]), "empty"),
            (b().duration_buckets([0.0]), "above 0"),
            (b().duration_buckets([1.0, 1.0]), "increasing"),
            (b().size_buckets([10, 5]), "increasing"),
            (b().label("2x", "v"), "not a label name"),
            (
                b().label("server_port", "v"),
                "set by the HTTP client metrics",
            ),
            (b().label("__x", "v"), "set by the HTTP client metrics"),
            (b().label("a", "1").label("a", "2"), "twice"),
        ] {
            let err = builder.build().unwrap_err().to_string();
            assert!(err.contains(needle), "{err:?} should say {needle:?}");
        }
    }
}
