//! Cost of one instrumented call, side by side with its floors and with hand-written
//! `prometheus` code, in one process. Prints the ratios the README quotes.
//!
//! `cargo bench -p instrument-metrics --bench call_overhead`

mod common;

use std::future::Future;
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::sync::{Barrier, LazyLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};

use instrument_metrics::instrument_metrics;
use instrument_metrics::prometheus::{Histogram, HistogramOpts, IntCounter, Registry};

#[inline(never)]
fn body(x: u64) -> Result<u64, u64> {
    let y = black_box(x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    if y.is_multiple_of(7) {
        Err(y)
    } else {
        Ok(y)
    }
}

#[inline(never)]
fn bare(x: u64) -> Result<u64, u64> {
    body(x)
}

#[inline(never)]
fn clock_pair(x: u64) -> Result<u64, u64> {
    let start = Instant::now();
    let r = body(x);
    black_box(start.elapsed());
    r
}

/// The clock floor: two raw `rdtsc` around the body, nothing recorded.
#[inline(never)]
fn tsc_pair(x: u64) -> Result<u64, u64> {
    let start = rdtsc();
    let r = body(x);
    black_box(rdtsc().wrapping_sub(start));
    r
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` exists on every x86_64 CPU.
    unsafe { core::arch::x86_64::_rdtsc() }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn rdtsc() -> u64 {
    0
}

struct Handwritten {
    ok: IntCounter,
    err: IntCounter,
    seconds: Histogram,
}

static HANDWRITTEN: LazyLock<Handwritten> = LazyLock::new(|| {
    let registry = Registry::new();
    let h = Handwritten {
        ok: IntCounter::new("calls_ok_total", "ok").unwrap(),
        err: IntCounter::new("calls_err_total", "err").unwrap(),
        seconds: Histogram::with_opts(HistogramOpts::new("calls_seconds", "seconds")).unwrap(),
    };
    registry.register(Box::new(h.ok.clone())).unwrap();
    registry.register(Box::new(h.err.clone())).unwrap();
    registry.register(Box::new(h.seconds.clone())).unwrap();
    h
});

#[inline(never)]
fn prometheus_by_hand(x: u64) -> Result<u64, u64> {
    let m = &*HANDWRITTEN;
    let start = Instant::now();
    let r = body(x);
    m.seconds.observe(start.elapsed().as_secs_f64());
    if r.is_ok() {
        m.ok.inc();
    } else {
        m.err.inc();
    }
    r
}

#[inline(never)]
#[instrument_metrics]
fn instrumented(x: u64) -> Result<u64, u64> {
    body(x)
}

#[inline(never)]
#[instrument_metrics(histogram = both)]
fn instrumented_native(x: u64) -> Result<u64, u64> {
    body(x)
}

// ---- async: the same body as an `async fn`, run by `run` (a noop waker, polled until ready) ----

/// Polls `future` to completion with a waker that does nothing: the executor floor.
#[inline(always)]
fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

/// Pending on its first poll, ready on the second: a call of two polls.
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

async fn async_body(x: u64) -> Result<u64, u64> {
    body(x)
}

#[instrument_metrics]
async fn async_instrumented(x: u64) -> Result<u64, u64> {
    body(x)
}

#[instrument_metrics(polls)]
async fn async_polls(x: u64) -> Result<u64, u64> {
    body(x)
}

async fn pending_body(x: u64) -> Result<u64, u64> {
    PendingOnce(false).await;
    body(x)
}

#[instrument_metrics]
async fn pending_instrumented(x: u64) -> Result<u64, u64> {
    PendingOnce(false).await;
    body(x)
}

#[instrument_metrics(polls)]
async fn pending_polls(x: u64) -> Result<u64, u64> {
    PendingOnce(false).await;
    body(x)
}

#[inline(never)]
fn run_async_bare(x: u64) -> Result<u64, u64> {
    run(async_body(x))
}

#[inline(never)]
fn run_async(x: u64) -> Result<u64, u64> {
    run(async_instrumented(x))
}

#[inline(never)]
fn run_async_polls(x: u64) -> Result<u64, u64> {
    run(async_polls(x))
}

#[inline(never)]
fn run_pending_bare(x: u64) -> Result<u64, u64> {
    run(pending_body(x))
}

#[inline(never)]
fn run_pending(x: u64) -> Result<u64, u64> {
    run(pending_instrumented(x))
}

#[inline(never)]
fn run_pending_polls(x: u64) -> Result<u64, u64> {
    run(pending_polls(x))
}

type Subject = fn(u64) -> Result<u64, u64>;

/// What the exemplar source is while a row runs.
#[derive(Clone, Copy)]
enum Exemplars {
    /// None set: the default without the `opentelemetry` feature.
    Off,
    /// A source that finds no trace context (a call outside any trace).
    NoContext,
    /// A source that always has one: every call keeps two exemplars.
    Context,
    /// The `opentelemetry` feature's source, with no `tracing` span or context current.
    #[cfg(feature = "opentelemetry")]
    OpenTelemetryNoSpan,
}

impl Exemplars {
    fn apply(self) {
        match self {
            Exemplars::Off => instrument_metrics::clear_exemplar_source(),
            Exemplars::NoContext => instrument_metrics::set_exemplar_source(|| None),
            Exemplars::Context => instrument_metrics::set_exemplar_source(|| {
                Some(instrument_metrics::TraceContext::new(
                    black_box(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
                    0x00f0_67aa_0ba9_02b7,
                ))
            }),
            #[cfg(feature = "opentelemetry")]
            Exemplars::OpenTelemetryNoSpan => instrument_metrics::set_exemplar_source(
                instrument_metrics::opentelemetry_trace_context,
            ),
        }
    }
}

const SUBJECTS: &[(&str, Subject, Exemplars)] = &[
    ("bare", bare, Exemplars::Off),
    ("tsc_pair", tsc_pair, Exemplars::Off),
    ("clock_pair", clock_pair, Exemplars::Off),
    ("prometheus_by_hand", prometheus_by_hand, Exemplars::Off),
    ("instrument_metrics", instrumented, Exemplars::Off),
    (
        "exemplar_source_no_context",
        instrumented,
        Exemplars::NoContext,
    ),
    ("exemplar_with_context", instrumented, Exemplars::Context),
    #[cfg(feature = "opentelemetry")]
    (
        "opentelemetry_no_span",
        instrumented,
        Exemplars::OpenTelemetryNoSpan,
    ),
    ("native_and_classic", instrumented_native, Exemplars::Off),
    // One call inside a capture of its own (`testing::capture`): opening and closing it, and
    // noting the call.
    ("in_capture", in_capture, Exemplars::Off),
    ("async_bare", run_async_bare, Exemplars::Off),
    ("async", run_async, Exemplars::Off),
    ("async_polls", run_async_polls, Exemplars::Off),
    ("async_pending_once_bare", run_pending_bare, Exemplars::Off),
    ("async_pending_once", run_pending, Exemplars::Off),
    (
        "async_pending_once_polls",
        run_pending_polls,
        Exemplars::Off,
    ),
];

/// `iters` calls of `f` in a plain loop: the same loop on one thread and on two.
fn in_capture(i: u64) -> Result<u64, u64> {
    instrument_metrics::testing::capture(|| instrumented(i)).0
}

fn calls(f: Subject, iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        let _ = black_box(f(black_box(i)));
    }
    start.elapsed()
}

/// Two threads call the same function at once; the time reported is per thread.
fn two_threads(f: Subject, iters: u64) -> Duration {
    let barrier = Barrier::new(2);
    let times: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    calls(f, iters)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    times.iter().sum::<Duration>() / 2
}

fn benches(c: &mut Criterion) {
    let _ = &*HANDWRITTEN;
    // The clock calibrates on its own thread within milliseconds of start; wait for it, so the
    // TSC is what gets measured.
    while !instrument_metrics::__private::clock_calibrated() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut one = c.benchmark_group("one_thread");
    for &(name, f, exemplars) in SUBJECTS {
        exemplars.apply();
        one.bench_with_input(BenchmarkId::from_parameter(name), &f, |b, f| {
            b.iter_custom(|iters| calls(*f, iters));
        });
    }
    one.finish();
    let mut two = c.benchmark_group("two_threads");
    for &(name, f, exemplars) in SUBJECTS {
        exemplars.apply();
        two.bench_with_input(BenchmarkId::from_parameter(name), &f, |b, f| {
            b.iter_custom(|iters| two_threads(*f, iters));
        });
    }
    two.finish();
    instrument_metrics::clear_exemplar_source();
}

fn report() {
    let get = common::median_ns;
    report_polls();
    let (Some(bare), Some(tsc), Some(clock), Some(prom), Some(ours)) = (
        get("one_thread", "bare"),
        get("one_thread", "tsc_pair"),
        get("one_thread", "clock_pair"),
        get("one_thread", "prometheus_by_hand"),
        get("one_thread", "instrument_metrics"),
    ) else {
        return;
    };
    println!("\nmedians, one thread (ns/call): bare {bare:.1}, raw TSC pair {tsc:.1}, Instant pair {clock:.1}, prometheus by hand {prom:.1}, #[instrument_metrics] {ours:.1}");
    println!(
        "overhead above bare: raw TSC pair {:.1} ns, Instant pair {:.1} ns, prometheus by hand {:.1} ns, #[instrument_metrics] {:.1} ns",
        tsc - bare,
        clock - bare,
        prom - bare,
        ours - bare
    );
    println!(
        "#[instrument_metrics] above the raw TSC pair: {:.1} ns (target <= 10)",
        ours - tsc
    );
    println!(
        "ratio ours/prometheus overhead: {:.2} (target <= 0.5)",
        (ours - bare) / (prom - bare)
    );
    if let (Some(prom2), Some(ours2)) = (
        get("two_threads", "prometheus_by_hand"),
        get("two_threads", "instrument_metrics"),
    ) {
        println!("two threads, same function, per thread (ns/call): prometheus by hand {prom2:.1} ({:.2}x one thread), #[instrument_metrics] {ours2:.1} ({:.2}x one thread, target <= 1.2)", prom2 / prom, ours2 / ours);
    }
    for row in [
        "exemplar_source_no_context",
        "opentelemetry_no_span",
        "exemplar_with_context",
        "native_and_classic",
    ] {
        if let Some(t) = get("one_thread", row) {
            let two = get("two_threads", row).map_or(String::new(), |t2| {
                format!(", two threads {t2:.1} ({:.2}x)", t2 / t)
            });
            println!(
                "{row}: {t:.1} ns/call, {:+.1} ns vs #[instrument_metrics] without{two}",
                t - ours
            );
        }
    }
}

/// What `polls` adds to an async call, ready at once or after one `Pending`.
fn report_polls() {
    let get = common::median_ns;
    for (label, bare, plain, polls) in [
        (
            "async, ready on first poll",
            "async_bare",
            "async",
            "async_polls",
        ),
        (
            "async, pending once",
            "async_pending_once_bare",
            "async_pending_once",
            "async_pending_once_polls",
        ),
    ] {
        if let (Some(bare), Some(plain), Some(polls)) = (
            get("one_thread", bare),
            get("one_thread", plain),
            get("one_thread", polls),
        ) {
            println!(
                "{label} (ns/call): bare {bare:.1}, #[instrument_metrics] {plain:.1}, with polls {polls:.1}: polls adds {:+.1} ns, {:.2}x the call without it, {:.2}x its overhead above bare",
                polls - plain,
                polls / plain,
                (polls - bare) / (plain - bare)
            );
        }
    }
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    benches(&mut c);
    c.final_summary();
    report();
}
