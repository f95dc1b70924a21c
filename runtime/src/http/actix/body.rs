//! [`MeteredBody`]: an actix-web response body that ends its exchange's measurement when its
//! last chunk is handed to actix, counting the bytes of every chunk on the way.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;

use crate::record::http::{poll_watching_panics, Ending, Exchange};

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
        let inner = this.inner;
        let polled = poll_watching_panics(this.exchange, || inner.poll_next(cx));
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

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::task::Waker;

    use super::*;
    use crate::record::http::{table, Route, Table};

    fn fresh(name: &str) -> (&'static Table, &'static Route) {
        let t = table(
            vec![("unit".into(), name.into())],
            vec![1.0],
            vec![100, 1000],
            10,
            None,
            None,
        )
        .unwrap_or_else(|(_, why)| panic!("{why}"));
        (t, t.route("/r", false))
    }

    fn begun(t: &'static Table, r: &'static Route) -> Option<Exchange> {
        let mut x = t.begin(0, r, None);
        x.responded(200);
        Some(x)
    }

    /// (status, ending, response bytes) of each of the route's series.
    fn recorded(r: &Route) -> Vec<(u16, Ending, u64)> {
        r.all_series()
            .iter()
            .map(|s| {
                let (_, status, ending) = s.labels();
                (status, ending, s.response_bytes.read().1)
            })
            .collect()
    }

    /// Chunks given one a poll; `size` as given all along (as actix's `SizedStream` says its
    /// whole size, not what is left), then an error chunk if `fail`.
    struct Chunks {
        chunks: VecDeque<&'static [u8]>,
        size: BodySize,
        fail: bool,
    }

    fn chunks(chunks: &[&'static [u8]], size: BodySize) -> Chunks {
        Chunks {
            chunks: chunks.iter().copied().collect(),
            size,
            fail: false,
        }
    }

    impl MessageBody for Chunks {
        type Error = std::io::Error;

        fn size(&self) -> BodySize {
            self.size
        }

        fn poll_next(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Bytes, Self::Error>>> {
            Poll::Ready(match self.chunks.pop_front() {
                Some(c) => Some(Ok(Bytes::from_static(c))),
                None if self.fail => Some(Err(std::io::Error::other("broken"))),
                None => None,
            })
        }
    }

    /// What one poll gave: `Some(len)` for a chunk, `None` for the end; panics on an error.
    fn poll<B: MessageBody + Unpin>(body: &mut B) -> Option<usize> {
        match Pin::new(body).poll_next(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Some(Ok(b))) => Some(b.len()),
            Poll::Ready(None) => None,
            Poll::Ready(Some(Err(_))) => panic!("an error chunk"),
            Poll::Pending => panic!("pending"),
        }
    }

    #[test]
    fn a_sized_body_ends_with_its_last_byte() {
        let (t, r) = fresh("sized");
        let mut body = MeteredBody::new(chunks(&[b"abc", b"de"], BodySize::Sized(5)), begun(t, r));
        assert_eq!(poll(&mut body), Some(3));
        assert!(recorded(r).is_empty());
        // actix stops polling here: the length is sent.
        assert_eq!(poll(&mut body), Some(2));
        assert_eq!(recorded(r), [(200, Ending::Complete, 5)]);
        drop(body);
        assert_eq!(recorded(r), [(200, Ending::Complete, 5)]);
    }

    #[test]
    fn a_stream_dropped_before_its_end_is_cancelled_with_its_bytes() {
        let (t, r) = fresh("dropped");
        let mut body = MeteredBody::new(chunks(&[b"abc", b"de"], BodySize::Stream), begun(t, r));
        assert_eq!(poll(&mut body), Some(3));
        drop(body);
        assert_eq!(recorded(r), [(200, Ending::Cancelled, 3)]);
    }

    #[test]
    fn a_stream_ends_at_none_and_an_error_chunk_ends_it_too() {
        let (t, r) = fresh("to_none");
        let mut body = MeteredBody::new(chunks(&[b"abcd"], BodySize::Stream), begun(t, r));
        assert_eq!(poll(&mut body), Some(4));
        assert!(recorded(r).is_empty());
        assert_eq!(poll(&mut body), None);
        assert_eq!(recorded(r), [(200, Ending::Complete, 4)]);

        let (t, r) = fresh("error_chunk");
        let mut failing = chunks(&[b"ok"], BodySize::Stream);
        failing.fail = true;
        let mut body = MeteredBody::new(failing, begun(t, r));
        assert_eq!(poll(&mut body), Some(2));
        let polled = Pin::new(&mut body).poll_next(&mut Context::from_waker(Waker::noop()));
        assert!(matches!(polled, Poll::Ready(Some(Err(_)))));
        assert_eq!(recorded(r), [(200, Ending::BodyError, 2)]);
    }

    #[test]
    fn the_whole_body_taken_at_once_ends_the_exchange() {
        let (t, r) = fresh("into_bytes");
        let body = MeteredBody::new(String::from("hello"), begun(t, r));
        let bytes = body
            .try_into_bytes()
            .unwrap_or_else(|_| panic!("a String is bytes"));
        assert_eq!(bytes, "hello");
        assert_eq!(recorded(r), [(200, Ending::Complete, 5)]);

        // A stream cannot be taken at once: it stays measured.
        let (t, r) = fresh("into_bytes_stream");
        let body = MeteredBody::new(chunks(&[b"ab"], BodySize::Stream), begun(t, r));
        let Err(mut body) = body.try_into_bytes() else {
            panic!("a stream is not bytes");
        };
        assert!(recorded(r).is_empty());
        assert_eq!(poll(&mut body), Some(2));
        assert_eq!(poll(&mut body), None);
        assert_eq!(recorded(r), [(200, Ending::Complete, 2)]);
    }

    #[test]
    fn a_panicking_body_is_a_panic() {
        struct Panics;
        impl MessageBody for Panics {
            type Error = std::io::Error;
            fn size(&self) -> BodySize {
                BodySize::Stream
            }
            fn poll_next(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
            ) -> Poll<Option<Result<Bytes, Self::Error>>> {
                panic!("a body panics on purpose")
            }
        }
        let (t, r) = fresh("body_panic");
        let mut body = MeteredBody::new(Panics, begun(t, r));
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| poll(&mut body)));
        assert!(unwound.is_err());
        drop(body);
        assert_eq!(recorded(r), [(200, Ending::Panic, 0)]);
    }
}
