//! [`Body`]: a response body in one piece that marks its connection idle once sent, and
//! [`plain`] text answers.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};
use hyper::body::{Bytes, Frame, SizeHint};

use super::conn_state::ConnState;

pub(super) fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::new(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A response body in one piece that marks its connection idle once sent (or dropped).
pub(super) struct Body {
    data: Option<Bytes>,
    sent: Option<Sent>,
}

struct Sent(Arc<ConnState>);

impl Drop for Sent {
    fn drop(&mut self) {
        self.0.written();
    }
}

impl Body {
    pub(super) fn new(data: impl Into<Bytes>) -> Self {
        let data: Bytes = data.into();
        Body {
            data: (!data.is_empty()).then_some(data),
            sent: None,
        }
    }

    pub(super) fn empty() -> Self {
        Body {
            data: None,
            sent: None,
        }
    }

    pub(super) fn tracking(mut self, state: Arc<ConnState>) -> Self {
        self.sent = Some(Sent(state));
        self
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(data) = this.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        this.sent = None;
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}
