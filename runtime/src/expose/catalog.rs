//! The series the exposition shows, built once from the call sites: label text escaped and
//! joined ahead of time, and sites with identical labels merged into one series.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use crate::record::site::{Reading, ReadingSlot, Site, SITES};

/// One labelled series of the function families, fed by one or more call sites.
pub(crate) struct Series {
    pub function: String,
    pub module: &'static str,
    pub labels: &'static [(&'static str, &'static str)],
    pub bounds_seconds: &'static [f64],
    pub in_flight: bool,
    pub sites: Vec<&'static dyn Site>,
    /// `function="…",module="…",k="v"`, escaped for the text formats.
    pub label_text: String,
    /// `le` values for text 0.0.4: each bound, then `+Inf`.
    pub le_text: Vec<String>,
    /// `le` values for OpenMetrics, in canonical form (`1.0`, not `1`).
    pub le_openmetrics: Vec<String>,
}

impl Series {
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
                        && series[i].in_flight == meta.in_flight =>
                {
                    series[i].sites.push(site);
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
        label_text,
        le_text,
        le_openmetrics,
    }
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
