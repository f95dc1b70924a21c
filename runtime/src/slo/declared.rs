//! The objectives declared in this process ([`declare`]), each with the functions that carry
//! it ([`objectives`]) and their counts since start ([`Declared::counts`]).

use std::sync::{Mutex, PoisonError};

use super::counts::Counts;
use super::objective::Objective;
use crate::error::Error;
use crate::expose::catalog::{catalog, Series};
use crate::record::objective::objectives_of;
use crate::record::reading::Reading;

static DECLARED: Mutex<Vec<Objective>> = Mutex::new(Vec::new());

/// Declares objectives for this process: what [`rules_yaml`](super::rules_yaml) writes rules
/// for and [`objectives`] lists. Call it once at start (it may be called again to add more).
///
/// # Errors
/// [`Error::InvalidConfig`] saying what to write, and nothing declared, when a name is not
/// valid (up to 64 ASCII letters, digits, `_`, `-`, starting with a letter), an objective has
/// no target, a target is not above 0 and below 1, a latency threshold is zero, or a name is
/// declared twice.
///
/// ```
/// use std::time::Duration;
/// use instrument_metrics::{instrument_metrics, slo::{self, Objective}};
///
/// #[instrument_metrics(objective = "checkout")]
/// fn pay(cents: u64) -> Result<u64, String> { Ok(cents) }
///
/// slo::declare([
///     Objective::new("checkout").success_ratio(0.999).latency(Duration::from_millis(250), 0.99),
/// ])?;
/// let again = slo::declare([Objective::new("checkout").success_ratio(0.9)]).unwrap_err();
/// assert_eq!(again.to_string(), "invalid configuration: objective `checkout` is declared twice");
/// # Ok::<(), instrument_metrics::Error>(())
/// ```
pub fn declare(objectives: impl IntoIterator<Item = Objective>) -> Result<(), Error> {
    let new: Vec<Objective> = objectives.into_iter().collect();
    let mut declared = DECLARED.lock().unwrap_or_else(PoisonError::into_inner);
    for (i, o) in new.iter().enumerate() {
        o.check()?;
        if declared
            .iter()
            .chain(&new[..i])
            .any(|d| d.name() == o.name())
        {
            return Err(Error::InvalidConfig(format!(
                "objective `{}` is declared twice",
                o.name()
            )));
        }
    }
    declared.extend(new);
    Ok(())
}

/// Every declared objective, in declaration order, with the functions that carry it.
///
/// This is what a page showing the remaining error budgets reads: the selectors the rules use
/// ([`Function`]) and the counts since start ([`Declared::counts`]), which, subtracted from
/// an earlier reading ([`Counts::since`]), give the budget left over any window.
///
/// ```
/// use instrument_metrics::{instrument_metrics, slo::{self, Objective}};
///
/// #[instrument_metrics(objective = "search")]
/// fn find(q: &str) -> Result<usize, String> {
///     if q.is_empty() { Err("empty".into()) } else { Ok(q.len()) }
/// }
///
/// slo::declare([Objective::new("search").success_ratio(0.875)])?;
/// let before = slo::objectives()[0].counts();
/// for q in ["a", "b", "c", ""] { let _ = find(q); }
/// let search = &slo::objectives()[0];
/// assert_eq!(search.objective().name(), "search");
/// assert_eq!(search.functions()[0].function(), "find");
/// assert_eq!(search.functions()[0].module(), "rust_out");
/// let window = search.counts().since(&before);
/// assert_eq!((window.calls, window.failed), (4, 1));
/// // 12.5% may fail, 25% did: the budget is spent twice over.
/// assert_eq!(search.objective().availability_budget_left(window.calls, window.failed), Some(-1.0));
/// # Ok::<(), instrument_metrics::Error>(())
/// ```
#[must_use]
pub fn objectives() -> Vec<Declared> {
    let declared = DECLARED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    declared
        .into_iter()
        .map(|objective| Declared {
            functions: functions_of(objective.name()),
            objective,
        })
        .collect()
}

/// The objectives named by call sites in this binary, whether declared or not, sorted.
pub(crate) fn carried() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = catalog()
        .iter()
        .flat_map(|s| s.sites.iter().flat_map(|site| objectives_of(*site)))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The series (function and module) whose call sites carry `objective`, in catalog order
/// (module, then function).
fn functions_of(objective: &str) -> Vec<Function> {
    catalog()
        .iter()
        .filter(|s| {
            s.sites
                .iter()
                .any(|site| objectives_of(*site).any(|o| o == objective))
        })
        .map(|series| Function { series })
        .collect()
}

/// A declared objective and the functions that carry it.
#[derive(Clone)]
pub struct Declared {
    objective: Objective,
    functions: Vec<Function>,
}

impl Declared {
    /// The objective, as declared.
    #[must_use]
    pub fn objective(&self) -> &Objective {
        &self.objective
    }

    /// The functions carrying it (empty if none in this binary does), sorted by module, then
    /// function: the `function` and `module` label pairs its rules select.
    #[must_use]
    pub fn functions(&self) -> &[Function] {
        &self.functions
    }

    /// The calls of its functions since the process started, read from the call sites now;
    /// for an objective on a gRPC method, the calls the server layer counted of it (every
    /// code a call, the server-failure codes failed).
    #[must_use]
    pub fn counts(&self) -> Counts {
        #[cfg(feature = "tonic")]
        if let Some((service, method)) = self.objective.grpc_target() {
            let threshold = self.objective.latency_target().map(|(t, _)| t);
            return super::grpc::counts(service, method, threshold);
        }
        let threshold = self
            .objective
            .latency_target()
            .and_then(|(t, _)| u64::try_from(t.as_nanos()).ok());
        let mut counts = Counts::default();
        for f in &self.functions {
            let mut reading = Reading::for_buckets(f.series.bounds_seconds.len());
            f.series.read(&mut reading);
            let [ok, error, panic, _cancelled] = reading.results;
            // Wrapping, like the counters themselves: a reading never panics.
            counts.calls = counts
                .calls
                .wrapping_add(ok.wrapping_add(error).wrapping_add(panic));
            counts.failed = counts.failed.wrapping_add(error.wrapping_add(panic));
            counts.timed = counts.timed.wrapping_add(reading.count());
            let fast_buckets = threshold.and_then(|t| {
                f.series
                    .sites
                    .first()
                    .and_then(|s| s.meta().bounds_nanos.iter().position(|b| *b == t))
            });
            if let Some(i) = fast_buckets {
                let slow = reading.buckets.iter().skip(i + 1);
                counts.slow = slow.fold(counts.slow, |a, b| a.wrapping_add(*b));
            }
        }
        counts
    }
}

/// One function carrying an objective: the label pair its series are selected by.
#[derive(Clone)]
pub struct Function {
    series: &'static Series,
}

impl Function {
    /// The `function` label (the exposition's, `name@file:line` if it had to be told apart).
    #[must_use]
    pub fn function(&self) -> &'static str {
        &self.series.function
    }

    /// The `module` label.
    #[must_use]
    pub fn module(&self) -> &'static str {
        self.series.module
    }

    /// The histogram's bucket upper bounds, in seconds (`+Inf` not included).
    #[must_use]
    pub fn bounds_seconds(&self) -> &'static [f64] {
        self.series.bounds_seconds
    }

    pub(crate) fn series(&self) -> &'static Series {
        self.series
    }
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("function", &self.function())
            .field("module", &self.module())
            .finish()
    }
}

impl std::fmt::Debug for Declared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Declared")
            .field("objective", &self.objective)
            .field("functions", &self.functions)
            .finish()
    }
}
