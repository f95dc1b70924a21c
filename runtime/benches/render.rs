//! Rendering 1,000 instrumented functions (4 result counters + a 14-bucket histogram each),
//! side by side with `prometheus::Registry::gather()` + `TextEncoder` on equivalent data.
//!
//! `cargo bench -p instrument-metrics --bench render`

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;

use instrument_metrics::prometheus::{
    Encoder as _, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

macro_rules! functions {
    ($($name:ident)*) => {
        $(
            #[instrument_metrics::instrument_metrics]
            pub fn $name(fail: bool) -> Result<(), ()> {
                if fail { Err(()) } else { Ok(()) }
            }
        )*
        pub fn call_all() {
            $( let _ = $name(false); let _ = $name(true); )*
        }
    };
}

macro_rules! modules {
    ($($module:ident)*) => {
        $( mod $module { functions!(f00 f01 f02 f03 f04 f05 f06 f07 f08 f09 f10 f11 f12 f13 f14 f15 f16 f17 f18 f19 f20 f21 f22 f23 f24 f25 f26 f27 f28 f29 f30 f31 f32 f33 f34 f35 f36 f37 f38 f39 f40 f41 f42 f43 f44 f45 f46 f47 f48 f49 f50 f51 f52 f53 f54 f55 f56 f57 f58 f59 f60 f61 f62 f63 f64 f65 f66 f67 f68 f69 f70 f71 f72 f73 f74 f75 f76 f77 f78 f79 f80 f81 f82 f83 f84 f85 f86 f87 f88 f89 f90 f91 f92 f93 f94 f95 f96 f97 f98 f99); } )*
        fn call_everything() { $( $module::call_all(); )* }
        const MODULES: &[&str] = &[$(stringify!($module)),*];
    };
}

modules!(m0 m1 m2 m3 m4 m5 m6 m7 m8 m9);

const FUNCTIONS: [&str; 100] = [
    "f00", "f01", "f02", "f03", "f04", "f05", "f06", "f07", "f08", "f09", "f10", "f11", "f12",
    "f13", "f14", "f15", "f16", "f17", "f18", "f19", "f20", "f21", "f22", "f23", "f24", "f25",
    "f26", "f27", "f28", "f29", "f30", "f31", "f32", "f33", "f34", "f35", "f36", "f37", "f38",
    "f39", "f40", "f41", "f42", "f43", "f44", "f45", "f46", "f47", "f48", "f49", "f50", "f51",
    "f52", "f53", "f54", "f55", "f56", "f57", "f58", "f59", "f60", "f61", "f62", "f63", "f64",
    "f65", "f66", "f67", "f68", "f69", "f70", "f71", "f72", "f73", "f74", "f75", "f76", "f77",
    "f78", "f79", "f80", "f81", "f82", "f83", "f84", "f85", "f86", "f87", "f88", "f89", "f90",
    "f91", "f92", "f93", "f94", "f95", "f96", "f97", "f98", "f99",
];

/// The same 1,000 series, kept with hand-written `prometheus` vectors.
fn equivalent_registry() -> Registry {
    let registry = Registry::new();
    let calls = IntCounterVec::new(
        Opts::new("function_calls_total", "calls"),
        &["function", "module", "result"],
    )
    .unwrap();
    let seconds = HistogramVec::new(
        HistogramOpts::new("function_calls_duration_seconds", "seconds").buckets(vec![
            0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
        ]),
        &["function", "module"],
    )
    .unwrap();
    registry.register(Box::new(calls.clone())).unwrap();
    registry.register(Box::new(seconds.clone())).unwrap();
    for m in MODULES {
        let module = format!("render::{m}");
        for f in FUNCTIONS {
            for r in ["ok", "error", "panic", "cancelled"] {
                calls
                    .with_label_values(&[f, module.as_str(), r])
                    .inc_by(u64::from(r == "ok" || r == "error"));
            }
            let h = seconds.with_label_values(&[f, module.as_str()]);
            h.observe(0.000_001);
            h.observe(0.000_002);
        }
    }
    registry
}

fn prometheus_gather_and_encode(registry: &Registry) -> Vec<u8> {
    let mut out = Vec::with_capacity(512 * 1024);
    TextEncoder::new()
        .encode(&registry.gather(), &mut out)
        .unwrap();
    out
}

fn main() {
    // Function metrics on both sides (plus process metrics on ours).
    let ours: &'static Registry = Box::leak(Box::new(Registry::new()));
    instrument_metrics::use_registry(ours).unwrap();
    call_everything();
    let theirs = equivalent_registry();
    let ours_text = instrument_metrics::render();
    let theirs_text = prometheus_gather_and_encode(&theirs);
    // Ours also carries the process metrics (read from /proc at each scrape): a cost only we pay.
    assert_eq!(
        ours_text
            .lines()
            .filter(|l| l.starts_with("function_"))
            .count(),
        1000 * (4 + 15 + 2)
    );
    assert_eq!(
        String::from_utf8(theirs_text)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .count(),
        1000 * (4 + 15 + 2)
    );

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut group = c.benchmark_group("render_1000_functions");
    group.bench_function("prometheus_gather_text_encoder", |b| {
        b.iter(|| black_box(prometheus_gather_and_encode(&theirs)));
    });
    group.bench_function("instrument_metrics_render", |b| {
        b.iter(|| black_box(instrument_metrics::render()))
    });
    group.bench_function("instrument_metrics_render_openmetrics", |b| {
        b.iter(|| black_box(instrument_metrics::exposition::render_openmetrics()));
    });
    // `prometheus`' ProtobufEncoder is not here: it needs that crate's `protobuf` feature, whose
    // `protobuf` dependency changes type inference in every crate of the build (see
    // tests/inference), so the workspace never enables it.
    group.bench_function("instrument_metrics_render_protobuf", |b| {
        b.iter(|| black_box(instrument_metrics::exposition::render_protobuf()));
    });
    // Native buckets beside the classic ones for every function, each called again.
    instrument_metrics::set_default_histograms(instrument_metrics::Histograms::Both);
    call_everything();
    group.bench_function(
        "instrument_metrics_render_protobuf_native_and_classic",
        |b| {
            b.iter(|| black_box(instrument_metrics::exposition::render_protobuf()));
        },
    );
    group.finish();
    c.final_summary();
    if let (Some(theirs), Some(ours)) = (
        common::median_ns("render_1000_functions", "prometheus_gather_text_encoder"),
        common::median_ns("render_1000_functions", "instrument_metrics_render"),
    ) {
        println!(
            "\nmedians: prometheus gather()+TextEncoder {:.2} ms, instrument_metrics::render() {:.2} ms, ratio {:.2} (target <= 0.5)",
            theirs / 1e6,
            ours / 1e6,
            ours / theirs
        );
    }
    let get = |id| common::median_ns("render_1000_functions", id);
    if let (Some(text), Some(om), Some(proto), Some(native)) = (
        get("instrument_metrics_render"),
        get("instrument_metrics_render_openmetrics"),
        get("instrument_metrics_render_protobuf"),
        get("instrument_metrics_render_protobuf_native_and_classic"),
    ) {
        println!(
            "render_openmetrics() {:.2} ms ({:.2}x render(), target <= 1.2); render_protobuf() {:.2} ms ({:.2}x render(), target <= 1.5); with native histograms too {:.2} ms",
            om / 1e6,
            om / text,
            proto / 1e6,
            proto / text,
            native / 1e6
        );
    }
}
