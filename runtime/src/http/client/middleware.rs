//! [`ReqwestMetrics`]: the outbound HTTP metrics as a `reqwest-middleware` middleware.
//!
//! The call is timed from the middleware's turn until the last frame of the response body is
//! read: the response's body is wrapped (in a [`ClientBody`], inside a `reqwest::Body`), never
//! buffered. The server address and port come from the request's URL.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http_body::Body as _;
use reqwest::ResponseBuilderExt as _;

use crate::http::client::body::ClientBody;
use crate::http::client::errors;
use crate::http::client::metrics::HttpClientMetrics;
use crate::record::outbound::{watch_panics, Call, CallEnd};

/// A `reqwest_middleware::Middleware` recording the HTTP client metrics of every request a
/// `reqwest_middleware::ClientWithMiddleware` sends (feature `reqwest`).
///
/// ```no_run
/// use instrument_metrics::http::ReqwestMetrics;
///
/// # async fn example() -> Result<(), reqwest_middleware::Error> {
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(ReqwestMetrics::default())
///     .build();
/// let body = client.get("http://inventory.internal/items/1").send().await?.text().await?;
/// // http_client_request_duration_seconds{http_request_method="GET",
/// //     server_address="inventory.internal",server_port="80",http_response_status_code="200"}
/// # let _ = body;
/// # Ok(())
/// # }
/// ```
///
/// Errors: reqwest's connect errors are `error_type="connect"`, its timeouts (connect, read,
/// total) `"timeout"`, any other error `"service_error"`, including an error of a middleware
/// after this one. A response whose body the caller drops unread is `"cancelled"`, with its
/// status. With reqwest's decompression on, bytes received are counted decompressed.
#[derive(Clone, Debug, Default)]
pub struct ReqwestMetrics {
    metrics: HttpClientMetrics,
}

impl ReqwestMetrics {
    /// A middleware recording into `metrics`.
    ///
    /// ```
    /// use instrument_metrics::http::{HttpClientMetrics, ReqwestMetrics};
    ///
    /// let metrics = HttpClientMetrics::builder().label("client", "search").build()?;
    /// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
    ///     .with(ReqwestMetrics::new(metrics))
    ///     .build();
    /// # let _ = client;
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn new(metrics: HttpClientMetrics) -> Self {
        ReqwestMetrics { metrics }
    }
}

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for ReqwestMetrics {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let url = req.url();
        let host = url.host_str().unwrap_or("");
        let port = url.port_or_known_default().unwrap_or(0);
        let request_bytes = req.body().map_or(Some(0), |b| b.size_hint().exact());
        let head = req.method() == http::Method::HEAD;
        let call = self.metrics.begin(req.method(), host, port, request_bytes);
        let (result, call) = Watched {
            inner: next.run(req, extensions),
            call: Some(call),
        }
        .await;
        let Some(mut call) = call else {
            return result;
        };
        match result {
            Ok(response) => {
                let status = response.status().as_u16();
                call.responded(status);
                let bodyless = head || status < 200 || status == 204 || status == 304;
                if bodyless || response.content_length() == Some(0) {
                    call.finish(CallEnd::Complete);
                    return Ok(response);
                }
                Ok(metered(response, call))
            }
            Err(e) => {
                call.finish(error_end(&e));
                Err(e)
            }
        }
    }
}

/// The response with its body wrapped; its URL (which reqwest's conversion to an
/// `http::Response` leaves out) put back.
fn metered(response: reqwest::Response, call: Call) -> reqwest::Response {
    let url = response.url().clone();
    let response: http::Response<reqwest::Body> = response.into();
    let (mut parts, body) = response.into_parts();
    if let Some(with_url) = http::response::Builder::new().url(url).extensions_mut() {
        parts.extensions.extend(std::mem::take(with_url));
    }
    let body = reqwest::Body::wrap(ClientBody::new(body, Some(call)));
    reqwest::Response::from(http::Response::from_parts(parts, body))
}

fn error_end(e: &reqwest_middleware::Error) -> CallEnd {
    match e {
        reqwest_middleware::Error::Reqwest(e) => errors::service_error(e),
        reqwest_middleware::Error::Middleware(e) => {
            let e: &(dyn std::error::Error + Send + Sync + 'static) = &**e;
            errors::chain(e).unwrap_or(CallEnd::ServiceError)
        }
    }
}

pin_project_lite::pin_project! {
    /// The rest of the chain, polled so that a panic in it is recorded as one; gives the call
    /// back with the outcome (`None` only if it was recorded already).
    struct Watched<F> {
        #[pin]
        inner: F,
        call: Option<Call>,
    }
}

impl<F: Future> Future for Watched<F> {
    type Output = (F::Output, Option<Call>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let out = ready!(watch_panics(this.call, || inner.poll(cx)));
        Poll::Ready((out, this.call.take()))
    }
}
