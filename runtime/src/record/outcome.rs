//! How a call ended, and how a returned value says whether it failed.

/// How one call of an instrumented function ended: the `result` label of
/// `function_calls_total`.
///
/// ```
/// use instrument_metrics::Outcome;
///
/// assert_eq!(Outcome::Error.as_str(), "error");
/// assert!(Outcome::Panic.is_failure());
/// assert!(!Outcome::Ok.is_failure());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The function returned a value that is not an error.
    Ok,
    /// The function returned a value that says it failed (`Err`, a 5xx status, `error_if`…).
    Error,
    /// The function's body unwound; the panic went on unchanged.
    Panic,
    /// The future of an async function was dropped before it finished.
    Cancelled,
}

impl Outcome {
    /// Every outcome, in the order the exposition lists them.
    ///
    /// ```
    /// let results: Vec<&str> = instrument_metrics::Outcome::ALL.iter().map(|o| o.as_str()).collect();
    /// assert_eq!(results, ["ok", "error", "panic", "cancelled"]);
    /// ```
    pub const ALL: [Outcome; 4] = [
        Outcome::Ok,
        Outcome::Error,
        Outcome::Panic,
        Outcome::Cancelled,
    ];

    /// The `result` label value: `ok`, `error`, `panic` or `cancelled`.
    ///
    /// ```
    /// assert_eq!(instrument_metrics::Outcome::Cancelled.as_str(), "cancelled");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Panic => "panic",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// Anything but [`Outcome::Ok`].
    ///
    /// ```
    /// assert!(instrument_metrics::Outcome::Cancelled.is_failure());
    /// ```
    #[must_use]
    pub const fn is_failure(self) -> bool {
        !matches!(self, Outcome::Ok)
    }

    /// The outcome of an HTTP response with this status: `error` from 500 on, `ok` below (4xx
    /// included: a client's mistake is the server working, as OpenTelemetry counts it).
    ///
    /// ```
    /// use instrument_metrics::Outcome;
    /// assert_eq!(Outcome::from_http_status(503), Outcome::Error);
    /// assert_eq!(Outcome::from_http_status(404), Outcome::Ok);
    /// ```
    #[must_use]
    pub const fn from_http_status(status: u16) -> Outcome {
        if status >= 500 {
            Outcome::Error
        } else {
            Outcome::Ok
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// Lets a returned value of your own type say whether the call failed.
///
/// `#[instrument_metrics]` looks at the concrete value a body returns. `Result::Err` is an
/// error and anything else is ok, unless the type implements this trait. A `Result` asks the
/// side it holds when that side's type implements it: `Ok(v)` asks `v` (an `Ok` response with a
/// 503 status is an error), and `Err(e)` asks `e`, so an application error that answers
/// 404 Not Found is `ok`, as the OpenTelemetry HTTP conventions count a client's mistake; an
/// `Err` whose type does not implement it is always `error`.
///
/// The `http` feature implements it for `http::StatusCode`, `http::Response<B>` (axum's
/// `Response`) and `(StatusCode, …)` tuples: 5xx is `error`, anything else `ok`. For an error
/// type of your own that maps to a status, implement it with [`Outcome::from_http_status`]:
///
/// ```
/// use instrument_metrics::{instrument_metrics, ClassifyOutcome, Outcome};
///
/// enum AppError { NotFound, Database }
///
/// impl AppError {
///     fn status(&self) -> u16 {
///         match self { AppError::NotFound => 404, AppError::Database => 500 }
///     }
/// }
///
/// impl ClassifyOutcome for AppError {
///     fn outcome(&self) -> Outcome {
///         Outcome::from_http_status(self.status())
///     }
/// }
///
/// #[instrument_metrics]
/// fn find_user(id: u32) -> Result<String, AppError> {
///     match id {
///         0 => Err(AppError::Database),
///         1 => Err(AppError::NotFound),
///         _ => Ok(format!("user {id}")),
///     }
/// }
///
/// for id in 0..3 { let _ = find_user(id); }
/// let text = instrument_metrics::render();
/// let line = |r: &str| format!("function_calls_total{{function=\"find_user\",module=\"rust_out\",result=\"{r}\"}}");
/// assert!(text.contains(&format!("{} 1\n", line("error")))); // the database failure
/// assert!(text.contains(&format!("{} 2\n", line("ok"))));    // the user, and the 404
/// ```
///
/// Another example, a reply type of your own:
///
/// ```
/// use instrument_metrics::{instrument_metrics, ClassifyOutcome, Outcome};
///
/// pub enum Reply {
///     Done,
///     Refused,
/// }
///
/// impl ClassifyOutcome for Reply {
///     fn outcome(&self) -> Outcome {
///         match self {
///             Reply::Done => Outcome::Ok,
///             Reply::Refused => Outcome::Error,
///         }
///     }
/// }
///
/// #[instrument_metrics]
/// fn answer(yes: bool) -> Reply {
///     if yes { Reply::Done } else { Reply::Refused }
/// }
///
/// answer(false);
/// let text = instrument_metrics::render();
/// assert!(text.lines().any(|l| l.starts_with("function_calls_total{function=\"answer\"")
///     && l.contains("result=\"error\"") && l.ends_with(" 1")));
/// ```
pub trait ClassifyOutcome {
    /// The outcome this value stands for.
    fn outcome(&self) -> Outcome;
}

impl<T: ClassifyOutcome, E> ClassifyOutcome for Result<T, E> {
    fn outcome(&self) -> Outcome {
        match self {
            Ok(value) => value.outcome(),
            Err(_) => Outcome::Error,
        }
    }
}

/// An `Outcome` returned is the outcome.
///
/// ```
/// use instrument_metrics::{ClassifyOutcome, Outcome};
/// assert_eq!(Outcome::Cancelled.outcome(), Outcome::Cancelled);
/// ```
impl ClassifyOutcome for Outcome {
    fn outcome(&self) -> Outcome {
        *self
    }
}

impl<T: ClassifyOutcome + ?Sized> ClassifyOutcome for &T {
    fn outcome(&self) -> Outcome {
        (**self).outcome()
    }
}

impl<T: ClassifyOutcome + ?Sized> ClassifyOutcome for Box<T> {
    fn outcome(&self) -> Outcome {
        (**self).outcome()
    }
}

/// Autoref specialization: the macro calls `(&&&&&&Probe(&value)).__im_outcome()`, and method
/// resolution picks the impl with the most references that applies to the concrete type:
///
/// | refs | type | outcome |
/// |---|---|---|
/// | 5 | `Result<T, E>`, both `ClassifyOutcome` | `Ok(t)`: `t`'s, `Err(e)`: `e`'s |
/// | 4 | `Result<T, E>`, `T: ClassifyOutcome` | `Ok(t)`: `t`'s, `Err(_)`: error |
/// | 3 | `Result<T, E>`, `E: ClassifyOutcome` | `Ok(_)`: ok, `Err(e)`: `e`'s |
/// | 2 | `T: ClassifyOutcome` | its own |
/// | 1 | any other `Result` | `Err(_)`: error |
/// | 0 | anything else | ok |
///
/// One trait with an impl per depth (the depths are distinct types, so the impls cannot
/// overlap): the generated code imports one name, and method resolution looks at one trait at
/// each step, which is most of what classifying costs the user's build.
pub mod probe {
    use super::{ClassifyOutcome, Outcome};

    /// Wraps the returned value for classification.
    pub struct Probe<'a, T: ?Sized>(pub &'a T);

    /// The outcome of the wrapped value, by the most specific impl that applies.
    pub trait ProbeOutcome {
        /// The outcome of the wrapped value.
        fn __im_outcome(&self) -> Outcome;
    }

    /// A `Result` whose both sides classify themselves.
    impl<T: ClassifyOutcome, E: ClassifyOutcome> ProbeOutcome for &&&&&Probe<'_, Result<T, E>> {
        #[inline]
        fn __im_outcome(&self) -> Outcome {
            match self.0 {
                Ok(t) => t.outcome(),
                Err(e) => e.outcome(),
            }
        }
    }

    /// A `Result` whose `Ok` classifies itself.
    impl<T: ClassifyOutcome, E> ProbeOutcome for &&&&Probe<'_, Result<T, E>> {
        #[inline]
        fn __im_outcome(&self) -> Outcome {
            match self.0 {
                Ok(t) => t.outcome(),
                Err(_) => Outcome::Error,
            }
        }
    }

    /// A `Result` whose `Err` classifies itself (an error carrying an HTTP status).
    impl<T, E: ClassifyOutcome> ProbeOutcome for &&&Probe<'_, Result<T, E>> {
        #[inline]
        fn __im_outcome(&self) -> Outcome {
            match self.0 {
                Ok(_) => Outcome::Ok,
                Err(e) => e.outcome(),
            }
        }
    }

    /// The type classifies itself.
    impl<T: ClassifyOutcome + ?Sized> ProbeOutcome for &&Probe<'_, T> {
        #[inline]
        fn __im_outcome(&self) -> Outcome {
            self.0.outcome()
        }
    }

    /// Any other `Result`.
    impl<T, E> ProbeOutcome for &Probe<'_, Result<T, E>> {
        #[inline]
        fn __im_outcome(&self) -> Outcome {
            if self.0.is_err() {
                Outcome::Error
            } else {
                Outcome::Ok
            }
        }
    }

    /// Last resort: everything else is ok.
    impl<T: ?Sized> ProbeOutcome for Probe<'_, T> {
        #[inline]
        fn __im_outcome(&self) -> Outcome {
            Outcome::Ok
        }
    }
}
