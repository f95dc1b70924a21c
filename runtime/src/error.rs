//! The one error type of the runtime.

use std::fmt;

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
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::RegistryAlreadyChosen => f.write_str(
                "the registry was already chosen: call use_registry() before the first registry(), render() or scrape",
            ),
            Error::Prometheus(e) => write!(f, "prometheus: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Prometheus(e) => Some(e),
            Error::RegistryAlreadyChosen => None,
        }
    }
}

impl From<prometheus::Error> for Error {
    fn from(e: prometheus::Error) -> Self {
        Error::Prometheus(e)
    }
}
