//! [`MeteredBody`]: a response body that ends its exchange's measurement when its last frame
//! is handed to the server, counting the bytes of every data frame on the way.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Buf as _;
use http_body::{Body, Frame, SizeHint};

use crate::record::http::{poll_watching_panics, Ending, Exchange};

pin_project_lite::pin_project! {
    /// A response body measured to its end: duration and bytes sent are recorded after its last
    /// frame, or, if the server drops it first (the client went away), with
    /// `error_type="cancelled"` and the status that was sent. Frames pass through unchanged.
    ///
    /// ```
    /// use http_body::Body as _;
    ///
    /// // What the layer's responses carry; built by the layer, never by hand.
    /// fn is_body<B: http_body::Body>(_: &B) {}
    /// # let _ = is_body::<instrument_metrics::http::MeteredBody<String>>;
    /// ```
    pub struct MeteredBody<B> {
        #[pin]
        inner: B,
        exchange: Option<Exchange>,
    }
}

impl<B> MeteredBody<B> {
    pub(crate) fn new(inner: B, exchange: Option<Exchange>) -> Self {
        MeteredBody { inner, exchange }
    }
}

impl<B: std::fmt::Debug> std::fmt::Debug for MeteredBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredBody")
            .field("inner", &self.inner)
            .field("measuring", &self.exchange.is_some())
            .finish()
    }
}

impl<B: Body> Body for MeteredBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let inner = this.inner.as_mut();
        let polled = poll_watching_panics(this.exchange, || inner.poll_frame(cx));
        let frame = ready!(polled);
        if let Some(x) = this.exchange.as_mut() {
            match &frame {
                Some(Ok(f)) => {
                    if let Some(data) = f.data_ref() {
                        x.sent(data.remaining() as u64);
                    }
                }
                Some(Err(_)) => {
                    Exchange::finish_in(this.exchange, Ending::BodyError);
                    return Poll::Ready(frame);
                }
                None => {}
            }
        }
        // The end: no more frames, or the body says the one just given was its last (the
        // server then stops polling).
        if this.exchange.is_some() && (frame.is_none() || this.inner.is_end_stream()) {
            Exchange::finish_in(this.exchange, Ending::Complete);
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
