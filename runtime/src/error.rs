//! The one error type of the runtime.

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// What can go wrong at run time. Library code returns it; it never panics on a user's path.
///
/// ```
/// let r: &'static instrument_metrics::prometheus::Registry =
///     Box::leak(Box::new(instrument_metrics::prometheus::Registry::new()));
/// instrument_metrics::registry(); // the default registry is now the one in use
/// let err = instrument_metrics::use_registry(r).unwrap_err();
/// assert!(matches!(err, instrument_metrics::Error::RegistryAlreadyChosen));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// [`use_registry`](crate::use_registry) came after the registry was already in use.
    RegistryAlreadyChosen,
    /// The `prometheus` crate refused a registration.
    Prometheus(prometheus::Error),
    /// A Pushgateway push or delete failed, or was refused before sending (feature `push`).
    #[cfg(feature = "push")]
    Push(crate::push::PushError),
    /// The exporter could not listen on `addr` (in use, not an address of this host, no
    /// permission for the port, ...).
    ///
    /// ```
    /// # #[cfg(feature = "exporter")] {
    /// let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let addr = taken.local_addr().unwrap();
    /// let err = instrument_metrics::serve(addr).unwrap_err();
    /// assert!(matches!(err, instrument_metrics::Error::Bind { addr: a, .. } if a == addr));
    /// # }
    /// ```
    Bind {
        /// The address that could not be bound (the last one tried, if it resolved to several).
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// Any other I/O failure: an address that does not resolve, or the exporter's thread or
    /// runtime that cannot be started.
    ///
    /// ```
    /// # #[cfg(feature = "exporter")] {
    /// let err = instrument_metrics::serve("no port here").unwrap_err();
    /// assert!(matches!(err, instrument_metrics::Error::Io(_)));
    /// # }
    /// ```
    Io(io::Error),
    /// A configuration the library refused, with what to change: bad buckets, an invalid or
    /// reserved label name, a conflicting set of HTTP metrics.
    ///
    /// ```
    /// # #[cfg(feature = "http")] {
    /// let err = instrument_metrics::http::HttpMetrics::builder()
    ///     .label("http_route", "x")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(err, instrument_metrics::Error::InvalidConfig(_)));
    /// # }
    /// ```
    InvalidConfig(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::RegistryAlreadyChosen => f.write_str(
                "the registry was already chosen: call use_registry() before the first registry(), render() or scrape",
            ),
            Error::Prometheus(e) => write!(f, "prometheus: {e}"),
            #[cfg(feature = "push")]
            Error::Push(e) => write!(f, "pushgateway: {e}"),
            Error::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            Error::Io(e) => write!(f, "I/O: {e}"),
            Error::InvalidConfig(why) => write!(f, "invalid configuration: {why}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Prometheus(e) => Some(e),
            #[cfg(feature = "push")]
            Error::Push(e) => Some(e),
            Error::Bind { source, .. } => Some(source),
            Error::Io(e) => Some(e),
            Error::RegistryAlreadyChosen | Error::InvalidConfig(_) => None,
        }
    }
}

impl From<prometheus::Error> for Error {
    fn from(e: prometheus::Error) -> Self {
        Error::Prometheus(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}
