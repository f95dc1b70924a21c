//! The one error type of the runtime, and the errors it carries from its parts (a push's
//! `PushError`). They live here, below everything that fails, so that a part that returns
//! [`Error`] imports this file and this file imports no part: errors flow one way.

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
    Push(PushError),
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

/// Why a push or delete failed. It is carried by [`Error::Push`]; its public path is
/// `instrument_metrics::push::PushError`.
///
/// ```
/// use instrument_metrics::push::{PushError, Pusher};
/// use instrument_metrics::Error;
///
/// let err = Pusher::new("https://gateway.example:9091", "job").unwrap_err();
/// assert!(matches!(err, Error::Push(PushError::Invalid(_))));
/// ```
#[cfg(feature = "push")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushError {
    /// The gateway URL, the job name or a grouping label was refused before anything was sent,
    /// or the metrics to push carry a label that the group sets (`job` or a grouping label).
    Invalid(String),
    /// The gateway answered with a status outside 2xx.
    Status {
        /// The HTTP status code, e.g. 400 or 401.
        status: u16,
        /// What the gateway said (the start of the response body, trimmed).
        message: String,
    },
    /// No complete answer came within the [timeout](crate::push::Pusher::timeout).
    Timeout(std::time::Duration),
    /// The request could not be made or the connection failed: refused, reset, DNS failure…
    Transport(String),
}

#[cfg(feature = "push")]
impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Invalid(why) => f.write_str(why),
            PushError::Status { status, message } if message.is_empty() => {
                write!(f, "the gateway answered {status}")
            }
            PushError::Status { status, message } => {
                write!(f, "the gateway answered {status}: {message}")
            }
            PushError::Timeout(d) => write!(f, "no answer from the gateway within {d:?}"),
            PushError::Transport(why) => write!(f, "cannot reach the gateway: {why}"),
        }
    }
}

#[cfg(feature = "push")]
impl std::error::Error for PushError {}

#[cfg(feature = "push")]
impl From<PushError> for Error {
    fn from(e: PushError) -> Self {
        Error::Push(e)
    }
}
