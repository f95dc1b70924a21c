//! What every row of the shape table uses: call counts read back from the parsed exposition
//! (by function *and* module, so rows never see each other's series), a drop log, a
//! current-thread runtime, and the runner of one (tail × kind) cell.

use std::cell::RefCell;
use std::fmt::Debug;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// The lines of `text` that `counts_and_timed` reads: the call counters and the histogram's
/// `_count` of the functions of `module`. Filtered by prefix before the (slower) search for
/// the module label: the exposition of a few hundred functions is mostly histogram buckets, and
/// scanning all of it takes long in a debug build.
fn series_lines(text: &str, module: &str) -> String {
    let needle = format!("module=\"{module}\"");
    let ours: Vec<&str> = text
        .lines()
        .filter(|l| {
            (l.starts_with("function_calls_total{")
                || l.starts_with("function_calls_duration_seconds_count{"))
                && l.contains(&needle)
        })
        .collect();
    ours.join("\n")
}

/// The function series of one module, parsed from `text` (only the lines naming the module:
/// parsing the whole exposition takes long in a debug build, and every cell reads it).
fn series_in(text: &str, module: &str) -> (Vec<instrument_metrics_tests::Sample>, String) {
    let ours = series_lines(text, module);
    (instrument_metrics_tests::parse(&ours), ours)
}

/// The same, from a fresh `instrument_metrics::render()`.
fn series(module: &str) -> (Vec<instrument_metrics_tests::Sample>, String) {
    series_in(&instrument_metrics::render(), module)
}

/// The exposition as it was when the first cell of the table checked its series. The
/// functions of a cell are called by its own test only, and only once that test has read
/// this snapshot, so the snapshot shows every cell's series before its calls: one render
/// serves the "untouched" check of every cell (a render of a few hundred functions takes tens
/// of milliseconds in a debug build, and there are hundreds of cells).
fn first_render() -> &'static str {
    static FIRST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    FIRST.get_or_init(instrument_metrics::render)
}

/// Calls of `function` defined in `module`, by result: `[ok, error, panic, cancelled]`, and
/// the `_count` of its duration histogram. Panics unless each series exists exactly once.
pub fn counts_and_timed(module: &str, function: &str) -> ([u64; 4], u64) {
    counts_and_timed_in(series(module), module, function)
}

fn counts_and_timed_in(
    (samples, text): (Vec<instrument_metrics_tests::Sample>, String),
    module: &str,
    function: &str,
) -> ([u64; 4], u64) {
    let one = |name: &str, result: Option<&str>| {
        let mut labels = vec![("function", function), ("module", module)];
        labels.extend(result.map(|r| ("result", r)));
        match instrument_metrics_tests::find_value(&samples, name, &labels) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Some(v) => v as u64,
            None => fail(format!("no {name} with {labels:?} in:\n{text}")),
        }
    };
    let counts = ["ok", "error", "panic", "cancelled"]
        .map(|result| one("function_calls_total", Some(result)));
    (counts, one("function_calls_duration_seconds_count", None))
}

/// Fails the test with `message`. (Not `panic!("…{x}")`: under edition 2018 a lone literal
/// is not a format string, and these files are compiled under every edition.)
#[track_caller]
pub fn fail(message: String) -> ! {
    std::panic::panic_any(message)
}

/// Asserts the exact counts of `function` in `module`, and that every call was timed.
#[track_caller]
pub fn assert_counts(module: &str, function: &str, expected: [u64; 4]) {
    check_counts(
        counts_and_timed(module, function),
        module,
        function,
        expected,
    );
}

/// Asserts that `function` in `module` is in the exposition, every count at 0, before any of
/// its calls: read from [`first_render`], so only for functions that nothing calls before
/// their own test reads it (the cells of the table).
#[track_caller]
fn assert_untouched(module: &str, function: &str) {
    let series = series_in(first_render(), module);
    check_counts(
        counts_and_timed_in(series, module, function),
        module,
        function,
        [0, 0, 0, 0],
    );
}

#[track_caller]
fn check_counts((got, timed): ([u64; 4], u64), module: &str, function: &str, expected: [u64; 4]) {
    assert_eq!(
        got, expected,
        "{module} {function}: [ok, error, panic, cancelled]"
    );
    let total: u64 = expected.iter().sum();
    assert_eq!(timed, total, "{module} {function}: every call is timed");
}

thread_local! {
    static LOG: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// Pushes its name into this thread's log when dropped.
#[derive(Debug)]
pub struct Noisy(pub &'static str);

impl Drop for Noisy {
    fn drop(&mut self) {
        note(self.0);
    }
}

impl Noisy {
    /// Something to call on a temporary.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Writes an event into this thread's log.
pub fn note(event: &'static str) {
    LOG.with(|l| l.borrow_mut().push(event));
}

/// Empties this thread's log and returns what it held.
pub fn take_log() -> Vec<&'static str> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// Runs `f` with an empty log, returns the log it left (and whether it panicked).
pub fn logged(f: impl FnOnce()) -> Vec<&'static str> {
    drop(take_log());
    let r = catch_unwind(AssertUnwindSafe(f));
    let mut log = take_log();
    if r.is_err() {
        log.push("<unwound>");
    }
    log
}

/// Runs a future to completion on a fresh tokio current-thread runtime.
pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
        .block_on(f)
}

/// Polls once with a waker that does nothing.
pub fn poll_once<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    f.poll(&mut cx)
}

/// The message of a caught panic.
pub fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<not a string>".to_owned())
}

/// What one call should give: `Ok(returned value)`, or `Err(panic message)`.
pub type Expect<R> = Result<R, &'static str>;

/// One cell of the table: calls `call` with each argument, compares what came back (or the
/// panic message) with what was expected, then the exact counts of `function` in `module`.
#[track_caller]
pub fn run_cell<R: PartialEq + Debug>(
    module: &str,
    function: &str,
    call: impl Fn(u32) -> R,
    calls: Vec<(u32, Expect<R>)>,
    expected: [u64; 4],
) {
    assert_untouched(module, function);
    for (arg, want) in calls {
        let got = catch_unwind(AssertUnwindSafe(|| call(arg))).map_err(|p| message(&*p));
        match (&got, &want) {
            (Ok(g), Ok(w)) => assert_eq!(g, w, "{module} {function}({arg})"),
            (Err(g), Err(w)) => {
                if !g.starts_with(w) {
                    fail(format!(
                        "{module} {function}({arg}) panicked with {g:?}, expected {w:?}"
                    ));
                }
            }
            _ => fail(format!(
                "{module} {function}({arg}): got {got:?}, expected {want:?}"
            )),
        }
    }
    assert_counts(module, function, expected);
}

/// Set in the child process that a cell whose body calls `std::process::exit` spawns.
const EXIT_CHILD: &str = "INSTRUMENT_METRICS_SHAPES_EXIT_CHILD";

/// A cell whose body ends the process: in the test, re-runs this very test in a child process
/// (the test binary, filtered to this test) that makes the call; the child must exit with
/// `code`. `test_module` is `module_path!()` where the test is, `test_name` its name.
#[track_caller]
pub fn run_exit_cell<R>(test_module: &str, test_name: &str, call: impl FnOnce(u32) -> R, code: u8) {
    if std::env::var_os(EXIT_CHILD).is_some() {
        let _ = call(u32::from(code));
        unreachable!("the call returned instead of exiting");
    }
    // `module_path!()` starts with the crate name; libtest names tests without it.
    let path = test_module.split_once("::").map_or("", |(_, rest)| rest);
    let filter = format!("{path}::{test_name}");
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            filter.as_str(),
            "--exact",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(EXIT_CHILD, "1")
        .output()
        .expect("the child test runs");
    assert_eq!(
        out.status.code(),
        Some(i32::from(code)),
        "{filter}: the child should exit with {code}; stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Pending on its first poll (waking itself), ready on the next: an `.await` that really
/// suspends, without needing a runtime.
pub fn yield_once() -> YieldOnce {
    YieldOnce(false)
}

/// See [`yield_once`].
pub struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
