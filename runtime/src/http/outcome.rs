//! HTTP values as outcomes (feature `http`): a status of 500 or more is an `error`, anything
//! else is `ok`. 4xx is `ok` on purpose: the OpenTelemetry HTTP server conventions count a
//! client's mistake as the server working, not failing.
//!
//! Covered: [`http::StatusCode`], [`http::Response<B>`](http::Response) (so axum's
//! `Response`), [`http::response::Parts`], and the response tuples axum accepts whose first
//! element is one of those, such as `(StatusCode, body)` or `(StatusCode, headers, body)`. A
//! `Result` whose `Ok` is one of these asks it, and is an `error` on `Err`. Classification
//! looks at the concrete value, so an `-> impl IntoResponse` handler is covered too.
//!
//! ```
//! use http::StatusCode;
//! use instrument_metrics::{instrument_metrics, ClassifyOutcome, Outcome};
//!
//! assert_eq!(StatusCode::SERVICE_UNAVAILABLE.outcome(), Outcome::Error);
//! assert_eq!(StatusCode::NOT_FOUND.outcome(), Outcome::Ok);
//! assert_eq!((StatusCode::INTERNAL_SERVER_ERROR, "oops").outcome(), Outcome::Error);
//!
//! #[instrument_metrics]
//! fn lookup(id: u32) -> (StatusCode, String) {
//!     match id {
//!         0 => (StatusCode::INTERNAL_SERVER_ERROR, "database down".to_owned()),
//!         1 => (StatusCode::NOT_FOUND, "no such user".to_owned()),
//!         _ => (StatusCode::OK, format!("user {id}")),
//!     }
//! }
//!
//! lookup(0);
//! lookup(1);
//! lookup(2);
//! let text = instrument_metrics::render();
//! assert!(text.contains(r#"function_calls_total{function="lookup",module="rust_out",result="error"} 1"#));
//! assert!(text.contains(r#"function_calls_total{function="lookup",module="rust_out",result="ok"} 2"#));
//! ```

use http::response::Parts;
use http::{Response, StatusCode};

use crate::record::outcome::{ClassifyOutcome, Outcome};

/// The outcome of a response with this status: `error` from 500 on, `ok` below.
pub(crate) const fn status_outcome(code: u16) -> Outcome {
    if code >= 500 {
        Outcome::Error
    } else {
        Outcome::Ok
    }
}

/// `error` for 5xx, `ok` otherwise (4xx included).
///
/// ```
/// use instrument_metrics::{ClassifyOutcome, Outcome};
/// assert_eq!(http::StatusCode::BAD_GATEWAY.outcome(), Outcome::Error);
/// assert_eq!(http::StatusCode::BAD_REQUEST.outcome(), Outcome::Ok);
/// ```
impl ClassifyOutcome for StatusCode {
    fn outcome(&self) -> Outcome {
        status_outcome(self.as_u16())
    }
}

/// By the response's status; axum's `Response` is this type.
///
/// ```
/// use instrument_metrics::{ClassifyOutcome, Outcome};
/// let response = http::Response::builder().status(500).body(()).unwrap();
/// assert_eq!(response.outcome(), Outcome::Error);
/// ```
impl<B> ClassifyOutcome for Response<B> {
    fn outcome(&self) -> Outcome {
        self.status().outcome()
    }
}

/// By the status in the parts.
///
/// ```
/// use instrument_metrics::{ClassifyOutcome, Outcome};
/// let (parts, ()) = http::Response::builder().status(503).body(()).unwrap().into_parts();
/// assert_eq!(parts.outcome(), Outcome::Error);
/// ```
impl ClassifyOutcome for Parts {
    fn outcome(&self) -> Outcome {
        self.status.outcome()
    }
}

/// Response tuples as axum takes them: the first element (a status, `Parts` or a
/// `Response`) decides, whatever headers, extensions and body follow.
macro_rules! tuples {
    ($(($($rest:ident),+))+) => {
        $(
            /// By the status of the first element.
            impl<$($rest),+> ClassifyOutcome for (StatusCode, $($rest,)+) {
                fn outcome(&self) -> Outcome {
                    self.0.outcome()
                }
            }

            /// By the status of the first element.
            impl<$($rest),+> ClassifyOutcome for (Parts, $($rest,)+) {
                fn outcome(&self) -> Outcome {
                    self.0.outcome()
                }
            }

            /// By the status of the first element.
            impl<B, $($rest),+> ClassifyOutcome for (Response<B>, $($rest,)+) {
                fn outcome(&self) -> Outcome {
                    self.0.outcome()
                }
            }
        )+
    };
}

// Up to 16 parts and a body after the status, as axum allows.
tuples! {
    (T1)
    (T1, T2)
    (T1, T2, T3)
    (T1, T2, T3, T4)
    (T1, T2, T3, T4, T5)
    (T1, T2, T3, T4, T5, T6)
    (T1, T2, T3, T4, T5, T6, T7)
    (T1, T2, T3, T4, T5, T6, T7, T8)
    (T1, T2, T3, T4, T5, T6, T7, T8, T9)
    (T1, T2, T3, T4, T5, T6, T7, T8, T9, T10)
    (T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11)
    (T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12)
    (T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13)
    (T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14)
    (T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15)
    (T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15, T16)
    (T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15, T16, T17)
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, Response, StatusCode};

    use crate::record::outcome::{ClassifyOutcome, Outcome};

    #[test]
    fn five_hundreds_are_errors_and_nothing_else_is() {
        for code in 100..=999u16 {
            let status = StatusCode::from_u16(code).unwrap();
            let expected = if code >= 500 {
                Outcome::Error
            } else {
                Outcome::Ok
            };
            assert_eq!(status.outcome(), expected, "{code}");
        }
    }

    #[test]
    fn responses_tuples_and_results_follow_the_status() {
        let bad = StatusCode::INTERNAL_SERVER_ERROR;
        assert_eq!((bad, "x").outcome(), Outcome::Error);
        assert_eq!((bad, HeaderMap::new(), "x").outcome(), Outcome::Error);
        assert_eq!((StatusCode::OK, [("a", "b")], "x").outcome(), Outcome::Ok);
        let response = Response::builder().status(bad).body("x").unwrap();
        assert_eq!(response.outcome(), Outcome::Error);
        let (parts, body) = response.into_parts();
        assert_eq!((parts, body).outcome(), Outcome::Error);
        let ok: Result<StatusCode, ()> = Ok(StatusCode::NO_CONTENT);
        assert_eq!(ok.outcome(), Outcome::Ok);
        let five: Result<StatusCode, ()> = Ok(bad);
        assert_eq!(five.outcome(), Outcome::Error);
        let err: Result<StatusCode, ()> = Err(());
        assert_eq!(err.outcome(), Outcome::Error);
    }
}
