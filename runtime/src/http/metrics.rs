//! [`HttpMetrics`]: what the tower layer and the actix-web middleware record into, configured
//! once (buckets, routes to skip, constant labels, a bound on route values).

use crate::error::Error;
use crate::record::http::{table, Route, Table};

/// Duration bounds in seconds: OpenTelemetry's advice for `http.server.request.duration`.
pub const DEFAULT_DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Body size bounds in bytes: empty, then powers of four from 64 B to 64 MiB.
pub const DEFAULT_SIZE_BUCKETS: [u64; 12] = [
    0, 64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864,
];

/// Distinct route values kept by default; more share the value `_OTHER`.
pub const DEFAULT_ROUTE_LIMIT: usize = 500;

/// The HTTP server metrics of a set of requests: `http_server_request_duration_seconds`,
/// `http_server_active_requests`, `http_server_request_body_size_bytes` and
/// `http_server_response_body_size_bytes`, served from [`registry()`](crate::registry()).
///
/// Cheap to clone (no reference count). Each `build()` keeps its skip list for the life of
/// the process (build metrics once, at start-up). Two `HttpMetrics` with the same constant labels share their series.
///
/// ```
/// use instrument_metrics::http::HttpMetrics;
///
/// let metrics = HttpMetrics::builder()
///     .skip("/metrics")
///     .label("service", "checkout")
///     .duration_buckets([0.01, 0.1, 1.0])
///     .build()?;
/// # let _ = metrics;
/// # Ok::<(), instrument_metrics::Error>(())
/// ```
#[derive(Clone)]
pub struct HttpMetrics {
    table: &'static Table,
    /// Leaked once per `build()`: a framework clones the service per request, and an `Arc`
    /// here would cost two locked operations each time.
    skip: &'static [Box<str>],
}

impl std::fmt::Debug for HttpMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpMetrics")
            .field("labels", &self.table.labels)
            .field("skip", &self.skip)
            .finish_non_exhaustive()
    }
}

impl Default for HttpMetrics {
    /// No constant labels, default buckets, nothing skipped. If the builder already made
    /// metrics without constant labels, these share them (and their buckets).
    ///
    /// ```
    /// let metrics = instrument_metrics::http::HttpMetrics::default();
    /// # let _ = metrics;
    /// ```
    fn default() -> Self {
        let table = table(
            Vec::new(),
            DEFAULT_DURATION_BUCKETS.to_vec(),
            DEFAULT_SIZE_BUCKETS.to_vec(),
            DEFAULT_ROUTE_LIMIT,
            None,
            None,
        )
        .unwrap_or_else(|(existing, _)| existing);
        // A registry that already has these names still gets the series recorded; the
        // builder's `build()` is where that failure is reported.
        let _ = crate::expose::registry::register_group(crate::expose::catalog::Group::Http);
        HttpMetrics { table, skip: &[] }
    }
}

impl HttpMetrics {
    /// A builder for metrics with other buckets, skipped routes or constant labels.
    ///
    /// ```
    /// let metrics = instrument_metrics::http::HttpMetrics::builder().skip("/health").build().unwrap();
    /// # let _ = metrics;
    /// ```
    #[must_use]
    pub fn builder() -> HttpMetricsBuilder {
        HttpMetricsBuilder::default()
    }

    /// Whether requests on this route template (or, without one, this path) are left alone.
    #[cfg_attr(not(any(feature = "tower", feature = "actix-web")), allow(dead_code))]
    #[inline]
    pub(crate) fn skips(&self, route_or_path: &str) -> bool {
        self.skip.iter().any(|s| **s == *route_or_path)
    }

    #[cfg_attr(not(any(feature = "tower", feature = "actix-web")), allow(dead_code))]
    pub(crate) fn table(&self) -> &'static Table {
        self.table
    }

    /// The route for a template; `stable` as [`Table::route`] says.
    #[cfg_attr(not(any(feature = "tower", feature = "actix-web")), allow(dead_code))]
    pub(crate) fn route(&self, template: Option<&str>, stable: bool) -> &'static Route {
        match template {
            Some(t) => self.table.route(t, stable),
            None => self.table.unmatched(),
        }
    }
}

/// Configures [`HttpMetrics`]; [`build`](Self::build) checks everything and registers the
/// families.
///
/// ```
/// let metrics = instrument_metrics::http::HttpMetrics::builder()
///     .size_buckets([0, 1024, 1 << 20])
///     .route_limit(100)
///     .build()
///     .unwrap();
/// # let _ = metrics;
/// ```
#[derive(Clone, Debug)]
pub struct HttpMetricsBuilder {
    duration_buckets: Vec<f64>,
    size_buckets: Vec<u64>,
    skip: Vec<Box<str>>,
    labels: Vec<(String, String)>,
    route_limit: usize,
    histograms: Option<crate::record::native::Histograms>,
    slow_poll_nanos: Option<u64>,
}

impl Default for HttpMetricsBuilder {
    fn default() -> Self {
        HttpMetricsBuilder {
            duration_buckets: DEFAULT_DURATION_BUCKETS.to_vec(),
            size_buckets: DEFAULT_SIZE_BUCKETS.to_vec(),
            skip: Vec::new(),
            labels: Vec::new(),
            route_limit: DEFAULT_ROUTE_LIMIT,
            histograms: None,
            slow_poll_nanos: None,
        }
    }
}

impl HttpMetricsBuilder {
    /// Upper bounds of the duration histogram, in seconds: finite, positive, increasing.
    ///
    /// ```
    /// let b = instrument_metrics::http::HttpMetrics::builder().duration_buckets([0.05, 0.5, 5.0]);
    /// assert!(b.build().is_ok());
    /// ```
    #[must_use]
    pub fn duration_buckets(mut self, bounds: impl IntoIterator<Item = f64>) -> Self {
        self.duration_buckets = bounds.into_iter().collect();
        self
    }

    /// Upper bounds of both body size histograms, in bytes: increasing.
    ///
    /// ```
    /// let b = instrument_metrics::http::HttpMetrics::builder().size_buckets([0, 100, 10_000]);
    /// assert!(b.build().is_ok());
    /// ```
    #[must_use]
    pub fn size_buckets(mut self, bounds: impl IntoIterator<Item = u64>) -> Self {
        self.size_buckets = bounds.into_iter().collect();
        self
    }

    /// Leaves requests on this route alone (matched against the route template, or the path
    /// when there is none): `/metrics` itself, health checks.
    ///
    /// ```
    /// let b = instrument_metrics::http::HttpMetrics::builder().skip("/metrics").skip("/health");
    /// assert!(b.build().is_ok());
    /// ```
    #[must_use]
    pub fn skip(mut self, route: impl Into<String>) -> Self {
        self.skip.push(route.into().into_boxed_str());
        self
    }

    /// A constant label on every series (`service="checkout"`). Names are checked by
    /// [`build`](Self::build): valid Prometheus label names, not the ones this library sets.
    ///
    /// ```
    /// let b = instrument_metrics::http::HttpMetrics::builder().label("service", "api");
    /// assert!(b.build().is_ok());
    /// ```
    #[must_use]
    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push((name.into(), value.into()));
        self
    }

    /// How many distinct route values to keep (default [`DEFAULT_ROUTE_LIMIT`]); every further
    /// one is recorded as `_OTHER` and counted in `instrument_metrics_http_route_overflow_total`.
    /// A guard for custom route extraction: axum's and actix's templates are few anyway.
    ///
    /// ```
    /// let b = instrument_metrics::http::HttpMetrics::builder().route_limit(50);
    /// assert!(b.build().is_ok());
    /// ```
    #[must_use]
    pub fn route_limit(mut self, limit: usize) -> Self {
        self.route_limit = limit;
        self
    }

    /// How the request duration histogram is exposed: classic `le` buckets, native
    /// (exponential) buckets for protobuf scrapes, or both. Without this call it follows
    /// [`set_default_histograms`](crate::set_default_histograms) as it is when each series is first seen.
    ///
    /// ```
    /// use instrument_metrics::Histograms;
    ///
    /// let b = instrument_metrics::http::HttpMetrics::builder()
    ///     .label("histograms", "both")
    ///     .histograms(Histograms::Both);
    /// assert!(b.build().is_ok());
    /// ```
    #[must_use]
    pub fn histograms(mut self, kind: crate::record::native::Histograms) -> Self {
        self.histograms = Some(kind);
        self
    }

    /// Keeps each request's busy time: the time spent inside `poll` of its handler's future and
    /// of its response body, summed, beside its wall-clock duration, as
    /// `http_server_request_busy_seconds{http_request_method,http_route}` (a histogram in the
    /// duration buckets); and its polls longer than 10 ms (a worker blocked that long delays
    /// every task queued behind it) as `http_server_request_slow_polls_total`. A handler whose
    /// busy time is close to its duration computes or blocks; one far below it waits. Costs two
    /// clock reads per poll; off by default.
    ///
    /// ```
    /// let metrics = instrument_metrics::http::HttpMetrics::builder()
    ///     .label("busy", "doc")
    ///     .polls()
    ///     .build()?;
    /// # let _ = metrics;
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn polls(self) -> Self {
        self.slow_poll(std::time::Duration::from_nanos(
            crate::record::polls::DEFAULT_SLOW_POLL_NANOS,
        ))
    }

    /// [`polls`](Self::polls) with another threshold for a slow poll.
    ///
    /// ```
    /// let metrics = instrument_metrics::http::HttpMetrics::builder()
    ///     .label("busy", "doc_1ms")
    ///     .slow_poll(std::time::Duration::from_millis(1))
    ///     .build()?;
    /// # let _ = metrics;
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn slow_poll(mut self, threshold: std::time::Duration) -> Self {
        self.slow_poll_nanos = Some(u64::try_from(threshold.as_nanos()).unwrap_or(u64::MAX));
        self
    }

    /// Checks the configuration and registers the HTTP families in
    /// [`registry()`](crate::registry()) (choosing it, if not done yet).
    ///
    /// ```
    /// let err = instrument_metrics::http::HttpMetrics::builder()
    ///     .duration_buckets([1.0, 0.5])
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("increasing"));
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for bad buckets, label names or a clash with metrics that have
    /// the same labels and other buckets or route limit; [`Error::Prometheus`] when the registry already
    /// has families of these names (the series are recorded all the same).
    pub fn build(self) -> Result<HttpMetrics, Error> {
        check_duration_buckets(&self.duration_buckets)?;
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
        let table = table(
            self.labels,
            self.duration_buckets,
            self.size_buckets,
            self.route_limit,
            self.histograms,
            self.slow_poll_nanos,
        )
        .map_err(|(_, why)| Error::InvalidConfig(why))?;
        let metrics = HttpMetrics {
            table,
            skip: if self.skip.is_empty() {
                &[]
            } else {
                Box::leak(self.skip.into_boxed_slice())
            },
        };
        crate::expose::registry::register_group(crate::expose::catalog::Group::Http)?;
        Ok(metrics)
    }
}

pub(crate) fn check_duration_buckets(bounds: &[f64]) -> Result<(), Error> {
    if bounds.is_empty() {
        return Err(Error::InvalidConfig(
            "duration buckets are empty: give at least one bound, in seconds".to_owned(),
        ));
    }
    if let Some(b) = bounds.iter().find(|b| !b.is_finite() || **b <= 0.0) {
        return Err(Error::InvalidConfig(format!(
            "duration bucket {b} is not a finite number of seconds above 0"
        )));
    }
    if bounds.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::InvalidConfig(
            "duration buckets must be strictly increasing".to_owned(),
        ));
    }
    Ok(())
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
    if name.starts_with("__") || crate::expose::catalog::http::RESERVED.contains(&name) {
        return Err(Error::InvalidConfig(format!(
            "label `{name}` is set by the HTTP metrics themselves; pick another name"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_configurations_are_errors_not_panics() {
        let b = HttpMetrics::builder;
        for (builder, needle) in [
            (b().duration_buckets([]), "empty"),
            (b().duration_buckets([0.0]), "above 0"),
            (b().duration_buckets([f64::NAN]), "finite"),
            (b().duration_buckets([1.0, 1.0]), "increasing"),
            (b().size_buckets([10, 5]), "increasing"),
            (b().label("2x", "v"), "not a label name"),
            (b().label("http_route", "v"), "set by the HTTP metrics"),
            (b().label("__x", "v"), "set by the HTTP metrics"),
            (b().label("a", "1").label("a", "2"), "twice"),
        ] {
            let err = builder.build().unwrap_err().to_string();
            assert!(err.contains(needle), "{err:?} should say {needle:?}");
        }
    }
}
