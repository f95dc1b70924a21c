//! [`ClientBody`]: a response body that ends its call's measurement when its last frame is
//! read, counting the bytes of every data frame on the way.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Buf as _;
use http_body::{Body, Frame, SizeHint};

use crate::http::client::errors;
use crate::record::outbound::{watch_panics, Call, CallEnd};

pin_project_lite::pin_project! {
    /// A response body received to its end: the call's duration and bytes received are
    /// recorded after its last frame; if the caller drops it first, with
    /// `error_type="cancelled"` and the status that arrived; if it fails, with
    /// `error_type="body_error"` (or `"timeout"`, when the error says the client timed out).
    /// Frames pass through unchanged, never buffered.
    ///
    /// ```
    /// use http_body_util::BodyExt as _;
    /// use instrument_metrics::http::ClientBody;
    /// use tower::{Layer as _, ServiceExt as _};
    ///
    /// // Any tower HTTP client; this one answers from memory.
    /// let client = tower::service_fn(|_: http::Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new("twelve bytes".to_owned()))
    /// });
    /// let client = instrument_metrics::http::client_layer().layer(client);
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let request = http::Request::get("http://body-example.internal/").body(String::new())?;
    /// let body: ClientBody<String> = client.oneshot(request).await?.into_body();
    /// assert_eq!(body.collect().await?.to_bytes().len(), 12); // recorded as the last frame is read
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// let text = instrument_metrics::render();
    /// assert!(text.contains(r#"http_client_response_body_size_bytes_sum{http_request_method="GET",server_address="body-example.internal",server_port="80",http_response_status_code="200"} 12"#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct ClientBody<B> {
        #[pin]
        inner: B,
        call: Option<Call>,
    }
}

impl<B> ClientBody<B> {
    pub(crate) fn new(inner: B, call: Option<Call>) -> Self {
        ClientBody { inner, call }
    }
}

impl<B: std::fmt::Debug> std::fmt::Debug for ClientBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBody")
            .field("inner", &self.inner)
            .field("measuring", &self.call.is_some())
            .finish()
    }
}

impl<B> Body for ClientBody<B>
where
    B: Body,
    B::Error: 'static,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let inner = this.inner.as_mut();
        let polled = watch_panics(this.call, || inner.poll_frame(cx));
        let frame = ready!(polled);
        if let Some(c) = this.call.as_mut() {
            match &frame {
                Some(Ok(f)) => {
                    if let Some(data) = f.data_ref() {
                        c.received(data.remaining() as u64);
                    }
                }
                Some(Err(e)) => {
                    let end = errors::body_error(e);
                    if let Some(c) = this.call.take() {
                        c.finish(end);
                    }
                    return Poll::Ready(frame);
                }
                None => {}
            }
        }
        // The end: no more frames, or the body says the one just read was its last.
        if this.call.is_some() && (frame.is_none() || this.inner.is_end_stream()) {
            if let Some(c) = this.call.take() {
                c.finish(CallEnd::Complete);
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
