//! [`ExporterBuilder`]: where and how the exporter listens.

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use super::auth::Auth;
use super::config::Config;
use super::exporter::Exporter;
use crate::error::Error;

const MIN_HEADER_READ_TIMEOUT: Duration = Duration::from_millis(100);
const MAX_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

const DEFAULT_ADDR: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::LOCALHOST,
    9898,
));

/// Configures and starts an [`Exporter`]. Every setting has a default; [`serve`](Self::serve)
/// starts it.
///
/// | setting | default |
/// |---|---|
/// | [`addr`](Self::addr) | `127.0.0.1:9898` (loopback only: set `0.0.0.0:…` to be scraped from elsewhere) |
/// | [`path`](Self::path) | `/metrics` |
/// | [`max_concurrent_scrapes`](Self::max_concurrent_scrapes) | 4 |
/// | [`max_connections`](Self::max_connections) | 64 |
/// | [`header_read_timeout`](Self::header_read_timeout) | 5 s (clamped to 100 ms ..= 1 day) |
/// | [`basic_auth`](Self::basic_auth) / [`bearer_token`](Self::bearer_token) | none |
/// | [`live_page`](Self::live_page) / [`without_live_page`](Self::without_live_page) | the [live page](crate::live) at `/`, its JSON at `/api/functions` |
///
/// ```
/// use instrument_metrics::ExporterBuilder;
///
/// let exporter = ExporterBuilder::new()
///     .addr("127.0.0.1:0")
///     .basic_auth("prometheus", "s3cret")
///     .serve()?;
/// # drop(exporter);
/// # Ok::<(), instrument_metrics::Error>(())
/// ```
#[derive(Clone)]
pub struct ExporterBuilder {
    /// The resolved addresses, or why resolving failed (reported by `serve`).
    addrs: Result<Vec<SocketAddr>, (io::ErrorKind, String)>,
    config: Config,
}

impl ExporterBuilder {
    /// The default settings (see the table on [`ExporterBuilder`]).
    ///
    /// ```
    /// let exporter = instrument_metrics::ExporterBuilder::new()
    ///     .addr("127.0.0.1:0")
    ///     .serve()?;
    /// # drop(exporter);
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn new() -> Self {
        ExporterBuilder {
            addrs: Ok(vec![DEFAULT_ADDR]),
            config: Config {
                path: "/metrics".to_owned(),
                max_concurrent_scrapes: 4,
                max_connections: 64,
                header_read_timeout: Duration::from_secs(5),
                auth: None,
                live_page: Some("/".to_owned()),
            },
        }
    }

    /// Where to listen: anything [`ToSocketAddrs`] (`"0.0.0.0:9898"`, `"[::]:9898"`, a
    /// [`SocketAddr`], `("localhost", 9898)`). When it resolves to several addresses, the first
    /// that can be bound is used. An address that does not resolve makes
    /// [`serve`](Self::serve) return [`Error::Io`].
    ///
    /// ```
    /// use std::net::{Ipv4Addr, SocketAddr};
    ///
    /// let exporter = instrument_metrics::Exporter::builder()
    ///     .addr(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    ///     .serve()?;
    /// assert!(exporter.local_addr().ip().is_loopback());
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn addr(mut self, addr: impl ToSocketAddrs) -> Self {
        self.addrs = addr.to_socket_addrs().map(Iterator::collect).map_err(|e| {
            (
                e.kind(),
                format!("cannot resolve the exporter address: {e}"),
            )
        });
        self
    }

    /// The path metrics are served on (default `/metrics`); every other path answers 404.
    /// A missing leading `/` is added.
    ///
    /// ```
    /// let exporter = instrument_metrics::Exporter::builder()
    ///     .addr("127.0.0.1:0")
    ///     .path("/internal/prometheus")
    ///     .serve()?;
    /// # drop(exporter);
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let mut path = path.into();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        self.config.path = path;
        self
    }

    /// How many scrapes may be rendered at the same time (default 4, at least 1); a request
    /// beyond that gets 503 at once instead of piling up behind slow collectors.
    ///
    /// ```
    /// let exporter = instrument_metrics::Exporter::builder()
    ///     .addr("127.0.0.1:0")
    ///     .max_concurrent_scrapes(1)
    ///     .serve()?;
    /// # drop(exporter);
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn max_concurrent_scrapes(mut self, n: usize) -> Self {
        self.config.max_concurrent_scrapes = n.max(1);
        self
    }

    /// How many connections may be open at once (default 64, at least 1), which bounds the
    /// exporter's memory whatever clients do. When a new connection comes in at the limit,
    /// the oldest connection that is not being answered right now is closed to make room,
    /// so a crowd of idle or stalled connections cannot lock the scraper out; if every
    /// connection is being answered, the new one waits in the listen queue.
    ///
    /// ```
    /// let exporter = instrument_metrics::Exporter::builder()
    ///     .addr("127.0.0.1:0")
    ///     .max_connections(16)
    ///     .serve()?;
    /// # drop(exporter);
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn max_connections(mut self, n: usize) -> Self {
        self.config.max_connections = n.max(1);
        self
    }

    /// How long a client has to send a complete request head (default 5 s), counted from
    /// when the connection is accepted or the previous response was sent: slow or silent
    /// clients (slowloris) and idle keep-alive connections are closed after it. Give
    /// Prometheus more than its scrape interval only if you want keep-alive connections to
    /// survive between scrapes; reconnecting is cheap.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let exporter = instrument_metrics::Exporter::builder()
    ///     .addr("127.0.0.1:0")
    ///     .header_read_timeout(Duration::from_secs(2))
    ///     .serve()?;
    /// # drop(exporter);
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    ///
    /// Clamped to between 100 ms and one day: a zero timeout would close every connection, and
    /// a huge one overflows the clock arithmetic inside hyper.
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_read_timeout =
            timeout.clamp(MIN_HEADER_READ_TIMEOUT, MAX_HEADER_READ_TIMEOUT);
        self
    }

    /// Requires HTTP Basic credentials (`basic_auth` in Prometheus's scrape config) on the
    /// metrics path; without them, or with wrong ones, the answer is 401 with
    /// `WWW-Authenticate: Basic`. Replaces an earlier [`bearer_token`](Self::bearer_token).
    /// Credentials travel in clear text: put TLS in front when the network is not trusted.
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// let exporter = instrument_metrics::Exporter::builder()
    ///     .addr("127.0.0.1:0")
    ///     .basic_auth("prometheus", "s3cret")
    ///     .serve()?;
    ///
    /// let mut conn = std::net::TcpStream::connect(exporter.local_addr())?;
    /// conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    /// let mut response = String::new();
    /// conn.read_to_string(&mut response)?;
    /// assert!(response.starts_with("HTTP/1.1 401 Unauthorized\r\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        self.config.auth = Some(Auth::basic(user, password));
        self
    }

    /// Requires `Authorization: Bearer <token>` (`authorization` / `bearer_token` in
    /// Prometheus's scrape config) on the metrics path; without it, or with another token,
    /// the answer is 401 with `WWW-Authenticate: Bearer`. An empty token matches nothing.
    /// Replaces an earlier [`basic_auth`](Self::basic_auth).
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// let exporter = instrument_metrics::Exporter::builder()
    ///     .addr("127.0.0.1:0")
    ///     .bearer_token("s3cret")
    ///     .serve()?;
    ///
    /// let mut conn = std::net::TcpStream::connect(exporter.local_addr())?;
    /// conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nConnection: close\r\n\r\n")?;
    /// let mut response = String::new();
    /// conn.read_to_string(&mut response)?;
    /// assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn bearer_token(mut self, token: &str) -> Self {
        self.config.auth = Some(Auth::bearer(token));
        self
    }

    /// Where the [live page](crate::live) is served (default `/`); its JSON is served beside
    /// it, at `api/functions` relative to the page (`/live` or `/` → `/api/functions`,
    /// `/debug/` → `/debug/api/functions`), where the page looks for it. Both take the same
    /// credentials, methods and scrape limit as the metrics path, which wins if they
    /// coincide. A missing leading `/` is added.
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// let exporter = instrument_metrics::Exporter::builder()
    ///     .addr("127.0.0.1:0")
    ///     .live_page("/debug/")
    ///     .serve()?;
    /// let mut conn = std::net::TcpStream::connect(exporter.local_addr())?;
    /// conn.write_all(b"GET /debug/api/functions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    /// let mut response = String::new();
    /// conn.read_to_string(&mut response)?;
    /// assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
    /// assert!(response.contains("content-type: application/json\r\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn live_page(mut self, path: impl Into<String>) -> Self {
        let mut path = path.into();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        self.config.live_page = Some(path);
        self
    }

    /// Serves no live page and no JSON (those paths answer 404), and starts no sampler.
    ///
    /// ```
    /// let exporter = instrument_metrics::Exporter::builder()
    ///     .addr("127.0.0.1:0")
    ///     .without_live_page()
    ///     .serve()?;
    /// # drop(exporter);
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn without_live_page(mut self) -> Self {
        self.config.live_page = None;
        self
    }

    /// Binds the address and starts serving on a thread of its own.
    ///
    /// ```
    /// let exporter = instrument_metrics::Exporter::builder().addr("127.0.0.1:0").serve()?;
    /// // A second exporter cannot take the same port.
    /// let err = instrument_metrics::Exporter::builder().addr(exporter.local_addr()).serve();
    /// assert!(matches!(err, Err(instrument_metrics::Error::Bind { .. })));
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Bind`] when no address can be bound; [`Error::Io`] when the address does not
    /// resolve, or the exporter's thread or runtime cannot be started.
    pub fn serve(&self) -> Result<Exporter, Error> {
        let addrs = self
            .addrs
            .clone()
            .map_err(|(kind, message)| Error::Io(io::Error::new(kind, message)))?;
        let mut listener = None;
        let mut failure = None;
        for addr in addrs {
            match std::net::TcpListener::bind(addr) {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(source) => failure = Some(Error::Bind { addr, source }),
            }
        }
        let Some(listener) = listener else {
            return Err(failure.unwrap_or_else(|| {
                Error::Io(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the exporter address resolved to no address",
                ))
            }));
        };
        Exporter::start(listener, self.config.clone()).map_err(Error::Io)
    }
}

// `Exporter::builder()` is written here, beside what it returns, so that the running
// exporter (exporter.rs) need not know how it is configured: builder -> exporter, one way.
impl Exporter {
    /// Starts configuring an exporter; the same as [`ExporterBuilder::new`].
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let exporter = instrument_metrics::Exporter::builder()
    ///     .addr("127.0.0.1:0")
    ///     .max_concurrent_scrapes(2)
    ///     .header_read_timeout(Duration::from_secs(2))
    ///     .bearer_token("s3cret")
    ///     .serve()?;
    /// # drop(exporter);
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn builder() -> ExporterBuilder {
        ExporterBuilder::new()
    }
}

impl Default for ExporterBuilder {
    /// The same as [`ExporterBuilder::new`].
    ///
    /// ```
    /// let exporter = instrument_metrics::ExporterBuilder::default()
    ///     .addr("127.0.0.1:0")
    ///     .serve()?;
    /// # drop(exporter);
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ExporterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExporterBuilder")
            .field("addrs", &self.addrs)
            .field("path", &self.config.path)
            .field(
                "max_concurrent_scrapes",
                &self.config.max_concurrent_scrapes,
            )
            .field("max_connections", &self.config.max_connections)
            .field("header_read_timeout", &self.config.header_read_timeout)
            .field("auth", &self.config.auth)
            .finish()
    }
}
