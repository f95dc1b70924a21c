//! The bodies the layers hand on: [`MessageCountingBody`] counts the messages of a request
//! stream, [`ResponseBody`] counts a response stream's and ends the call at its status. Both
//! read the bytes passing through and copy nothing.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{ready, Context, Poll};

use http_body::{Body, Frame, SizeHint};

use crate::record::grpc::{parse_code, Call, Framing, INTERNAL, UNAVAILABLE, UNKNOWN};

/// Counts the messages that end in one data frame. A buffer in several pieces (never one of
/// hyper's or tonic's, which are contiguous `Bytes`) is read by its first piece only.
#[inline]
fn count(framing: &mut Framing, data: &impl bytes::Buf, into: &AtomicU64) {
    let n = framing.messages(data.chunk());
    if n > 0 {
        into.fetch_add(n, Ordering::Relaxed);
    }
}

pin_project_lite::pin_project! {
    /// A request body whose gRPC messages are counted as they stream through (by the server:
    /// received; by a client: sent). Frames pass through unchanged.
    ///
    /// ```
    /// // What the server layer hands the service it wraps; built by the layer, never by hand.
    /// fn is_body<B: http_body::Body>() {}
    /// is_body::<instrument_metrics::grpc::MessageCountingBody<String>>();
    /// ```
    pub struct MessageCountingBody<B> {
        #[pin]
        inner: B,
        framing: Framing,
        messages: &'static AtomicU64,
    }
}

impl<B> MessageCountingBody<B> {
    pub(crate) fn new(inner: B, messages: &'static AtomicU64) -> Self {
        MessageCountingBody {
            inner,
            framing: Framing::default(),
            messages,
        }
    }
}

impl<B: std::fmt::Debug> std::fmt::Debug for MessageCountingBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageCountingBody")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<B: Body> Body for MessageCountingBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if let Some(Ok(f)) = &frame {
            if let Some(data) = f.data_ref() {
                count(this.framing, data, this.messages);
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

/// Which end of the call the body belongs to: what a failure of the stream means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The server sends it: a failure is ours to report as `Unknown`.
    Server,
    /// The client receives it: a failure is the transport's (`Unavailable`).
    Client,
}

pin_project_lite::pin_project! {
    /// A response body whose gRPC messages are counted as they stream through, and whose call
    /// ends at its status: the `grpc-status` of the trailers (or of the headers, for a
    /// trailers-only response, ended before the body). Dropped before its end, the call is
    /// `Canceled` (`DeadlineExceeded` once the request's `grpc-timeout` has passed).
    ///
    /// ```
    /// fn is_body<B: http_body::Body>() {}
    /// is_body::<instrument_metrics::grpc::ResponseBody<String>>();
    /// ```
    pub struct ResponseBody<B> {
        #[pin]
        inner: B,
        framing: Framing,
        messages: &'static AtomicU64,
        call: Option<Call>,
        end: End,
    }
}

/// Where the messages of a response polled after its call ended go: nowhere anyone reads.
static UNCOUNTED: AtomicU64 = AtomicU64::new(0);

impl<B> ResponseBody<B> {
    /// A body passed through, measuring nothing.
    pub(crate) fn unmeasured(inner: B) -> Self {
        ResponseBody::new(inner, &UNCOUNTED, None, End::Server)
    }

    pub(crate) fn new(
        inner: B,
        messages: &'static AtomicU64,
        call: Option<Call>,
        end: End,
    ) -> Self {
        ResponseBody {
            inner,
            framing: Framing::default(),
            messages,
            call,
            end,
        }
    }
}

impl<B: std::fmt::Debug> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody")
            .field("inner", &self.inner)
            .field("measuring", &self.call.is_some())
            .finish_non_exhaustive()
    }
}

impl<B: Body> Body for ResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let inner = this.inner;
        let frame = ready!(watch_panics(this.call, || inner.poll_frame(cx)));
        match &frame {
            Some(Ok(f)) => {
                if let Some(data) = f.data_ref() {
                    count(this.framing, data, this.messages);
                } else if let Some(trailers) = f.trailers_ref() {
                    if let Some(call) = this.call.take() {
                        let code = trailers
                            .get(&crate::grpc::GRPC_STATUS)
                            .map_or(UNKNOWN, |v| parse_code(v.as_bytes()));
                        call.end(code);
                    }
                }
            }
            Some(Err(_)) => {
                if let Some(call) = this.call.take() {
                    match this.end {
                        End::Server => call.fail(UNKNOWN),
                        End::Client => call.fail(UNAVAILABLE),
                    }
                }
            }
            // The stream ended without a status: the peer sees a protocol error.
            None => {
                if let Some(call) = this.call.take() {
                    call.end(UNKNOWN);
                }
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

/// Runs one poll so that a panic in it ends the call as `Internal` (what a peer's library
/// reports for a stream reset by a crashing handler), not as the cancellation its unwinding
/// drop would record.
#[inline]
pub(crate) fn watch_panics<T>(call: &mut Option<Call>, poll: impl FnOnce() -> T) -> T {
    struct Watch<'a>(&'a mut Option<Call>);
    impl Drop for Watch<'_> {
        fn drop(&mut self) {
            if let Some(call) = self.0.take() {
                call.end(INTERNAL);
            }
        }
    }
    // Busy time on its own path, out of line: without `polls`, this one stays as it was.
    if call.as_ref().is_some_and(Call::keeps_busy) {
        return watch_timed(call, poll);
    }
    let watch = Watch(call);
    let polled = poll();
    std::mem::forget(watch);
    polled
}

/// [`watch_panics`] for a call that keeps its busy time: each poll's time is added to it (a
/// panicking one's too).
#[cold]
#[inline(never)]
fn watch_timed<T>(call: &mut Option<Call>, poll: impl FnOnce() -> T) -> T {
    struct Watch<'a>(&'a mut Option<Call>, u64);
    impl Drop for Watch<'_> {
        fn drop(&mut self) {
            if let Some(mut call) = self.0.take() {
                call.add_poll(self.1);
                call.end(INTERNAL);
            }
        }
    }
    let start = crate::record::clock::raw_now();
    let watch = Watch(call, start);
    let polled = poll();
    if let Some(call) = watch.0.as_mut() {
        call.add_poll(start);
    }
    // Not unwinding: nothing to record here.
    std::mem::forget(watch);
    polled
}
