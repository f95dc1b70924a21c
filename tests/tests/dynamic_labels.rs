//! Dynamic labels (`labels(tier = expr)`, `bounded(expr, N)`, result closures) and
//! `error_kind`: values read back from the parsed exposition, per combination.

// Generated code stays clean under the strictest lints a user may set (checked by clippy).
#![deny(warnings, clippy::all, clippy::pedantic)]
#![allow(clippy::float_cmp)] // counts are whole numbers, compared exactly

use std::collections::BTreeMap;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};

use instrument_metrics::{instrument_metrics, LabelValue};
use instrument_metrics_tests::{parse, Sample};

const MODULE: &str = "dynamic_labels";

/// The samples named `name` of `function`, each as its labels other than `function` and
/// `module`, with its value.
fn series(text: &str, name: &str, function: &str) -> BTreeMap<Vec<(String, String)>, f64> {
    parse(text)
        .into_iter()
        .filter(|s| {
            s.name == name
                && s.labels.get("function").map(String::as_str) == Some(function)
                && s.labels.get("module").map(String::as_str) == Some(MODULE)
        })
        .map(|s| {
            let labels = s
                .labels
                .into_iter()
                .filter(|(k, _)| k != "function" && k != "module")
                .collect();
            (labels, s.value)
        })
        .collect()
}

fn calls_of(function: &str) -> BTreeMap<Vec<(String, String)>, f64> {
    series(
        &instrument_metrics::render(),
        "function_calls_total",
        function,
    )
}

fn key(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    v.sort();
    v
}

/// The label names of every `name` sample of `function`, in the order they were written.
fn label_orders(text: &str, name: &str, function: &str) -> Vec<Vec<String>> {
    let needle = format!("function=\"{function}\"");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (n, rest) = l.split_once('{')?;
            (n == name).then_some(rest)
        })
        .filter(|rest| rest.starts_with(&needle))
        .map(|rest| {
            let body = &rest[..rest.rfind('}').unwrap()];
            body.split("\",")
                .map(|pair| pair.split_once('=').unwrap().0.to_owned())
                .collect()
        })
        .collect()
}

#[derive(LabelValue, Clone, Copy, Debug)]
pub enum Tier {
    Free,
    Pro,
    #[label_value(rename = "enterprise")]
    Enterprise {
        seats: u32,
    },
}

pub struct Account {
    pub tier: Tier,
}

#[instrument_metrics(labels(team = "shop", tier = account.tier))]
fn checkout(account: &Account, fail: bool) -> Result<u32, String> {
    if fail {
        Err("declined".into())
    } else {
        Ok(1)
    }
}

#[test]
fn enum_labels_count_per_value_and_every_value_starts_at_zero() {
    let free = Account { tier: Tier::Free };
    let pro = Account { tier: Tier::Pro };
    let big = Account {
        tier: Tier::Enterprise { seats: 9 },
    };
    checkout(&free, false).unwrap();
    checkout(&free, false).unwrap();
    checkout(&pro, true).unwrap_err();
    checkout(&big, false).unwrap();
    let got = calls_of("checkout");
    let mut want = BTreeMap::new();
    for tier in ["Free", "Pro", "enterprise"] {
        for result in ["ok", "error", "panic", "cancelled"] {
            let n = match (tier, result) {
                ("Free", "ok") => 2.0,
                ("Pro", "error") | ("enterprise", "ok") => 1.0,
                _ => 0.0,
            };
            want.insert(
                key(&[("team", "shop"), ("tier", tier), ("result", result)]),
                n,
            );
        }
    }
    assert_eq!(got, want);

    // One histogram per combination; labels in order: function, module, constant, dynamic.
    let text = instrument_metrics::render();
    let counts = series(&text, "function_calls_duration_seconds_count", "checkout");
    assert_eq!(
        counts,
        BTreeMap::from([
            (key(&[("team", "shop"), ("tier", "Free")]), 2.0),
            (key(&[("team", "shop"), ("tier", "Pro")]), 1.0),
            (key(&[("team", "shop"), ("tier", "enterprise")]), 1.0),
        ])
    );
    let orders = label_orders(&text, "function_calls_total", "checkout");
    assert_eq!(orders.len(), 12);
    for order in orders {
        assert_eq!(order, ["function", "module", "team", "tier", "result"]);
    }
    for order in label_orders(&text, "function_calls_duration_seconds_bucket", "checkout") {
        assert_eq!(order, ["function", "module", "team", "tier", "le"]);
    }
}

#[derive(LabelValue, Debug)]
pub enum StoreError {
    NotFound,
    Conflict(String),
    #[label_value(rename = "io")]
    Io {
        code: i32,
    },
}

#[instrument_metrics(labels(cached = cached), error_kind)]
fn never_called(cached: bool) -> Result<(), StoreError> {
    if cached {
        Ok(())
    } else {
        Err(StoreError::Conflict(String::new()))
    }
}

#[test]
fn every_combination_and_kind_is_there_before_the_first_call() {
    let got = calls_of("never_called");
    let mut want = BTreeMap::new();
    for cached in ["false", "true"] {
        for result in ["ok", "panic", "cancelled"] {
            want.insert(key(&[("cached", cached), ("result", result)]), 0.0);
        }
        for kind in ["NotFound", "Conflict", "io", "_NONE"] {
            want.insert(
                key(&[
                    ("cached", cached),
                    ("result", "error"),
                    ("error_kind", kind),
                ]),
                0.0,
            );
        }
    }
    assert_eq!(got, want);
    let text = instrument_metrics::render();
    for order in label_orders(&text, "function_calls_total", "never_called") {
        let with_kind = ["function", "module", "cached", "result", "error_kind"];
        assert!(order == with_kind || order == with_kind[..4], "{order:?}");
    }
    // The argument's value, not evaluated until called.
    assert!(never_called(true).is_ok());
}

#[instrument_metrics(labels(tenant = bounded(tenant, 3)))]
fn by_tenant(tenant: &str) -> usize {
    tenant.len()
}

#[instrument_metrics(labels(tenant = bounded(name, 2)))]
fn by_owned_tenant(name: String) -> String {
    name
}

#[test]
fn bounded_strings_keep_n_values_and_count_the_rest_as_other() {
    assert_eq!(calls_of("by_tenant"), BTreeMap::new()); // nothing seen yet
    let overflow = |f: &str| {
        series(
            &instrument_metrics::render(),
            "instrument_metrics_label_overflow_total",
            f,
        )
    };
    assert_eq!(
        overflow("by_tenant"),
        BTreeMap::from([(key(&[("label", "tenant")]), 0.0)])
    );
    for t in ["t0", "t1", "t0", "t2", "t3", "t4", "t0", "t3", "_OTHER"] {
        by_tenant(t);
    }
    let got = calls_of("by_tenant");
    let mut want = BTreeMap::new();
    for (tenant, n) in [("t0", 3.0), ("t1", 1.0), ("t2", 1.0), ("_OTHER", 4.0)] {
        for result in ["ok", "error", "panic", "cancelled"] {
            let v = if result == "ok" { n } else { 0.0 };
            want.insert(key(&[("tenant", tenant), ("result", result)]), v);
        }
    }
    assert_eq!(got, want);
    // t3 twice and t4: three calls past the cap (the literal "_OTHER" is not an overflow).
    assert_eq!(
        overflow("by_tenant"),
        BTreeMap::from([(key(&[("label", "tenant")]), 3.0)])
    );

    for name in ["a", "b", "c", "a"] {
        by_owned_tenant(name.to_owned());
    }
    let ok: BTreeMap<_, _> = calls_of("by_owned_tenant")
        .into_iter()
        .filter(|(k, _)| k.contains(&("result".to_owned(), "ok".to_owned())))
        .collect();
    assert_eq!(
        ok,
        BTreeMap::from([
            (key(&[("tenant", "a"), ("result", "ok")]), 2.0),
            (key(&[("tenant", "b"), ("result", "ok")]), 1.0),
            (key(&[("tenant", "_OTHER"), ("result", "ok")]), 1.0),
        ])
    );
    assert_eq!(
        overflow("by_owned_tenant"),
        BTreeMap::from([(key(&[("label", "tenant")]), 1.0)])
    );
}

#[instrument_metrics(labels(hit = |r| r.is_some()))]
fn lookup(n: u32) -> Option<u32> {
    assert!(n != 13, "unlucky");
    n.is_multiple_of(2).then_some(n)
}

#[instrument_metrics(labels(size = bounded(|r| if *r > 10 { "big" } else { "small" }, 1)))]
fn measure(n: u32) -> u32 {
    n
}

#[test]
fn result_labels_see_the_value_and_a_panic_is_none() {
    lookup(2);
    lookup(4);
    lookup(5);
    let panicked = catch_unwind(|| lookup(13));
    assert!(panicked.is_err());
    let got = calls_of("lookup");
    let mut want = BTreeMap::new();
    for hit in ["false", "true", "_NONE"] {
        for result in ["ok", "error", "panic", "cancelled"] {
            let n = match (hit, result) {
                ("true", "ok") => 2.0,
                ("false", "ok") | ("_NONE", "panic") => 1.0,
                _ => 0.0,
            };
            want.insert(key(&[("hit", hit), ("result", result)]), n);
        }
    }
    assert_eq!(got, want);

    measure(1);
    measure(20);
    measure(2);
    let ok: BTreeMap<_, _> = calls_of("measure")
        .into_iter()
        .filter(|(k, _)| k.contains(&("result".to_owned(), "ok".to_owned())))
        .collect();
    assert_eq!(
        ok,
        BTreeMap::from([
            (key(&[("size", "small"), ("result", "ok")]), 2.0),
            (key(&[("size", "_OTHER"), ("result", "ok")]), 1.0),
        ])
    );
}

#[instrument_metrics(error_kind)]
fn store(op: u8) -> Result<u8, StoreError> {
    match op {
        0 => Err(StoreError::NotFound),
        1 => Err(StoreError::Conflict("v2".into())),
        2 => Err(StoreError::Io { code: 5 }),
        _ => Ok(op),
    }
}

#[instrument_metrics(error_kind)]
fn read_file(kind: Option<io::ErrorKind>) -> io::Result<u8> {
    match kind {
        Some(k) => Err(io::Error::from(k)),
        None => Ok(0),
    }
}

#[instrument_metrics(error_kind, error_if = |r: &Result<u8, StoreError>| matches!(r, Ok(0)))]
fn judged(op: u8) -> Result<u8, StoreError> {
    if op == 9 {
        Err(StoreError::NotFound)
    } else {
        Ok(op)
    }
}

#[test]
fn error_kinds_refine_errors_and_only_errors() {
    for op in [0, 0, 1, 2, 3, 4, 5] {
        let _ = store(op);
    }
    let got = calls_of("store");
    let want = BTreeMap::from([
        (key(&[("result", "ok")]), 3.0),
        (key(&[("result", "panic")]), 0.0),
        (key(&[("result", "cancelled")]), 0.0),
        (key(&[("result", "error"), ("error_kind", "NotFound")]), 2.0),
        (key(&[("result", "error"), ("error_kind", "Conflict")]), 1.0),
        (key(&[("result", "error"), ("error_kind", "io")]), 1.0),
        (key(&[("result", "error"), ("error_kind", "_NONE")]), 0.0),
    ]);
    assert_eq!(got, want);
    // Histograms are per combination of the dynamic labels, not per kind.
    let counts = series(
        &instrument_metrics::render(),
        "function_calls_duration_seconds_count",
        "store",
    );
    assert_eq!(counts, BTreeMap::from([(key(&[]), 7.0)]));

    for kind in [
        Some(io::ErrorKind::NotFound),
        Some(io::ErrorKind::NotFound),
        Some(io::ErrorKind::TimedOut),
        None,
    ] {
        let _ = read_file(kind);
    }
    let got = calls_of("read_file");
    assert_eq!(got.len(), 3 + io::ErrorKind::VALUES.len() + 1);
    for kind in io::ErrorKind::VALUES.iter().chain(&["_NONE"]) {
        let n = match *kind {
            "NotFound" => 2.0,
            "TimedOut" => 1.0,
            _ => 0.0,
        };
        assert_eq!(
            got[&key(&[("result", "error"), ("error_kind", kind)])],
            n,
            "{kind}"
        );
    }
    assert_eq!(got[&key(&[("result", "ok")])], 1.0);

    // An error that is not an `Err` has the kind `_NONE`; an `Err` judged ok is ok.
    let _ = judged(0);
    let _ = judged(0);
    let _ = judged(9);
    let _ = judged(1);
    let got = calls_of("judged");
    assert_eq!(got[&key(&[("result", "ok")])], 2.0);
    assert_eq!(
        got[&key(&[("result", "error"), ("error_kind", "_NONE")])],
        2.0
    );
    assert_eq!(
        got[&key(&[("result", "error"), ("error_kind", "NotFound")])],
        0.0
    );
}

pub struct Repo {
    tier: Tier,
}

#[instrument_metrics(error_kind)]
impl Repo {
    fn get(&self, id: u8) -> Result<u8, StoreError> {
        if id == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(id)
        }
    }

    fn count(&self) -> usize {
        3
    }

    fn parse(&self, s: &str) -> Result<u8, std::num::ParseIntError> {
        s.parse()
    }

    #[instrument_metrics(labels(tier: Tier = self.tier))]
    fn by_tier(&self) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::PermissionDenied))
    }
}

#[test]
fn error_kind_on_an_impl_block_applies_to_results_with_kinds() {
    let repo = Repo { tier: Tier::Pro };
    let _ = repo.get(0);
    let _ = repo.get(1);
    assert_eq!(repo.count(), 3);
    let _ = repo.parse("x");
    let _ = repo.by_tier();
    let got = calls_of("Repo::get");
    assert_eq!(got[&key(&[("result", "ok")])], 1.0);
    assert_eq!(
        got[&key(&[("result", "error"), ("error_kind", "NotFound")])],
        1.0
    );
    assert_eq!(got.len(), 3 + 4);
    // Not a `Result` with kinds: results as always, no `error_kind`.
    let plain = |ok: f64, error: f64| {
        BTreeMap::from([
            (key(&[("result", "ok")]), ok),
            (key(&[("result", "error")]), error),
            (key(&[("result", "panic")]), 0.0),
            (key(&[("result", "cancelled")]), 0.0),
        ])
    };
    assert_eq!(calls_of("Repo::count"), plain(1.0, 0.0));
    assert_eq!(calls_of("Repo::parse"), plain(0.0, 1.0));
    let got = calls_of("Repo::by_tier");
    assert_eq!(
        got[&key(&[
            ("tier", "Pro"),
            ("result", "error"),
            ("error_kind", "PermissionDenied")
        ])],
        1.0
    );
    assert_eq!(
        got[&key(&[
            ("tier", "Free"),
            ("result", "error"),
            ("error_kind", "PermissionDenied")
        ])],
        0.0
    );
}

#[instrument_metrics(labels(tier = tier), error_kind)]
async fn async_charge(tier: Tier, fail: bool) -> Result<u8, StoreError> {
    if fail {
        Err(StoreError::Conflict(format!("{tier:?}")))
    } else {
        Ok(1)
    }
}

#[allow(clippy::manual_async_fn)]
#[instrument_metrics(labels(tier = tier, hit = |r| r.is_ok()))]
fn tail_future(tier: Tier) -> impl std::future::Future<Output = Result<u8, String>> {
    async move {
        match tier {
            Tier::Free => Err("free".to_owned()),
            _ => Ok(2),
        }
    }
}

struct Pending;

impl std::future::Future for Pending {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        std::task::Poll::Pending
    }
}

#[instrument_metrics(labels(tier = tier, hit = |r| *r))]
async fn hangs(tier: Tier) -> bool {
    Pending.await;
    matches!(tier, Tier::Free)
}

#[test]
fn async_and_future_returning_fns_and_cancellation() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        async_charge(Tier::Pro, false).await.unwrap();
        async_charge(Tier::Pro, true).await.unwrap_err();
        async_charge(Tier::Free, true).await.unwrap_err();
        tail_future(Tier::Free).await.unwrap_err();
        tail_future(Tier::Pro).await.unwrap();
        tail_future(Tier::Pro).await.unwrap();
        let cancelled = tokio::time::timeout(std::time::Duration::from_millis(1), hangs(Tier::Pro));
        assert!(cancelled.await.is_err());
    });
    let got = calls_of("async_charge");
    assert_eq!(got[&key(&[("tier", "Pro"), ("result", "ok")])], 1.0);
    assert_eq!(
        got[&key(&[
            ("tier", "Pro"),
            ("result", "error"),
            ("error_kind", "Conflict")
        ])],
        1.0
    );
    assert_eq!(
        got[&key(&[
            ("tier", "Free"),
            ("result", "error"),
            ("error_kind", "Conflict")
        ])],
        1.0
    );
    assert_eq!(got.values().sum::<f64>(), 3.0);
    let got = calls_of("tail_future");
    assert_eq!(
        got[&key(&[("tier", "Free"), ("hit", "false"), ("result", "error")])],
        1.0
    );
    assert_eq!(
        got[&key(&[("tier", "Pro"), ("hit", "true"), ("result", "ok")])],
        2.0
    );
    assert_eq!(got.values().sum::<f64>(), 3.0);
    let got = calls_of("hangs");
    assert_eq!(
        got[&key(&[("tier", "Pro"), ("hit", "_NONE"), ("result", "cancelled")])],
        1.0
    );
    assert_eq!(got.values().sum::<f64>(), 1.0);
}

#[instrument_metrics(labels(tier = tier, big = *n > 500), in_flight)]
fn busy(tier: Tier, n: u32) -> u32 {
    n
}

#[test]
fn concurrent_calls_add_up_exactly() {
    const PER_THREAD: u32 = 1000;
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let tier = if (i + t) % 2 == 0 {
                        Tier::Free
                    } else {
                        Tier::Pro
                    };
                    busy(tier, i);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let got = calls_of("busy");
    // Per thread: 500 Free, 500 Pro; 499 with n > 500 (501..=999).
    let ok = |tier: &str, big: &str| got[&key(&[("tier", tier), ("big", big), ("result", "ok")])];
    assert_eq!(ok("Free", "true") + ok("Pro", "true"), 4.0 * 499.0);
    assert_eq!(ok("Free", "false") + ok("Pro", "false"), 4.0 * 501.0);
    assert_eq!(ok("Free", "true") + ok("Free", "false"), 2000.0);
    assert_eq!(got.values().sum::<f64>(), 4000.0);
    let text = instrument_metrics::render();
    assert_eq!(
        series(&text, "function_calls_in_flight", "busy"),
        BTreeMap::from([(key(&[]), 0.0)])
    );
}

// Two sites with the same labels and values merge; a bounded one with the same name cannot.
#[instrument_metrics(name = "merged", labels(tier = tier))]
fn merged_a(tier: Tier) {}

#[instrument_metrics(name = "merged", labels(tier = tier))]
fn merged_b(tier: Tier) {}

const MERGED_C_LINE: u32 = line!() + 2;
#[instrument_metrics(name = "merged", labels(tier = bounded(tier, 2)))]
fn merged_c(tier: &str) {}

#[test]
fn coinciding_labels_merge_only_when_their_values_match() {
    merged_a(Tier::Free);
    merged_b(Tier::Free);
    merged_b(Tier::Pro);
    merged_c("x");
    let got = calls_of("merged");
    assert_eq!(got[&key(&[("tier", "Free"), ("result", "ok")])], 2.0);
    assert_eq!(got[&key(&[("tier", "Pro"), ("result", "ok")])], 1.0);
    assert_eq!(got.len(), 12);
    let text = instrument_metrics::render();
    let renamed: Vec<Sample> = parse(&text)
        .into_iter()
        .filter(|s| {
            s.name == "function_calls_total"
                && s.labels["function"].starts_with("merged@")
                && s.labels.get("result").map(String::as_str) == Some("ok")
        })
        .collect();
    assert_eq!(renamed.len(), 1, "{renamed:?}");
    assert_eq!(
        renamed[0].labels["function"],
        format!("merged@{}:{MERGED_C_LINE}", file!())
    );
    assert_eq!(renamed[0].labels["tier"], "x");
    assert_eq!(renamed[0].value, 1.0);
}

#[instrument_metrics(labels(tier = tier, tenant = bounded(tenant, 5)), error_kind)]
fn gathered(tier: Tier, tenant: &str) -> Result<(), StoreError> {
    if tenant.is_empty() {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

fn samples_of(text: &str, function: &str) -> Vec<(String, BTreeMap<String, String>, f64)> {
    let mut v: Vec<_> = parse(text)
        .into_iter()
        .filter(|s| s.labels.get("function").map(String::as_str) == Some(function))
        .map(|s| (s.name, s.labels, s.value))
        .collect();
    v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    v
}

#[test]
fn the_collector_gives_what_render_gives() {
    use instrument_metrics::prometheus::{self, Encoder as _};
    for t in ["a", "b", "", "c", "d", "e", "f", "g"] {
        let _ = gathered(Tier::Pro, t);
    }
    let rendered = instrument_metrics::render();
    let mut buf = Vec::new();
    prometheus::TextEncoder::new()
        .encode(&prometheus::default_registry().gather(), &mut buf)
        .unwrap();
    let gathered_text = String::from_utf8(buf).unwrap();
    let ours = samples_of(&rendered, "gathered");
    assert_eq!(ours, samples_of(&gathered_text, "gathered"));
    // Seen tenants × tiers × (3 results + 4 kinds), `_OTHER` only where counted; 1 histogram
    // (17 samples) per row; one overflow counter.
    let rows = 5 * 3 + 1; // a, b, "", c, d; `_OTHER` only with Pro
    assert_eq!(ours.len(), rows * 7 + rows * 17 + 1);
    let overflow: Vec<_> = ours
        .iter()
        .filter(|s| s.0 == "instrument_metrics_label_overflow_total")
        .map(|s| (s.1["label"].as_str(), s.2))
        .collect();
    assert_eq!(overflow, [("tenant", 3.0)]); // e, f, g
}

#[instrument_metrics(labels(tier = tier, tenant = bounded(tenant, 1)), error_kind)]
fn linted(tier: Tier, tenant: &str) -> io::Result<()> {
    if tenant.is_empty() {
        Err(io::ErrorKind::NotFound.into())
    } else {
        Ok(())
    }
}

#[test]
fn promtool_finds_nothing_to_say() {
    for t in ["a\"quoted\\", "b\nnewline", ""] {
        let _ = linted(Tier::Enterprise { seats: 1 }, t);
    }
    let text = instrument_metrics::render();
    instrument_metrics_tests::assert_promtool_finds_nothing(&text);
}

#[test]
fn panics_inside_catch_unwind_keep_labels() {
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _ = checkout_panics(&Account { tier: Tier::Pro });
    }));
    assert!(r.is_err());
    let got = calls_of("checkout_panics");
    assert_eq!(got[&key(&[("tier", "Pro"), ("result", "panic")])], 1.0);
    assert_eq!(got.values().sum::<f64>(), 1.0);
}

#[instrument_metrics(labels(tier = account.tier))]
fn checkout_panics(account: &Account) -> u32 {
    panic!("{:?}", account.tier)
}

#[instrument_metrics(labels(tier = tier, tenant = bounded(tenant, 1)), error_kind)]
fn both_formats(tier: Tier, tenant: &str) -> Result<(), StoreError> {
    if tenant.is_empty() {
        Err(StoreError::Conflict(String::new()))
    } else {
        Ok(())
    }
}

#[test]
fn openmetrics_shows_the_same_series() {
    for t in ["a", "", "b"] {
        let _ = both_formats(Tier::Free, t);
    }
    let text = instrument_metrics::render();
    let om = instrument_metrics::exposition::render_openmetrics();
    assert!(om.ends_with("# EOF\n"));
    // Counters and the overflow self-metric are the same samples; `le` is canonical in
    // OpenMetrics (`1.0`), so histograms are compared by their counts.
    let counters = |t: &str| -> Vec<(String, BTreeMap<String, String>, f64)> {
        samples_of(t, "both_formats")
            .into_iter()
            .filter(|s| !s.0.starts_with("function_calls_duration_seconds_bucket"))
            .collect()
    };
    let in_text = counters(&text);
    assert_eq!(in_text, counters(&om));
    // N = 1: 3 tiers × "a", and `_OTHER` ("" and "b") with Free; each row has 7 call series
    // (3 results, 3 kinds and `_NONE`), `_sum` and `_count`; one overflow counter, at 2.
    assert_eq!(in_text.len(), 4 * (7 + 2) + 1);
    let overflow: Vec<f64> = in_text
        .iter()
        .filter(|s| s.0 == "instrument_metrics_label_overflow_total")
        .map(|s| s.2)
        .collect();
    assert_eq!(overflow, [2.0]);
    assert!(om.contains("# TYPE instrument_metrics_label_overflow counter\n"));
}

#[instrument_metrics(labels(echo = bounded(|r| r.as_str().to_owned(), 4)))]
fn echo(s: &str) -> String {
    assert!(s != "boom", "echo panics on purpose");
    s.to_owned()
}

/// A returned `"_NONE"` is the reserved value, counted as the overflow: were it a row of its
/// own, a panicking call's `_NONE` row would be a second series with the same labels.
#[test]
fn a_literal_none_is_not_a_second_none_row() {
    echo("_NONE");
    echo("x");
    assert!(catch_unwind(|| echo("boom")).is_err());
    let got: BTreeMap<_, _> = calls_of("echo")
        .into_iter()
        .filter(|(_, v)| *v > 0.0)
        .collect();
    assert_eq!(
        got,
        BTreeMap::from([
            (key(&[("echo", "_NONE"), ("result", "panic")]), 1.0),
            (key(&[("echo", "_OTHER"), ("result", "ok")]), 1.0),
            (key(&[("echo", "x"), ("result", "ok")]), 1.0),
        ])
    );
    // Every labelled series of the exposition is there once.
    let text = instrument_metrics::render();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("function_calls_total{function=\"echo\""))
        .collect();
    let mut unique: Vec<&str> = lines
        .iter()
        .map(|l| l.rsplit_once(' ').map_or(*l, |(k, _)| k))
        .collect();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), lines.len(), "{lines:#?}");
}
