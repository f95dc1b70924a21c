//! The series the exposition shows, built once from the call sites: label text escaped and
//! joined ahead of time, and sites with identical labels merged into one series. A site with
//! dynamic labels gives one row per combination of their values at each scrape ([`rows`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use crate::record::labelled::{DynMeta, Labelled};
use crate::record::labels::NONE;
use crate::record::site::{Reading, ReadingSlot, Site, SITES};

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
    /// `function="…",module="…",k="v"`, escaped for the text formats.
    pub label_text: String,
    /// `le` values for text 0.0.4: each bound, then `+Inf`.
    pub le_text: Vec<String>,
    /// `le` values for OpenMetrics, in canonical form (`1.0`, not `1`).
    pub le_openmetrics: Vec<String>,
}

impl Series {
    /// How the series' durations are exposed now (its sites agree: see `build`).
    pub(crate) fn histograms(&self) -> crate::Histograms {
        self.sites
            .first()
            .map_or_else(crate::histograms, |s| s.meta().histograms())
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
    CATALOG.get_or_init(|| build(SITES.iter().copied()))
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
    let mut label_text = String::new();
    label_text.push_str("function=\"");
    escape_label_value(&function, &mut label_text);
    label_text.push_str("\",module=\"");
    escape_label_value(meta.module, &mut label_text);
    label_text.push('"');
    for (key, value) in meta.labels {
        label_text.push(',');
        label_text.push_str(key);
        label_text.push_str("=\"");
        escape_label_value(value, &mut label_text);
        label_text.push('"');
    }
    let mut le_text: Vec<String> = meta.bounds_seconds.iter().map(|b| format!("{b}")).collect();
    le_text.push("+Inf".to_owned());
    let le_openmetrics = meta
        .bounds_seconds
        .iter()
        .map(|b| canonical_float(*b))
        .chain(["+Inf".to_owned()])
        .collect();
    Series {
        function,
        module: meta.module,
        labels: meta.labels,
        bounds_seconds: meta.bounds_seconds,
        in_flight: meta.in_flight,
        sites: vec![site],
        labelled: site.labelled().into_iter().collect(),
        label_text,
        le_text,
        le_openmetrics,
    }
}

/// One series of `function_calls_total` results and one histogram, as read at a scrape.
pub(crate) struct Row<'a> {
    pub series: &'a Series,
    /// The dynamic labels, in declaration order (empty for a plain site).
    pub dynamic: Vec<(&'static str, &'static str)>,
    /// `series.label_text` and the dynamic labels, escaped.
    pub label_text: std::borrow::Cow<'a, str>,
    pub reading: Reading,
    /// With `error_kind`: the kinds and their counts (the last one is `_NONE`).
    pub kinds: Option<(&'static [&'static str], Vec<u64>)>,
}

impl Row<'_> {
    /// `(error_kind, count)` for `result="error"`, `_NONE` last.
    pub(crate) fn error_kinds(&self) -> Option<impl Iterator<Item = (&'static str, u64)> + '_> {
        self.kinds.as_ref().map(|(names, counts)| {
            names
                .iter()
                .copied()
                .chain([NONE])
                .zip(counts.iter().copied())
        })
    }
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
                dynamic: Vec::new(),
                label_text: std::borrow::Cow::Borrowed(&s.label_text),
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
            let mut label_text = s.label_text.clone();
            for (key, value) in &values {
                label_text.push(',');
                label_text.push_str(key);
                label_text.push_str("=\"");
                escape_label_value(value, &mut label_text);
                label_text.push('"');
            }
            rows.push(Row {
                series: s,
                dynamic: values,
                label_text: std::borrow::Cow::Owned(label_text),
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

/// A float as OpenMetrics wants `le` and `quantile` values: `1.0`, `0.25`, `+Inf`.
pub(crate) fn canonical_float(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".to_owned()
        } else {
            "-Inf".to_owned()
        };
    }
    if v.is_nan() {
        return "NaN".to_owned();
    }
    let mut s = String::new();
    let _ = write!(s, "{v}");
    if !s.contains(['.', 'e', 'E']) {
        s.push_str(".0");
    }
    s
}

/// Escapes a label value for the text formats: backslash, double quote and newline.
pub(crate) fn escape_label_value(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape_label_value;

    #[test]
    fn escapes_what_the_text_format_requires() {
        let mut out = String::new();
        escape_label_value("a\\b\"c\nd", &mut out);
        assert_eq!(out, "a\\\\b\\\"c\\nd");
    }
}
