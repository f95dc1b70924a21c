//! The words HTTP series are labelled with: methods, the shared route values, and how an
//! exchange ended.
#![cfg_attr(not(any(feature = "tower", feature = "actix-web")), allow(dead_code))]

/// The `http_request_method` values: the methods of RFC 9110 and PATCH, then `_OTHER` for
/// anything else, as OpenTelemetry's conventions say.
pub(crate) const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER",
];

/// Index in [`METHODS`] of `_OTHER`.
pub(crate) const OTHER_METHOD: u8 = 9;

/// Index in [`METHODS`] of `HEAD`.
pub(crate) const HEAD_METHOD: u8 = 1;

/// The route of requests no route template matched (the fallback's 404, a scanner's probes).
pub(crate) const UNMATCHED_ROUTE: &str = "_unmatched";

/// The route of every distinct value past a table's route limit.
pub(crate) const OVERFLOW_ROUTE: &str = "_OTHER";

/// How an exchange ended when it did not end well; `None` for a response sent to its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The response body was sent to its last frame (or there was none to send).
    Complete,
    /// Dropped before the end: the client went away, or the server dropped the request.
    Cancelled,
    /// The handler (or the response body) panicked.
    Panic,
    /// The response body failed part way.
    BodyError,
    /// The service returned an error instead of a response.
    ServiceError,
}

impl Ending {
    pub(super) const ALL: [Ending; 5] = [
        Ending::Complete,
        Ending::Cancelled,
        Ending::Panic,
        Ending::BodyError,
        Ending::ServiceError,
    ];

    /// The `error_type` label value; `None` for a complete exchange (no label).
    pub(crate) fn error_type(self) -> Option<&'static str> {
        match self {
            Ending::Complete => None,
            Ending::Cancelled => Some("cancelled"),
            Ending::Panic => Some("panic"),
            Ending::BodyError => Some("body_error"),
            Ending::ServiceError => Some("service_error"),
        }
    }

    pub(super) fn code(self) -> u32 {
        self as u32
    }
}

/// The index of `method` in [`METHODS`].
#[cfg_attr(not(feature = "tower"), allow(dead_code))]
pub(crate) fn method_index(method: &http::Method) -> u8 {
    use http::Method;
    // Standard methods compare by tag, no string compare.
    let known = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::CONNECT,
        Method::OPTIONS,
        Method::TRACE,
        Method::PATCH,
    ];
    known
        .iter()
        .position(|m| m == method)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(OTHER_METHOD)
}

/// The index in [`METHODS`] of a method given by name (frameworks on `http` 0.2, such as
/// actix-web 4, whose `Method` is another type). Method names are case-sensitive.
#[cfg_attr(not(feature = "actix-web"), allow(dead_code))]
pub(crate) fn method_index_str(method: &str) -> u8 {
    match method {
        "GET" => 0,
        "HEAD" => 1,
        "POST" => 2,
        "PUT" => 3,
        "DELETE" => 4,
        "CONNECT" => 5,
        "OPTIONS" => 6,
        "TRACE" => 7,
        "PATCH" => 8,
        _ => OTHER_METHOD,
    }
}
