//! [`MeteredBody`]: an actix-web response body that ends its exchange's measurement when its
//! last chunk is handed to actix, counting the bytes of every chunk on the way.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;

use crate::record::requests::{Ending, Exchange, PanicWatch};

pin_project_lite::pin_project! {
    /// A response body measured to its end, the body of every response
    /// [`Metrics`](super::Metrics) passes on: duration and bytes are recorded after its last
    /// chunk (`poll_next` gave `None`, or a body of known size gave all its bytes), or, if
    /// actix drops it first (the client went away mid-body), with `error_type="cancelled"` and
    /// the status that was sent. A chunk that is an error ends it with
    /// `error_type="body_error"`. Chunks pass through unchanged, and so does
    /// [`size`](MessageBody::size).
    ///
    /// ```
    /// use actix_web::body::MessageBody;
    ///
    /// // Built by the middleware, never by hand; it is a body like any other.
    /// fn is_body<B: MessageBody>() {}
    /// is_body::<instrument_metrics::actix::MeteredBody<String>>();
    /// ```
    pub struct MeteredBody<B> {
        #[pin]
        inner: B,
        exchange: Option<Exchange>,
        // Bytes still to come when the size was known: the wire stops there.
        remaining: Option<u64>,
    }
}

impl<B: MessageBody> MeteredBody<B> {
    /// `exchange` is `None` when there is nothing (more) to measure.
    pub(crate) fn new(inner: B, exchange: Option<Exchange>) -> Self {
        let remaining = match inner.size() {
            BodySize::Sized(n) => Some(n),
            BodySize::None | BodySize::Stream => None,
        };
        MeteredBody {
            inner,
            exchange,
            remaining,
        }
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

impl<B: MessageBody> MessageBody for MeteredBody<B> {
    type Error = B::Error;

    #[inline]
    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.project();
        let watch = PanicWatch(this.exchange);
        let polled = this.inner.poll_next(cx);
        std::mem::forget(watch);
        let chunk = ready!(polled);
        let Some(x) = this.exchange.as_mut() else {
            return Poll::Ready(chunk);
        };
        let ending = match &chunk {
            Some(Ok(bytes)) => {
                let n = bytes.len() as u64;
                match this.remaining {
                    // A sized body ends with its last byte (actix sends no more than the size).
                    Some(left) => {
                        x.sent(n.min(*left));
                        *left = left.saturating_sub(n);
                        (*left == 0).then_some(Ending::Complete)
                    }
                    None => {
                        x.sent(n);
                        None
                    }
                }
            }
            Some(Err(_)) => Some(Ending::BodyError),
            None => Some(Ending::Complete),
        };
        if let Some(ending) = ending {
            if let Some(x) = this.exchange.take() {
                x.finish(ending);
            }
        }
        Poll::Ready(chunk)
    }

    /// The whole body at once (what `Compress` asks for): it is handed on in full, so the
    /// exchange ends here, as when its last chunk is polled.
    fn try_into_bytes(self) -> Result<Bytes, Self> {
        let MeteredBody {
            inner,
            exchange,
            remaining,
        } = self;
        match inner.try_into_bytes() {
            Ok(bytes) => {
                if let Some(mut x) = exchange {
                    x.sent(bytes.len() as u64);
                    x.finish(Ending::Complete);
                }
                Ok(bytes)
            }
            Err(inner) => Err(MeteredBody {
                inner,
                exchange,
                remaining,
            }),
        }
    }
}
