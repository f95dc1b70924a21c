//! Push the registry to a Prometheus [Pushgateway](https://github.com/prometheus/pushgateway),
//! for batch jobs that end before Prometheus could scrape them (feature `push`).
//!
//! A [`Pusher`] names a group on the gateway (the `job` plus any [`grouping`](Pusher::grouping)
//! labels) and sends [`render()`](crate::render) there, in text format 0.0.4:
//!
//! | method | HTTP | effect on the group |
//! |---|---|---|
//! | [`push`](Pusher::push) | `PUT` | replaces every metric of the group |
//! | [`push_add`](Pusher::push_add) | `POST` | replaces only the metrics with the same names |
//! | [`delete`](Pusher::delete) | `DELETE` | removes the group |
//!
//! ```no_run
//! use instrument_metrics::instrument_metrics;
//! use instrument_metrics::push::Pusher;
//!
//! #[instrument_metrics]
//! fn import_batch() -> Result<usize, std::io::Error> {
//!     Ok(42)
//! }
//!
//! fn main() -> Result<(), instrument_metrics::Error> {
//!     let _ = import_batch();
//!     Pusher::new("http://127.0.0.1:9091", "nightly_import")?
//!         .grouping("instance", "worker-3")?
//!         .push()
//! }
//! ```
//!
//! The client is blocking (it runs on the calling thread, with [`ureq`](https://docs.rs/ureq))
//! and speaks plain HTTP only; put a TLS-terminating proxy in front of a gateway that needs HTTPS.
//! Every failure is an [`Error::Push`] holding a [`PushError`]; nothing panics.

use std::fmt;
use std::io::Read as _;
use std::time::Duration;

use base64::Engine as _;

use crate::error::Error;
pub use crate::error::PushError;
use crate::expose::registry::registry;
use crate::expose::scrape::render;

/// What a push body is; without the `escaping=` parameter a scrape answer carries, which
/// Pushgateways older than client_golang's escaping schemes do not expect.
const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How long a request may take when [`Pusher::timeout`] is not called.
///
/// ```
/// assert_eq!(instrument_metrics::push::DEFAULT_TIMEOUT, std::time::Duration::from_secs(10));
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most of a gateway's error message that is kept in [`PushError::Status`].
const MAX_MESSAGE: u64 = 4096;

fn invalid(why: impl Into<String>) -> Error {
    Error::Push(PushError::Invalid(why.into()))
}

/// A Pushgateway group, and how to reach it. Build it with [`Pusher::new`], refine it with
/// [`grouping`](Pusher::grouping), [`basic_auth`](Pusher::basic_auth) and
/// [`timeout`](Pusher::timeout), then [`push`](Pusher::push), [`push_add`](Pusher::push_add)
/// or [`delete`](Pusher::delete), as many times as you like.
///
/// ```
/// use std::time::Duration;
/// use instrument_metrics::push::Pusher;
///
/// let pusher = Pusher::new("http://127.0.0.1:9091", "mapping_engine")?
///     .grouping("instance", "worker-3")?
///     .grouping("region", "eu/west")? // a `/` is sent in the gateway's base64 form
///     .basic_auth("batch", "s3cret")
///     .timeout(Duration::from_secs(3));
/// assert_eq!(
///     pusher.group_url(),
///     "http://127.0.0.1:9091/metrics/job/mapping_engine/instance/worker-3/region@base64/ZXUvd2VzdA=="
/// );
/// # Ok::<(), instrument_metrics::Error>(())
/// ```
#[derive(Clone)]
pub struct Pusher {
    /// `http://host:port[/prefix]`, without a trailing `/`.
    gateway: String,
    job: String,
    grouping: Vec<(String, String)>,
    /// The whole `Authorization` header value.
    authorization: Option<String>,
    timeout: Duration,
}

impl fmt::Debug for Pusher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pusher")
            .field("gateway", &self.gateway)
            .field("job", &self.job)
            .field("grouping", &self.grouping)
            .field(
                "basic_auth",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Pusher {
    /// A pusher for the group `job` on the gateway at `gateway_url` (`http://host:port`,
    /// optionally with a path prefix if the gateway is served under one; `/metrics/job/…` is
    /// appended). The job name may be any non-empty string.
    ///
    /// ```
    /// use instrument_metrics::push::Pusher;
    ///
    /// assert!(Pusher::new("http://127.0.0.1:9091", "nightly_import").is_ok());
    /// assert!(Pusher::new("http://gateway.internal:9091/pushgateway/", "nightly_import").is_ok());
    /// assert!(Pusher::new("127.0.0.1:9091", "nightly_import").is_err()); // no scheme
    /// assert!(Pusher::new("https://gateway:9091", "nightly_import").is_err()); // no TLS here
    /// assert!(Pusher::new("http://127.0.0.1:9091", "").is_err());
    /// ```
    ///
    /// # Errors
    /// [`PushError::Invalid`] (inside [`Error::Push`]) when the URL is not a
    /// plain `http://` URL without credentials, query or fragment, or `job` is empty.
    pub fn new(gateway_url: &str, job: &str) -> Result<Pusher, Error> {
        let gateway = validate_gateway(gateway_url)?;
        if job.is_empty() {
            return Err(invalid("the job name must not be empty"));
        }
        Ok(Pusher {
            gateway,
            job: job.to_owned(),
            grouping: Vec::new(),
            authorization: None,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Adds the grouping label `name="value"` to the group (call it once per label). The
    /// gateway attaches the grouping labels, and `job`, to every metric of the group. Values
    /// may be any string, empty included; they are escaped for the URL path, and sent in the
    /// gateway's base64 form when they are empty or contain `/`.
    ///
    /// ```
    /// use instrument_metrics::push::Pusher;
    ///
    /// let p = Pusher::new("http://127.0.0.1:9091", "backup")?
    ///     .grouping("instance", "db 1")?
    ///     .grouping("volume", "")?;
    /// assert_eq!(p.group_url(), "http://127.0.0.1:9091/metrics/job/backup/instance/db%201/volume@base64/=");
    ///
    /// assert!(Pusher::new("http://127.0.0.1:9091", "backup")?.grouping("not-a-label", "x").is_err());
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`PushError::Invalid`] when `name` is not a valid label name (`[a-zA-Z_][a-zA-Z0-9_]*`),
    /// starts with `__`, is `job`, or was already given.
    pub fn grouping(mut self, name: &str, value: &str) -> Result<Pusher, Error> {
        if !is_label_name(name) {
            return Err(invalid(format!(
                "{name:?} is not a valid grouping label name: use letters, digits and `_`, not starting with a digit"
            )));
        }
        if name.starts_with("__") {
            return Err(invalid(format!(
                "grouping label {name:?}: names starting with `__` are reserved by Prometheus"
            )));
        }
        if name == "job" {
            return Err(invalid(
                "`job` is not a grouping label: it is the job name given to Pusher::new",
            ));
        }
        if self.grouping.iter().any(|(n, _)| n == name) {
            return Err(invalid(format!("grouping label {name:?} is given twice")));
        }
        self.grouping.push((name.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// Sends HTTP basic authentication (`Authorization: Basic …`) with every request, for a
    /// gateway started with `--web.config.file` listing `basic_auth_users`.
    ///
    /// ```
    /// use instrument_metrics::push::Pusher;
    ///
    /// let p = Pusher::new("http://127.0.0.1:9091", "backup")?.basic_auth("batch", "s3cret");
    /// assert!(!format!("{p:?}").contains("s3cret")); // Debug never shows the password
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn basic_auth(mut self, user: &str, password: &str) -> Pusher {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.authorization = Some(format!("Basic {token}"));
        self
    }

    /// The longest a whole request (connect, send, answer) may take; [`DEFAULT_TIMEOUT`]
    /// (10 s) unless set. A request that runs out of time returns [`PushError::Timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use instrument_metrics::push::Pusher;
    ///
    /// let p = Pusher::new("http://127.0.0.1:9091", "backup")?.timeout(Duration::from_secs(2));
    /// assert!(format!("{p:?}").contains("timeout: 2s"));
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Pusher {
        self.timeout = timeout;
        self
    }

    /// The URL of the group on the gateway: where [`push`](Pusher::push),
    /// [`push_add`](Pusher::push_add) and [`delete`](Pusher::delete) send their requests.
    ///
    /// ```
    /// use instrument_metrics::push::Pusher;
    ///
    /// let p = Pusher::new("http://127.0.0.1:9091/", "reports/daily")?;
    /// assert_eq!(p.group_url(), "http://127.0.0.1:9091/metrics/job@base64/cmVwb3J0cy9kYWlseQ==");
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn group_url(&self) -> String {
        let mut url = format!("{}/metrics", self.gateway);
        push_segment(&mut url, "job", &self.job);
        for (name, value) in &self.grouping {
            push_segment(&mut url, name, value);
        }
        url
    }

    /// `PUT`s [`render()`](crate::render) to the group: the group's metrics become exactly
    /// these (metrics of the group that are not in the registry any more are removed).
    ///
    /// ```no_run
    /// use instrument_metrics::push::Pusher;
    ///
    /// Pusher::new("http://127.0.0.1:9091", "nightly_import")?.push()?;
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`PushError::Invalid`] if a metric in the registry carries the label `job` or a grouping
    /// label (the gateway would replace its value), [`PushError::Status`] if the gateway
    /// refused the push (e.g. 400 with its reason, 401 without valid credentials),
    /// [`PushError::Timeout`] or [`PushError::Transport`] if it could not be reached.
    pub fn push(&self) -> Result<(), Error> {
        self.send_metrics("PUT")
    }

    /// `POST`s [`render()`](crate::render) to the group: metrics with the same names as the
    /// pushed ones are replaced, the group's other metrics are kept.
    ///
    /// ```no_run
    /// use instrument_metrics::push::Pusher;
    ///
    /// Pusher::new("http://127.0.0.1:9091", "nightly_import")?.push_add()?;
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    ///
    /// # Errors
    /// As for [`push`](Pusher::push).
    pub fn push_add(&self) -> Result<(), Error> {
        self.send_metrics("POST")
    }

    /// `DELETE`s the group (every metric the gateway holds for exactly this job and grouping
    /// labels). Deleting a group that does not exist succeeds.
    ///
    /// ```no_run
    /// use instrument_metrics::push::Pusher;
    ///
    /// Pusher::new("http://127.0.0.1:9091", "nightly_import")?.delete()?;
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`PushError::Status`], [`PushError::Timeout`] or [`PushError::Transport`], as for
    /// [`push`](Pusher::push).
    pub fn delete(&self) -> Result<(), Error> {
        self.send("DELETE", None)
    }

    fn send_metrics(&self, method: &str) -> Result<(), Error> {
        // The gathered families name every label of every series; no need to re-parse text.
        let families = registry().gather();
        let labels = families.iter().flat_map(|f| {
            f.get_metric()
                .iter()
                .flat_map(move |m| m.get_label().iter().map(move |l| (f.name(), l.name())))
        });
        if let Some(why) = self.label_conflict(labels) {
            return Err(invalid(why));
        }
        self.send(method, Some(render()))
    }

    /// The gateway sets `job` and the grouping labels on every metric of the group, silently
    /// replacing values the metrics carry: refuse, as the Go client does.
    fn label_conflict<'a>(
        &self,
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Option<String> {
        let reserved =
            |label: &str| label == "job" || self.grouping.iter().any(|(n, _)| n == label);
        labels.into_iter().find(|(_, label)| reserved(label)).map(|(metric, label)| {
            format!(
                "metric {metric} already has the label {label:?}, which the push sets for the whole group; \
                 choose another grouping label"
            )
        })
    }

    fn send(&self, method: &str, body: Option<String>) -> Result<(), Error> {
        let url = self.group_url();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .user_agent(concat!("instrument-metrics/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(auth) = &self.authorization {
            request = request.header("Authorization", auth);
        }
        let result = match body {
            Some(body) => request
                .header("Content-Type", TEXT_CONTENT_TYPE)
                .body(body)
                .map_err(|e| invalid(format!("cannot build the request to {url}: {e}")))
                .map(|r| agent.run(r)),
            None => request
                .body(())
                .map_err(|e| invalid(format!("cannot build the request to {url}: {e}")))
                .map(|r| agent.run(r)),
        }?;
        let mut response = result.map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let mut raw = Vec::new();
        // The status is the error; a message that cannot be read is left out.
        let _ = response
            .body_mut()
            .as_reader()
            .take(MAX_MESSAGE)
            .read_to_end(&mut raw);
        let message = String::from_utf8_lossy(&raw).trim().to_owned();
        Err(Error::Push(PushError::Status { status, message }))
    }

    fn transport_error(&self, e: ureq::Error) -> Error {
        Error::Push(match e {
            ureq::Error::Timeout(_) => PushError::Timeout(self.timeout),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                PushError::Timeout(self.timeout)
            }
            other => PushError::Transport(other.to_string()),
        })
    }
}

/// Checks `url` and returns it without trailing `/`.
fn validate_gateway(url: &str) -> Result<String, Error> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Err(invalid(format!(
            "{url:?}: https is not supported (the push client is built without TLS); \
             use http://, through a TLS-terminating proxy if the gateway requires HTTPS"
        )));
    }
    if !lower.starts_with("http://") {
        return Err(invalid(format!(
            "{url:?} is not a gateway URL: write it as http://host:port"
        )));
    }
    let rest = &url["http://".len()..];
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty() {
        return Err(invalid(format!("{url:?} has no host")));
    }
    if authority.contains('@') {
        return Err(invalid(format!(
            "{url:?}: put credentials in Pusher::basic_auth, not in the URL"
        )));
    }
    if rest.contains(['?', '#']) {
        return Err(invalid(format!(
            "{url:?}: a gateway URL has no query or fragment"
        )));
    }
    let trimmed = url.trim_end_matches('/');
    if let Err(e) = trimmed.parse::<ureq::http::Uri>() {
        return Err(invalid(format!("{url:?} is not a valid URL: {e}")));
    }
    Ok(trimmed.to_owned())
}

fn is_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Appends `/name/value`, or `/name@base64/…` when the value is empty or has a `/`.
fn push_segment(url: &mut String, name: &str, value: &str) {
    url.push('/');
    url.push_str(name);
    if value.is_empty() {
        url.push_str("@base64/=");
    } else if value.contains('/') {
        url.push_str("@base64/");
        base64::engine::general_purpose::URL_SAFE.encode_string(value, url);
    } else {
        url.push('/');
        for b in value.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                url.push(char::from(b));
            } else {
                url.push('%');
                url.push(char::from(HEX[usize::from(b >> 4)]));
                url.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        let mut u = String::new();
        push_segment(&mut u, "a", "é ~%");
        assert_eq!(u, "/a/%C3%A9%20~%25");
        let mut u = String::new();
        push_segment(&mut u, "a", "/");
        assert_eq!(u, "/a@base64/Lw==");
    }

    #[test]
    fn conflicting_labels_are_refused() {
        let p = Pusher::new("http://127.0.0.1:1", "j")
            .unwrap()
            .grouping("module", "m")
            .unwrap();
        let why = p.label_conflict([("x_total", "function"), ("x_total", "module")]);
        assert!(why.is_some_and(|why| why.contains("x_total") && why.contains("\"module\"")));
        assert!(p.label_conflict([("x", "a"), ("y", "jobs")]).is_none());
        assert!(p.label_conflict([("x", "job")]).is_some());
    }
}
