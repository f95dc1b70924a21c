//! The tower middleware for clients: [`client_layer()`] measures every call of the HTTP client
//! it wraps (hyper-util's `Client`, a tower stack around it, anything sending
//! `http::Request`s and answering `http::Response`s).
//!
//! A call is timed from the moment it reaches the layer until the last frame of its response
//! body is read ([`ClientBody`]); its server address and port come from the request's URI (or
//! its `Host` header when the URI has no host).

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::{Request, Response};
use http_body::Body;

use crate::http::client::body::ClientBody;
use crate::http::client::errors;
use crate::http::client::metrics::HttpClientMetrics;
use crate::record::outbound::{watch_panics, Call, CallEnd};

/// A [`ClientMetricsLayer`] with the default [`HttpClientMetrics`]: OpenTelemetry-named
/// client metrics, at most [`DEFAULT_ADDRESS_LIMIT`](crate::http::DEFAULT_ADDRESS_LIMIT)
/// distinct server addresses.
///
/// ```
/// use http_body_util::BodyExt as _;
/// use tower::{Layer as _, ServiceExt as _};
///
/// // hyper-util's `Client::builder(TokioExecutor::new()).build_http()` in a real program;
/// // here a tower service answering from memory.
/// let client = tower::service_fn(|req: http::Request<String>| async move {
///     let status = if req.uri().path() == "/items/1" { 200 } else { 404 };
///     let response = http::Response::builder().status(status).body("{}".to_owned());
///     Ok::<_, http::Error>(response?)
/// });
/// let client = instrument_metrics::http::client_layer().layer(client);
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// for path in ["/items/1", "/items/2"] {
///     let request = http::Request::get(format!("https://inventory.internal{path}")).body(String::new())?;
///     let response = client.clone().oneshot(request).await?;
///     // Recorded when the body's last frame is read (dropped unread: `error_type="cancelled"`).
///     let body = response.into_body().collect().await?.to_bytes();
///     assert_eq!(&body[..], b"{}");
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// let text = instrument_metrics::render();
/// let series = |status| format!(r#"http_client_request_duration_seconds_count{{http_request_method="GET",server_address="inventory.internal",server_port="443",http_response_status_code="{status}"}} 1"#);
/// assert!(text.contains(&series(200)));
/// assert!(text.contains(&series(404)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn client_layer() -> ClientMetricsLayer {
    ClientMetricsLayer::new(HttpClientMetrics::default())
}

/// A `tower::Layer` recording the HTTP client metrics of every call; see [`client_layer()`].
///
/// ```
/// use instrument_metrics::http::{ClientMetricsLayer, HttpClientMetrics};
///
/// let metrics = HttpClientMetrics::builder().label("client", "payments").build()?;
/// let layer = ClientMetricsLayer::new(metrics);
/// # let _ = layer;
/// # Ok::<(), instrument_metrics::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ClientMetricsLayer {
    metrics: HttpClientMetrics,
}

impl ClientMetricsLayer {
    /// A layer recording into `metrics`.
    ///
    /// ```
    /// let layer = instrument_metrics::http::ClientMetricsLayer::new(Default::default());
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn new(metrics: HttpClientMetrics) -> Self {
        ClientMetricsLayer { metrics }
    }
}

impl<S> tower_layer::Layer<S> for ClientMetricsLayer {
    type Service = ClientMetrics<S>;

    fn layer(&self, inner: S) -> ClientMetrics<S> {
        ClientMetrics {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The client service [`ClientMetricsLayer`] wraps around another. Its errors are the inner
/// client's, unchanged; its responses carry a [`ClientBody`]. The inner client's error type
/// must be `'static` (every client's is): it is recognised by type at run time to tell
/// `connect` and `timeout` from other errors, with no trait bound on it, so tower's boxed
/// errors work as well as hyper-util's.
///
/// ```
/// use tower::Layer as _;
///
/// let client = tower::service_fn(|_: http::Request<String>| async {
///     Ok::<_, std::io::Error>(http::Response::new(String::new()))
/// });
/// let client: instrument_metrics::http::ClientMetrics<_> =
///     instrument_metrics::http::client_layer().layer(client);
/// # let _ = client;
/// ```
#[derive(Clone, Debug)]
pub struct ClientMetrics<S> {
    inner: S,
    metrics: HttpClientMetrics,
}

impl<S, ReqB, ResB> tower_service::Service<Request<ReqB>> for ClientMetrics<S>
where
    S: tower_service::Service<Request<ReqB>, Response = Response<ResB>>,
    S::Error: 'static,
    ReqB: Body,
    ResB: Body,
{
    type Response = Response<ClientBody<ResB>>;
    type Error = S::Error;
    type Future = ClientResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let head = req.method() == http::Method::HEAD;
        let (host, port) = endpoint_of(&req);
        let call = self
            .metrics
            .begin(req.method(), host, port, req.body().size_hint().exact());
        ClientResponseFuture {
            inner: self.inner.call(req),
            call: Some(call),
            head,
        }
    }
}

/// The server address and port of a request: the URI's host (or the `Host` header's) and
/// port, else the scheme's default, else 0 (no `server_port` label).
fn endpoint_of<B>(req: &Request<B>) -> (&str, u16) {
    let uri = req.uri();
    let default = uri.scheme().map_or(0, default_port);
    if let Some(host) = uri.host() {
        return (host, uri.port_u16().unwrap_or(default));
    }
    let header = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let (host, port) = split_host_port(header);
    (host, port.unwrap_or(default))
}

/// `host[:port]` or `[v6][:port]`.
fn split_host_port(authority: &str) -> (&str, Option<u16>) {
    let port_at = match authority.rfind(':') {
        // A colon inside an IPv6 literal without brackets is no port separator.
        Some(i) if !authority[..i].contains(':') || authority[..i].ends_with(']') => i,
        _ => return (authority, None),
    };
    let (host, port) = (&authority[..port_at], &authority[port_at + 1..]);
    (host, port.parse().ok())
}

/// The port a scheme implies when the URI gives none.
fn default_port(scheme: &http::uri::Scheme) -> u16 {
    if *scheme == http::uri::Scheme::HTTP {
        80
    } else if *scheme == http::uri::Scheme::HTTPS {
        443
    } else {
        match scheme.as_str() {
            "ws" => 80,
            "wss" => 443,
            _ => 0,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of a [`ClientMetrics`] service's response. Dropping it before it is ready
    /// records the call with `error_type="cancelled"`.
    ///
    /// ```
    /// use tower::{Layer as _, Service as _};
    ///
    /// let mut client = instrument_metrics::http::client_layer().layer(tower::service_fn(
    ///     |_: http::Request<String>| std::future::pending::<Result<http::Response<String>, std::io::Error>>(),
    /// ));
    /// let request = http::Request::get("http://never-answers.internal/").body(String::new()).unwrap();
    /// let future: instrument_metrics::http::ClientResponseFuture<_> = client.call(request);
    /// drop(future); // the caller gave up
    /// let text = instrument_metrics::render();
    /// assert!(text.contains(r#"http_client_request_duration_seconds_count{http_request_method="GET",server_address="never-answers.internal",server_port="80",error_type="cancelled"} 1"#));
    /// ```
    pub struct ClientResponseFuture<F> {
        #[pin]
        inner: F,
        call: Option<Call>,
        head: bool,
    }
}

impl<F, B, E> Future for ClientResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
    E: 'static,
{
    type Output = Result<Response<ClientBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let polled = watch_panics(this.call, || inner.poll(cx));
        let result = ready!(polled);
        Poll::Ready(match result {
            Ok(response) => {
                let call = this.call.take().and_then(|mut c| {
                    let status = response.status().as_u16();
                    c.responded(status);
                    // No body will come (HEAD, 1xx, 204, 304) or none is left: the caller may
                    // never poll it, so the call ends here.
                    let bodyless = *this.head || status < 200 || status == 204 || status == 304;
                    if bodyless || response.body().is_end_stream() {
                        c.finish(CallEnd::Complete);
                        None
                    } else {
                        Some(c)
                    }
                });
                Ok(response.map(|body| ClientBody::new(body, call)))
            }
            Err(e) => {
                if let Some(c) = this.call.take() {
                    c.finish(errors::service_error(&e));
                }
                Err(e)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::split_host_port;

    #[test]
    fn host_headers_split_into_host_and_port() {
        assert_eq!(split_host_port("a.example"), ("a.example", None));
        assert_eq!(split_host_port("a.example:8080"), ("a.example", Some(8080)));
        assert_eq!(split_host_port("[::1]:8080"), ("[::1]", Some(8080)));
        assert_eq!(split_host_port("[::1]"), ("[::1]", None));
        assert_eq!(split_host_port("::1"), ("::1", None));
        assert_eq!(split_host_port("a:x"), ("a", None));
        assert_eq!(split_host_port(""), ("", None));
    }
}
