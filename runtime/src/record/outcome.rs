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

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// Lets a returned value of your own type say whether the call failed.
///
/// `#[instrument_metrics]` looks at the concrete value a body returns. `Result::Err` is an
/// error and anything else is ok, unless the type implements this trait; a `Result` whose `Ok`
/// type implements it asks that value too.
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

/// Autoref specialization: the macro calls `(&&&Probe(&value)).__im_outcome()`, and method
/// resolution picks the most specific of these impls that applies to the concrete type.
pub mod probe {
    use super::{ClassifyOutcome, Outcome};

    /// Wraps the returned value for classification.
    pub struct Probe<'a, T: ?Sized>(pub &'a T);

    /// First choice: the type classifies itself.
    pub trait ViaClassify {
        /// The outcome of the wrapped value.
        fn __im_outcome(&self) -> Outcome;
    }
    impl<T: ClassifyOutcome + ?Sized> ViaClassify for &&Probe<'_, T> {
        #[inline]
        fn __im_outcome(&self) -> Outcome {
            self.0.outcome()
        }
    }

    /// Second choice: any `Result`.
    pub trait ViaResult {
        /// The outcome of the wrapped value.
        fn __im_outcome(&self) -> Outcome;
    }
    impl<T, E> ViaResult for &Probe<'_, Result<T, E>> {
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
    pub trait ViaAnything {
        /// The outcome of the wrapped value.
        fn __im_outcome(&self) -> Outcome;
    }
    impl<T: ?Sized> ViaAnything for Probe<'_, T> {
        #[inline]
        fn __im_outcome(&self) -> Outcome {
            Outcome::Ok
        }
    }
}
