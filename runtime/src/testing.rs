//! Reading calls back in your own tests, isolated from tests running in parallel.
//!
//! `cargo test` runs tests on parallel threads against one process-wide registry: a test that
//! renders the exposition sees every other test's calls too. A capture sees only the calls
//! made on its own thread while its closure runs ([`capture`]), or while its future is polled,
//! on whichever thread polls it ([`capture_future`]):
//!
//! ```
//! use instrument_metrics::instrument_metrics;
//! use instrument_metrics::testing::{capture, Calls};
//!
//! #[instrument_metrics]
//! fn parse_port(s: &str) -> Result<u16, std::num::ParseIntError> {
//!     s.parse()
//! }
//!
//! let (_, seen) = capture(|| {
//!     parse_port("8080").unwrap();
//!     parse_port("eighty").unwrap_err();
//! });
//! assert_eq!(seen.calls("parse_port"), Calls { ok: 1, error: 1, panic: 0, cancelled: 0 });
//! seen.assert_only(&["parse_port"]);
//! ```
//!
//! - **What is in a capture**: the calls of instrumented functions that ended on its thread
//!   while it was open, and the HTTP exchanges (tower layer, actix middleware) and gRPC calls
//!   (tonic layers) recorded there. Tasks spawned from inside a capture run elsewhere and are not in it: wrap them in
//!   [`capture_future`] of their own. A capture opened inside another is seen by both.
//! - **A panic**: a call that panics is counted (`panic`), but a panic that leaves the closure
//!   ends the capture with it. To see a panicking call, catch it inside:
//!   `capture(|| std::panic::catch_unwind(|| …))`.
//! - **Cost**: with no capture open, a call pays one load and a branch. Inside one, each
//!   recorded call is also noted (a `Vec` push).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::expose::catalog::catalog;
use crate::record::capture::{self, Event, Frame};
use crate::record::outcome::Outcome;

/// Runs `f` and returns what it returned with the calls it made on this thread.
///
/// ```
/// use instrument_metrics::instrument_metrics;
///
/// #[instrument_metrics]
/// fn step(n: u32) -> u32 { n + 1 }
///
/// let (n, seen) = instrument_metrics::testing::capture(|| step(step(1)));
/// assert_eq!((n, seen.calls("step").ok), (3, 2));
/// ```
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Captured) {
    let frame = Frame::default();
    let entered = capture::enter(&frame);
    let out = f();
    let events = frame.take();
    entered.leave(&events);
    (out, Captured { events })
}

/// A future that runs `future` and returns its output with the calls made while it was
/// polled, on whichever thread polled it (across `.await`s, `join!` and `select!` inside it).
///
/// ```
/// use instrument_metrics::instrument_metrics;
///
/// #[instrument_metrics]
/// async fn fetch(id: u32) -> Result<u32, String> {
///     if id == 0 { Err("no id 0".into()) } else { Ok(id) }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (_, seen) = instrument_metrics::testing::capture_future(async {
///     let _ = fetch(1).await;
///     let _ = fetch(0).await;
/// })
/// .await;
/// assert_eq!((seen.calls("fetch").ok, seen.calls("fetch").error), (1, 1));
/// # });
/// ```
pub fn capture_future<F: Future>(future: F) -> CaptureFuture<F> {
    CaptureFuture {
        inner: Box::pin(future),
        frame: Box::default(),
    }
}

/// The future [`capture_future`] returns.
#[must_use = "futures do nothing unless polled"]
pub struct CaptureFuture<F> {
    inner: Pin<Box<F>>,
    frame: Box<Frame>,
}

impl<F> fmt::Debug for CaptureFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureFuture").finish_non_exhaustive()
    }
}

impl<F: Future> Future for CaptureFuture<F> {
    type Output = (F::Output, Captured);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let entered = capture::enter(&this.frame);
        let polled = this.inner.as_mut().poll(cx);
        match polled {
            Poll::Pending => {
                drop(entered);
                Poll::Pending
            }
            Poll::Ready(out) => {
                let events = this.frame.take();
                entered.leave(&events);
                Poll::Ready((out, Captured { events }))
            }
        }
    }
}

/// Calls of one function by how they ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Calls {
    /// Calls that returned a success.
    pub ok: u64,
    /// Calls that returned an error.
    pub error: u64,
    /// Calls whose body panicked.
    pub panic: u64,
    /// Async calls dropped before they finished.
    pub cancelled: u64,
}

impl Calls {
    /// All of them.
    ///
    /// ```
    /// let calls = instrument_metrics::testing::Calls { ok: 2, error: 1, panic: 0, cancelled: 1 };
    /// assert_eq!(calls.total(), 4);
    /// ```
    #[must_use]
    pub fn total(&self) -> u64 {
        self.ok + self.error + self.panic + self.cancelled
    }

    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Error => self.error += 1,
            Outcome::Panic => self.panic += 1,
            Outcome::Cancelled => self.cancelled += 1,
        }
    }
}

/// What a capture saw. Its [`Display`](fmt::Display) is a table of it, which the assertion
/// helpers print when they fail.
#[derive(Clone)]
pub struct Captured {
    events: Vec<Event>,
}

impl fmt::Debug for Captured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Captured:\n{self}")
    }
}

/// One call as a test reads it.
struct CallView {
    function: String,
    module: &'static str,
    labels: Vec<(&'static str, &'static str)>,
    outcome: Outcome,
    error_kind: Option<&'static str>,
}

impl Captured {
    fn call_views(&self) -> Vec<CallView> {
        let series = catalog();
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Call {
                    site,
                    outcome,
                    labelled,
                } => {
                    // The function label the exposition shows (merged series keep one name).
                    let function = series
                        .iter()
                        .find(|s| s.sites.iter().any(|x| std::ptr::eq(x.meta(), *site)))
                        .map_or_else(|| site.name.to_owned(), |s| s.function.clone());
                    let mut labels: Vec<(&'static str, &'static str)> = site.labels.to_vec();
                    let mut error_kind = None;
                    if let Some((dynamic, combo, kind)) = labelled {
                        labels.extend(dynamic.values_of(*combo));
                        if *outcome == Outcome::Error {
                            error_kind = dynamic.kinds.map(|kinds| {
                                kind.and_then(|k| kinds.get(k).copied())
                                    .unwrap_or(crate::record::labels::NONE)
                            });
                        }
                    }
                    Some(CallView {
                        function,
                        module: site.module,
                        labels,
                        outcome: *outcome,
                        error_kind,
                    })
                }
                Event::Http { .. } | Event::Grpc { .. } => None,
            })
            .collect()
    }

    /// The calls of the function labelled `function` (as in `function_calls_total`: `name`,
    /// or `Type::method` for a method of an instrumented impl block), all label values summed.
    #[must_use]
    pub fn calls(&self, function: &str) -> Calls {
        self.calls_with(function, &[])
    }

    /// The calls of `function` whose labels (constant and dynamic) include all of `labels`.
    ///
    /// ```
    /// use instrument_metrics::{instrument_metrics, LabelValue};
    ///
    /// #[derive(LabelValue, Clone, Copy)]
    /// enum Tier { Free, Pro }
    ///
    /// #[instrument_metrics(labels(tier = tier))]
    /// fn charge(tier: Tier) {}
    ///
    /// let (_, seen) = instrument_metrics::testing::capture(|| {
    ///     charge(Tier::Pro);
    ///     charge(Tier::Pro);
    ///     charge(Tier::Free);
    /// });
    /// assert_eq!(seen.calls_with("charge", &[("tier", "Pro")]).ok, 2);
    /// ```
    #[must_use]
    pub fn calls_with(&self, function: &str, labels: &[(&str, &str)]) -> Calls {
        let mut calls = Calls::default();
        for c in self.call_views() {
            if c.function == function && labels.iter().all(|l| c.labels.contains(l)) {
                calls.add(c.outcome);
            }
        }
        calls
    }

    /// The errors of `function` by `error_kind` (with `error_kind` on the function).
    ///
    /// ```
    /// use instrument_metrics::instrument_metrics;
    ///
    /// #[instrument_metrics(error_kind)]
    /// fn open(path: &str) -> std::io::Result<std::fs::File> {
    ///     std::fs::File::open(path)
    /// }
    ///
    /// let (_, seen) = instrument_metrics::testing::capture(|| open("/no/such/file"));
    /// assert_eq!(seen.error_kinds("open").get("NotFound"), Some(&1));
    /// ```
    #[must_use]
    pub fn error_kinds(&self, function: &str) -> BTreeMap<String, u64> {
        let mut kinds = BTreeMap::new();
        for c in self.call_views() {
            if let (true, Some(kind)) = (c.function == function, c.error_kind) {
                *kinds.entry(kind.to_owned()).or_insert(0) += 1;
            }
        }
        kinds
    }

    /// The HTTP exchanges recorded on `method` and `route` (the route template, as in
    /// `http_route`), by response status (0: none was sent).
    #[must_use]
    pub fn requests(&self, method: &str, route: &str) -> BTreeMap<u16, u64> {
        let mut by_status = BTreeMap::new();
        for e in &self.events {
            if let Event::Http {
                method: m,
                route: r,
                status,
                ..
            } = e
            {
                if *m == method && &**r == route {
                    *by_status.entry(*status).or_insert(0) += 1;
                }
            }
        }
        by_status
    }

    /// The gRPC calls of `service`/`method` (as in `grpc_service`, `grpc_method`) that ended on
    /// the server layer, by code (`OK`, `NotFound`…), or on the client layer with `client`.
    #[must_use]
    pub fn grpc_calls(&self, service: &str, method: &str, client: bool) -> BTreeMap<String, u64> {
        let mut by_code = BTreeMap::new();
        for e in &self.events {
            if let Event::Grpc {
                service: s,
                method: m,
                server,
                code,
            } = e
            {
                if *s == service && *m == method && *server != client {
                    *by_code.entry((*code).to_owned()).or_insert(0) += 1;
                }
            }
        }
        by_code
    }

    /// The functions called, by their `function` label, each once.
    #[must_use]
    pub fn functions(&self) -> Vec<String> {
        let mut names: Vec<String> = self.call_views().into_iter().map(|c| c.function).collect();
        names.sort();
        names.dedup();
        names
    }

    /// Whether nothing was captured.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Asserts `function`'s calls; on failure, the message shows everything captured.
    ///
    /// # Panics
    /// When the calls differ.
    #[track_caller]
    pub fn assert_calls(&self, function: &str, expected: Calls) {
        let got = self.calls(function);
        assert!(
            got == expected,
            "calls of `{function}`: expected {expected:?}, got {got:?}; captured:\n{self}"
        );
    }

    /// Asserts that no function but `functions` was called (HTTP exchanges are not checked).
    ///
    /// # Panics
    /// When another function was called; the message shows everything captured.
    #[track_caller]
    pub fn assert_only(&self, functions: &[&str]) {
        let others: Vec<String> = self
            .functions()
            .into_iter()
            .filter(|f| !functions.contains(&f.as_str()))
            .collect();
        assert!(
            others.is_empty(),
            "called besides {functions:?}: {others:?}; captured:\n{self}"
        );
    }
}

impl fmt::Display for Captured {
    /// One line per function (and label values) with its calls by result, then one per HTTP
    /// route, method and status.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rows: BTreeMap<(String, &str, String), Calls> = BTreeMap::new();
        for c in self.call_views() {
            let labels = c
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .chain(c.error_kind.map(|k| format!("error_kind={k}")))
                .collect::<Vec<_>>()
                .join(",");
            rows.entry((c.function, c.module, labels))
                .or_default()
                .add(c.outcome);
        }
        writeln!(
            f,
            "| function | module | labels | ok | error | panic | cancelled |"
        )?;
        if rows.is_empty() {
            writeln!(f, "| (no call) | | | | | | |")?;
        }
        for ((function, module, labels), c) in &rows {
            writeln!(
                f,
                "| {function} | {module} | {labels} | {} | {} | {} | {} |",
                c.ok, c.error, c.panic, c.cancelled
            )?;
        }
        let mut http: BTreeMap<(&str, &str, u16, &str), u64> = BTreeMap::new();
        for e in &self.events {
            if let Event::Http {
                method,
                route,
                status,
                error_type,
            } = e
            {
                *http
                    .entry((route, method, *status, error_type.unwrap_or("")))
                    .or_insert(0) += 1;
            }
        }
        for ((route, method, status, error_type), n) in http {
            writeln!(f, "HTTP {method} {route} {status} {error_type}: {n}")?;
        }
        for e in &self.events {
            if let Event::Grpc {
                service,
                method,
                server,
                code,
            } = e
            {
                let side = if *server { "server" } else { "client" };
                writeln!(f, "gRPC {side} {service}/{method} {code}")?;
            }
        }
        Ok(())
    }
}
