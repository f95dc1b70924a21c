//! [`ConnState`]: where a connection is (waiting, being answered, writing), shared by the
//! accept loop, the handler and the response body.

use std::sync::atomic::{AtomicU8, Ordering};

/// Where a connection is, for choosing which one to close at the connection limit.
pub(super) struct ConnState(AtomicU8);

impl ConnState {
    /// Waiting for a request head (new, keep-alive idle, or a slow client).
    pub(super) const IDLE: u8 = 0;
    /// A request is being answered (rendering, possibly waiting for a slow collector).
    const ANSWERING: u8 = 1;
    /// The response is being written.
    pub(super) const WRITING: u8 = 2;

    pub(super) fn new() -> Self {
        ConnState(AtomicU8::new(Self::IDLE))
    }

    pub(super) fn get(&self) -> u8 {
        self.0.load(Ordering::Relaxed)
    }

    pub(super) fn answering(&self) {
        self.0.store(Self::ANSWERING, Ordering::Relaxed);
    }

    pub(super) fn writing(&self) {
        self.0.store(Self::WRITING, Ordering::Relaxed);
    }

    /// The response body was sent (or dropped): idle again, unless a next request started.
    pub(super) fn written(&self) {
        let _ = self.0.compare_exchange(
            Self::WRITING,
            Self::IDLE,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }
}
