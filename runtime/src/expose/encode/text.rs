//! The two text dialects, text format 0.0.4 and OpenMetrics 1.0, written from one reading.
//! They differ in a few places only: OpenMetrics names a counter family without `_total`,
//! writes `# UNIT`, canonical `le` values (`1.0`), `unknown` for untyped, exemplars after
//! samples, and ends with `# EOF` (added by the caller, after every family).

use std::fmt::Write as _;

use crate::expose::families::Decorations;
use crate::expose::snapshot::{
    canonical_float, escape_label_value, format_float, Family, Kind, Number, Sample, Value,
};
use crate::record::exemplar::Exemplar;

/// Which text dialect to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Prometheus,
    OpenMetrics,
}

/// Appends `families`, decorated ones with the registry's prefix and constant labels.
pub(crate) fn encode(families: &[Family], decor: &Decorations, dialect: Dialect, out: &mut String) {
    for family in families {
        family_text(family, decor, dialect, out);
    }
}

fn family_text(f: &Family, decor: &Decorations, dialect: Dialect, out: &mut String) {
    let om = dialect == Dialect::OpenMetrics;
    let (prefix, constant) = if f.decorated {
        (decor.prefix.as_str(), decor.labels.as_str())
    } else {
        ("", "")
    };
    let name = f.name.as_ref();
    let family_name = if om && f.kind == Kind::Counter {
        name.strip_suffix("_total").unwrap_or(name)
    } else {
        name
    };
    if !f.help.is_empty() || om {
        out.push_str("# HELP ");
        out.push_str(prefix);
        out.push_str(family_name);
        out.push(' ');
        escape_help(&f.help, om, out);
        out.push('\n');
    }
    out.push_str("# TYPE ");
    out.push_str(prefix);
    out.push_str(family_name);
    out.push_str(match (f.kind, om) {
        (Kind::Counter, _) => " counter\n",
        (Kind::Gauge, _) => " gauge\n",
        (Kind::Histogram, _) => " histogram\n",
        (Kind::Summary, _) => " summary\n",
        (Kind::Untyped, false) => " untyped\n",
        (Kind::Untyped, true) => " unknown\n",
    });
    if om {
        if let Some(unit) = f.unit {
            out.push_str("# UNIT ");
            out.push_str(prefix);
            out.push_str(family_name);
            out.push(' ');
            out.push_str(unit);
            out.push('\n');
        }
    }
    // A counter's samples keep `_total` in both dialects.
    let sample_name = if om && f.kind == Kind::Counter {
        format!("{family_name}_total")
    } else {
        name.to_owned()
    };
    for s in &f.samples {
        let line = Line {
            prefix,
            name: &sample_name,
            sample: s,
            constant,
        };
        match &s.value {
            Value::Counter {
                value, exemplar, ..
            } => {
                line.start(out, "", None);
                push_number(out, *value);
                if om {
                    push_exemplar(out, exemplar.as_ref());
                }
                out.push('\n');
            }
            Value::Gauge(value) => {
                line.start(out, "", None);
                push_number(out, *value);
                out.push('\n');
            }
            Value::Histogram(h) => {
                let les = if om {
                    &h.bounds.openmetrics
                } else {
                    &h.bounds.text
                };
                let mut count = 0;
                for (i, cumulative, exemplar) in h.cumulative() {
                    let le = les.get(i).map_or("+Inf", String::as_str);
                    line.start(out, "_bucket", Some(("le", le)));
                    push_u64(out, cumulative);
                    if om && h.classic {
                        push_exemplar(out, exemplar.as_ref());
                    }
                    out.push('\n');
                    count = cumulative;
                }
                line.start(out, "_sum", None);
                push_number(out, Number::Float(h.sum));
                out.push('\n');
                line.start(out, "_count", None);
                push_u64(out, count);
                out.push('\n');
            }
            Value::Summary {
                quantiles,
                sum,
                count,
            } => {
                for (q, v) in quantiles {
                    let q = if om {
                        canonical_float(*q)
                    } else {
                        format_float(*q)
                    };
                    line.start(out, "", Some(("quantile", &q)));
                    push_number(out, Number::Float(*v));
                    out.push('\n');
                }
                line.start(out, "_sum", None);
                push_number(out, Number::Float(*sum));
                out.push('\n');
                line.start(out, "_count", None);
                push_u64(out, *count);
                out.push('\n');
            }
        }
    }
}

/// What every sample line of one series starts with.
struct Line<'a> {
    prefix: &'a str,
    name: &'a str,
    sample: &'a Sample,
    constant: &'a str,
}

impl Line<'_> {
    /// `prefix name suffix{labels,constant labels,extra,last} ` (no braces without labels).
    fn start(&self, out: &mut String, suffix: &str, last: Option<(&str, &str)>) {
        out.push_str(self.prefix);
        out.push_str(self.name);
        out.push_str(suffix);
        let own = &self.sample.labels.text;
        let extra = self.sample.extra.pairs();
        // The constant labels start with a comma (`,region="eu"`).
        let constant = self.constant;
        if own.is_empty() && constant.is_empty() && extra.is_empty() && last.is_none() {
            out.push(' ');
            return;
        }
        out.push('{');
        out.push_str(own);
        let mut any = !own.is_empty();
        if !constant.is_empty() {
            out.push_str(if any { constant } else { &constant[1..] });
            any = true;
        }
        for (k, v) in extra.iter().copied().chain(last) {
            if any {
                out.push(',');
            }
            out.push_str(k);
            out.push_str("=\"");
            escape_label_value(v, out);
            out.push('"');
            any = true;
        }
        out.push_str("} ");
    }
}

fn push_u64(out: &mut String, n: u64) {
    let mut buf = itoa::Buffer::new();
    out.push_str(buf.format(n));
}

fn push_number(out: &mut String, n: Number) {
    match n {
        Number::Int(n) => push_u64(out, n),
        Number::Float(v) if v.is_finite() => {
            // Integral values as integers (`3`, not `3.0`), as Go writes them.
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::float_cmp
            )]
            if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
                let mut buf = itoa::Buffer::new();
                out.push_str(buf.format(v as i64));
            } else {
                let mut buf = ryu::Buffer::new();
                out.push_str(buf.format_finite(v));
            }
        }
        Number::Float(v) => out.push_str(&format_float(v)),
    }
}

/// ` # {trace_id="…",span_id="…"} value timestamp`, as OpenMetrics writes an exemplar.
fn push_exemplar(out: &mut String, e: Option<&Exemplar>) {
    let Some(e) = e else {
        return;
    };
    let _ = write!(
        out,
        " # {{trace_id=\"{:032x}\",span_id=\"{:016x}\"}} ",
        e.context.trace_id, e.context.span_id
    );
    let mut buf = ryu::Buffer::new();
    out.push_str(buf.format(e.value));
    let _ = write!(
        out,
        " {}.{:09}",
        e.unix_nanos / 1_000_000_000,
        e.unix_nanos % 1_000_000_000
    );
}

/// HELP text: backslash and newline escaped; OpenMetrics escapes double quotes too.
fn escape_help(help: &str, om: bool, out: &mut String) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if om => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}
