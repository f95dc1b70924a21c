//! The function families' series, built once from the call sites: labels escaped and joined
//! ahead of time, and sites with identical labels merged into one series. A site with dynamic
//! labels gives one row per combination of their values at each scrape ([`rows`]); the rows
//! become the families' samples in [`families`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::expose::families::{BUSY, CALLS, DURATION, IN_FLIGHT, OVERFLOW, SLOW_POLLS};
use crate::expose::snapshot::{
    Bounds, Created, Extra, Family, Histogram, Labels, Number, Sample, Value,
};
use crate::record::dynamic::{DynMeta, Labelled};
use crate::record::labels::NONE;
use crate::record::native::Histograms;
use crate::record::outcome::Outcome;
use crate::record::polls::{PollReading, PollReadingSlot, Polls, POLL_SITES};
use crate::record::reading::{Reading, ReadingSlot};
use crate::record::site::{Site, SITES};

/// One labelled series of the function families, fed by one or more call sites.
pub(crate) struct Series {
    pub function: String,
    pub module: &'static str,
    pub labels: &'static [(&'static str, &'static str)],
    pub bounds_seconds: &'static [f64],
    pub in_flight: bool,
    pub sites: Vec<&'static dyn Site>,
    /// The labelled sites (all of `sites`), for a series with dynamic labels or error kinds.
    pub labelled: Vec<&'static dyn Labelled>,
    /// The poll sites of those of `sites` that have `polls`.
    pub polls: Vec<&'static dyn Polls>,
    /// `function`, `module` and the constant labels.
    pub label_set: Labels,
    /// The bounds and their `le` values.
    pub bounds: Arc<Bounds>,
}

impl Series {
    /// How the series' durations are exposed now (its sites agree: see `build`).
    pub(crate) fn histograms(&self) -> Histograms {
        self.sites
            .first()
            .map_or_else(crate::record::native::default_histograms, |s| {
                s.meta().histograms()
            })
    }

    pub(crate) fn read(&self, into: &mut Reading) {
        into.clear();
        let mut slot = ReadingSlot(into);
        for site in &self.sites {
            site.add_to(&mut slot);
        }
    }
}

/// What makes two series the same: function, module and extra labels (sorted).
type Identity = (String, &'static str, Vec<(&'static str, &'static str)>);

static CATALOG: OnceLock<Vec<Series>> = OnceLock::new();

/// Every series, in a stable order (module, then function).
pub(crate) fn catalog() -> &'static [Series] {
    CATALOG.get_or_init(|| {
        let mut series = build(SITES.iter().copied());
        attach_polls(&mut series, POLL_SITES.iter().copied());
        series
    })
}

/// Each poll site joins the series its call site counts in (so merged sites share one
/// busy-time series too).
fn attach_polls(series: &mut [Series], polls: impl Iterator<Item = &'static dyn Polls>) {
    for p in polls {
        let site: *const dyn Site = p.site();
        let found = series.iter_mut().find(|s| {
            s.sites
                .iter()
                .any(|other| std::ptr::addr_eq(site, *other as *const dyn Site))
        });
        if let Some(s) = found {
            s.polls.push(p);
        }
    }
}

fn build(sites: impl Iterator<Item = &'static dyn Site>) -> Vec<Series> {
    let mut series: Vec<Series> = Vec::new();
    let mut by_identity: HashMap<Identity, usize> = HashMap::new();
    let mut sites: Vec<&'static dyn Site> = sites.collect();
    // Same order whatever the linker did, so merges and renames are reproducible.
    sites.sort_by_key(|s| (s.meta().module, s.meta().name, s.meta().file, s.meta().line));
    for site in sites {
        let meta = site.meta();
        let mut labels = meta.labels.to_vec();
        labels.sort_unstable();
        let mut function = meta.name.to_owned();
        let mut attempt = 0;
        loop {
            let key = (function.clone(), meta.module, labels.clone());
            match by_identity.get(&key) {
                // Same labels, same buckets and in-flight tracking (two `new` methods annotated
                // one by one in the same module): one series counts both.
                Some(&i)
                    if series[i].bounds_seconds == meta.bounds_seconds
                        && series[i].in_flight == meta.in_flight
                        && series[i].sites.first().map(|s| s.meta().histograms)
                            == Some(meta.histograms)
                        && same_dynamic(&series[i], site) =>
                {
                    series[i].sites.push(site);
                    series[i].labelled.extend(site.labelled());
                    break;
                }
                // Same labels, incompatible histograms: tell them apart by source location
                // (and, for sites a macro stamped out on one line, by a counter).
                Some(_) => {
                    attempt += 1;
                    function = if attempt == 1 {
                        format!("{}@{}:{}", meta.name, meta.file, meta.line)
                    } else {
                        format!("{}@{}:{}#{attempt}", meta.name, meta.file, meta.line)
                    };
                }
                None => {
                    by_identity.insert(key, series.len());
                    series.push(new_series(function, site));
                    break;
                }
            }
        }
    }
    series.sort_by(|a, b| (a.module, &a.function).cmp(&(b.module, &b.function)));
    series
}

/// Both plain, or both labelled with the same keys, values and kinds (bounded labels never
/// match: each site has its own strings).
fn same_dynamic(series: &Series, site: &'static dyn Site) -> bool {
    match (series.labelled.first(), site.labelled()) {
        (None, None) => true,
        (Some(a), Some(b)) => a.dynamic().same_as(b.dynamic()),
        _ => false,
    }
}

fn new_series(function: String, site: &'static dyn Site) -> Series {
    let meta = site.meta();
    let mut label_set = Labels::new([("function", function.as_str()), ("module", meta.module)]);
    for (key, value) in meta.labels {
        label_set.push(key, value);
    }
    Series {
        function,
        module: meta.module,
        labels: meta.labels,
        bounds_seconds: meta.bounds_seconds,
        in_flight: meta.in_flight,
        sites: vec![site],
        labelled: site.labelled().into_iter().collect(),
        polls: Vec::new(),
        label_set,
        bounds: Arc::new(Bounds::new(meta.bounds_seconds.to_vec())),
    }
}

/// One series of `function_calls_total` results and one histogram, as read at a scrape.
pub(crate) struct Row<'a> {
    pub series: &'a Series,
    /// `series.label_set` and the dynamic labels.
    pub label_set: Cow<'a, Labels>,
    pub reading: Reading,
    /// With `error_kind`: the kinds and their counts (the last one is `_NONE`).
    pub kinds: Option<(&'static [&'static str], Vec<u64>)>,
}

/// Every row, in catalog order: a plain series is one row; a labelled one, one row per
/// combination of its dynamic labels' values (all of them for enums, from the start; for a
/// `bounded` label, the values seen so far, and `_OTHER` / `_NONE` once counted).
pub(crate) fn rows(series: &[Series]) -> Vec<Row<'_>> {
    let mut rows = Vec::with_capacity(series.len());
    for s in series {
        let Some(first) = s.labelled.first() else {
            let mut reading = Reading::for_buckets(s.bounds_seconds.len());
            s.read(&mut reading);
            rows.push(Row {
                series: s,
                label_set: Cow::Borrowed(&s.label_set),
                reading,
                kinds: None,
            });
            continue;
        };
        let dynamic: &DynMeta = first.dynamic();
        let kind_count = dynamic.kinds.map_or(0, |k| k.len() + 1);
        let mut indices = vec![0; dynamic.labels.len()];
        'combos: for combo in 0..first.combinations() {
            let mut rest = combo;
            for (label, index) in dynamic.labels.iter().zip(indices.iter_mut()).rev() {
                let card = label.values.card();
                *index = rest % card;
                rest /= card;
            }
            let mut values = Vec::with_capacity(indices.len());
            let mut only_if_counted = false;
            for (label, &index) in dynamic.labels.iter().zip(&indices) {
                let Some((value, special)) = label.values.name(index) else {
                    continue 'combos; // a bounded value not seen yet
                };
                only_if_counted |= special;
                values.push((label.key, value));
            }
            let mut reading = Reading::for_buckets(s.bounds_seconds.len());
            let mut kinds = vec![0; kind_count];
            let mut counted = false;
            for site in &s.labelled {
                counted |= site.add_combo(combo, &mut ReadingSlot(&mut reading), &mut kinds);
            }
            if only_if_counted && !counted {
                continue;
            }
            let mut label_set = s.label_set.clone();
            for (key, value) in &values {
                label_set.push(key, value);
            }
            rows.push(Row {
                series: s,
                label_set: Cow::Owned(label_set),
                reading,
                kinds: dynamic.kinds.map(|k| (k, kinds)),
            });
        }
    }
    rows
}

/// Calls in flight for a series with `in_flight`: the plain sites' from their rows' readings
/// (`plain`), a labelled site's from its own gauge.
pub(crate) fn in_flight(series: &Series, plain: Option<&Reading>) -> i64 {
    if series.labelled.is_empty() {
        plain.map_or(0, |r| r.in_flight)
    } else {
        series
            .labelled
            .iter()
            .fold(0, |a, l| a.wrapping_add(l.in_flight()))
    }
}

/// `instrument_metrics_label_overflow_total`: per `bounded` label of each series, the calls
/// counted under `_OTHER` because N values were taken. `(series, label key, count)`.
pub(crate) fn overflows(series: &[Series]) -> Vec<(&Series, &'static str, u64)> {
    let mut out = Vec::new();
    for s in series {
        let Some(first) = s.labelled.first() else {
            continue;
        };
        for (i, label) in first.dynamic().labels.iter().enumerate() {
            if label.values.bounded().is_none() {
                continue;
            }
            let n = s.labelled.iter().fold(0u64, |a, l| {
                a.wrapping_add(
                    l.dynamic().labels[i]
                        .values
                        .bounded()
                        .map_or(0, |b| b.overflowed()),
                )
            });
            out.push((s, label.key, n));
        }
    }
    out
}

/// Each series with `in_flight`, with its gauge (rows are in series order, one per plain
/// series).
pub(crate) fn in_flight_values<'a>(
    series: &'a [Series],
    rows: &[Row<'_>],
) -> Vec<(&'a Series, i64)> {
    let mut plain = rows.iter().filter(|r| r.series.labelled.is_empty());
    let mut out = Vec::new();
    for s in series {
        let reading = if s.labelled.is_empty() {
            plain.next().map(|r| &r.reading)
        } else {
            None
        };
        if s.in_flight {
            out.push((s, in_flight(s, reading)));
        }
    }
    out
}

/// The function families from one reading of the rows: `function_calls_total` (a sample per
/// result, or per error kind), `function_calls_duration_seconds`, and when any series has
/// them `function_calls_in_flight` and `instrument_metrics_label_overflow_total`. Counters and
/// histogram come from the same cells read once, so the results of a row add up to its
/// histogram's count in every format.
pub(crate) fn families(created: Option<Created>, out: &mut Vec<Family>) {
    let series = catalog();
    if series.is_empty() {
        return;
    }
    let rows = rows(series);
    let mut calls = Vec::with_capacity(rows.len() * Outcome::ALL.len());
    let mut durations = Vec::with_capacity(rows.len());
    let in_flight: Vec<Sample> = in_flight_values(series, &rows)
        .into_iter()
        .map(|(s, n)| Sample {
            labels: Cow::Borrowed(&s.label_set),
            extra: Extra::NONE,
            value: Value::Gauge(Number::Int(u64::try_from(n).unwrap_or(0))),
        })
        .collect();
    for row in rows {
        let labels: Cow<'static, Labels> = row.label_set;
        let r = row.reading;
        let buckets = r.buckets.len();
        let result_exemplar = |outcome: Outcome| {
            r.exemplars
                .get(buckets + outcome.index())
                .copied()
                .flatten()
        };
        for outcome in Outcome::ALL {
            if outcome == Outcome::Error {
                if let Some((names, counts)) = &row.kinds {
                    for (kind, n) in names.iter().copied().chain([NONE]).zip(counts) {
                        calls.push(Sample {
                            labels: labels.clone(),
                            extra: Extra::two(("result", "error"), ("error_kind", kind)),
                            value: Value::Counter {
                                value: Number::Int(*n),
                                exemplar: None,
                                created,
                            },
                        });
                    }
                    continue;
                }
            }
            calls.push(Sample {
                labels: labels.clone(),
                extra: Extra::one("result", outcome.as_str()),
                value: Value::Counter {
                    value: Number::Int(r.results[outcome.index()]),
                    exemplar: result_exemplar(outcome),
                    created,
                },
            });
        }
        let kind = row.series.histograms();
        let mut exemplars = r.exemplars;
        exemplars.truncate(buckets);
        let mut h = Histogram::new(
            Arc::clone(&row.series.bounds),
            r.buckets,
            crate::expose::families::nanos_to_seconds(r.sum_nanos),
            kind.classic(),
            r.native.filter(|_| kind.native()),
            exemplars,
        );
        h.created = created;
        durations.push(Sample {
            labels,
            extra: Extra::NONE,
            value: Value::Histogram(h),
        });
    }
    out.push(Family::ours(CALLS, calls));
    out.push(Family::ours(DURATION, durations));
    if !in_flight.is_empty() {
        out.push(Family::ours(IN_FLIGHT, in_flight));
    }
    polls(series, created, out);
    let overflows: Vec<Sample> = overflows(series)
        .into_iter()
        .map(|(s, label, n)| Sample {
            labels: Cow::Borrowed(&s.label_set),
            extra: Extra::one("label", label),
            value: Value::Counter {
                value: Number::Int(n),
                exemplar: None,
                created,
            },
        })
        .collect();
    if !overflows.is_empty() {
        out.push(Family::ours(OVERFLOW, overflows));
    }
}

/// `function_calls_busy_seconds` and `function_slow_polls_total`, one series each per series
/// with `polls` (its `function`, `module` and constant labels: dynamic labels are not split,
/// a call's busy time is known only at its end, where a cancelled call has no result to
/// label). Classic buckets only, the site's bounds, no exemplars.
fn polls(series: &'static [Series], created: Option<Created>, out: &mut Vec<Family>) {
    let mut busy = Vec::new();
    let mut slow = Vec::new();
    for s in series.iter().filter(|s| !s.polls.is_empty()) {
        let mut reading = PollReading {
            buckets: vec![0; s.bounds_seconds.len() + 1],
            ..PollReading::default()
        };
        for p in &s.polls {
            p.add_to(&mut PollReadingSlot(&mut reading));
        }
        let mut h = Histogram::new(
            Arc::clone(&s.bounds),
            reading.buckets,
            crate::expose::families::nanos_to_seconds(reading.busy_nanos),
            true,
            None,
            Vec::new(),
        );
        h.created = created;
        busy.push(Sample {
            labels: Cow::Borrowed(&s.label_set),
            extra: Extra::NONE,
            value: Value::Histogram(h),
        });
        slow.push(Sample {
            labels: Cow::Borrowed(&s.label_set),
            extra: Extra::NONE,
            value: Value::Counter {
                value: Number::Int(reading.slow_polls),
                exemplar: None,
                created,
            },
        });
    }
    if !busy.is_empty() {
        out.push(Family::ours(BUSY, busy));
        out.push(Family::ours(SLOW_POLLS, slow));
    }
}
