//! The words outbound HTTP series are labelled with beyond the server's methods: how a call
//! ended (`error_type`) and the address shared by endpoints past the limit.

/// The `server_address` (and `server_port`) of every endpoint past a table's limit.
pub(crate) const OVERFLOW_ADDRESS: &str = "_OTHER";

/// How a call ended. Everything but [`CallEnd::Complete`] is an `error_type` value: the call
/// did not deliver a whole response (a 5xx that arrived whole is complete: its status says it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallEnd {
    /// The response body was received to its last frame (or there was none).
    Complete,
    /// The caller dropped the call's future, or the response body before its end.
    Cancelled,
    /// The client (or the body it gave) panicked while polled.
    Panic,
    /// The response body failed part way (the connection broke, the peer reset it).
    BodyError,
    /// The client returned an error no more specific value below describes.
    ServiceError,
    /// The client could not connect: refused, unreachable, name not resolved, handshake failed.
    Connect,
    /// The client gave up waiting: a connect, request or read timeout of the client itself.
    Timeout,
}

impl CallEnd {
    pub(super) const ALL: [CallEnd; 7] = [
        CallEnd::Complete,
        CallEnd::Cancelled,
        CallEnd::Panic,
        CallEnd::BodyError,
        CallEnd::ServiceError,
        CallEnd::Connect,
        CallEnd::Timeout,
    ];

    /// The `error_type` label value; `None` for a complete call (no label).
    pub(crate) fn error_type(self) -> Option<&'static str> {
        match self {
            CallEnd::Complete => None,
            CallEnd::Cancelled => Some("cancelled"),
            CallEnd::Panic => Some("panic"),
            CallEnd::BodyError => Some("body_error"),
            CallEnd::ServiceError => Some("service_error"),
            CallEnd::Connect => Some("connect"),
            CallEnd::Timeout => Some("timeout"),
        }
    }

    pub(super) fn code(self) -> u32 {
        self as u32
    }
}
