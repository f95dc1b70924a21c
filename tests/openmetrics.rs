//! Reading OpenMetrics back: sample lines with their exemplars, field by field.

use std::collections::BTreeMap;

/// One OpenMetrics sample line, with its exemplar if it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct OmSample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
    /// The exemplar's labels, value and timestamp.
    pub exemplar: Option<(BTreeMap<String, String>, f64, f64)>,
}

/// Every sample line of an OpenMetrics exposition (which must end in `# EOF`). Panics on a
/// malformed line, so a broken exposition fails the test that reads it.
#[must_use]
pub fn parse_openmetrics(om: &str) -> Vec<OmSample> {
    assert!(om.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    om.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|line| {
            let (sample, exemplar) = match line.split_once(" # ") {
                Some((s, e)) => (s, Some(e)),
                None => (line, None),
            };
            let parsed = crate::parse(sample);
            let [one] = parsed.as_slice() else {
                panic!("one sample per line: {line:?}");
            };
            let exemplar = exemplar.map(|e| {
                let close = e.find('}').expect("exemplar labels close");
                let labels = crate::parse(&format!("x{} 0", &e[..=close]))
                    .pop()
                    .expect("exemplar labels")
                    .labels;
                let mut rest = e[close + 1..].split_whitespace();
                let value = rest.next().expect("exemplar value").parse().expect("f64");
                let at = rest
                    .next()
                    .expect("exemplar timestamp")
                    .parse()
                    .expect("f64");
                (labels, value, at)
            });
            OmSample {
                name: one.name.clone(),
                labels: one.labels.clone(),
                value: one.value,
                exemplar,
            }
        })
        .collect()
}
