//! Names that are not valid legacy names, escaped as the scraper asked (`escaping=` in its
//! `Accept`), by client_golang's rules: a family name, a label name, and a `__name__` label's
//! value that is a valid legacy name (`[a-zA-Z_:][a-zA-Z0-9_:]*`) is left as it is whatever
//! the scheme; so is every name under `allow-utf-8`. Ours are always valid; a collector of the
//! user's can yield others, as `prometheus` checks only the names of descriptors.

use super::pb;
use crate::expose::exposition::Escaping;

/// Escapes `family`'s names in place.
pub(crate) fn family(family: &mut pb::MetricFamily, escaping: Escaping) {
    if escaping == Escaping::AllowUtf8 {
        return;
    }
    if let Some(name) = &mut family.name {
        escape_in_place(name, escaping);
    }
    for metric in &mut family.metric {
        for pair in &mut metric.label {
            let target = if pair.name() == "__name__" {
                &mut pair.value
            } else {
                &mut pair.name
            };
            if let Some(name) = target {
                escape_in_place(name, escaping);
            }
        }
    }
}

fn escape_in_place(name: &mut String, escaping: Escaping) {
    if !is_legacy(name) {
        *name = escape(name, escaping);
    }
}

/// Each character allowed in a legacy name (a digit not first).
fn legacy_char(c: char, at: usize) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':' || (c.is_ascii_digit() && at > 0)
}

fn is_legacy(name: &str) -> bool {
    !name.is_empty() && name.char_indices().all(|(at, c)| legacy_char(c, at))
}

/// `name` (not a legacy name) under `escaping`.
fn escape(name: &str, escaping: Escaping) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    match escaping {
        Escaping::AllowUtf8 => out.push_str(name),
        Escaping::Underscores => {
            for (at, c) in name.char_indices() {
                out.push(if legacy_char(c, at) { c } else { '_' });
            }
        }
        Escaping::Dots => {
            for (at, c) in name.char_indices() {
                match c {
                    '_' => out.push_str("__"),
                    '.' => out.push_str("_dot_"),
                    c if legacy_char(c, at) => out.push(c),
                    _ => out.push_str("__"),
                }
            }
        }
        Escaping::Values => {
            out.push_str("U__");
            for (at, c) in name.char_indices() {
                match c {
                    '_' => out.push_str("__"),
                    c if legacy_char(c, at) => out.push(c),
                    c => {
                        out.push('_');
                        out.push_str(&format!("{:x}", u32::from(c)));
                        out.push('_');
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{family, pb, Escaping};

    fn named(name: &str, label: &str) -> pb::MetricFamily {
        pb::MetricFamily {
            name: Some(name.to_owned()),
            metric: vec![pb::Metric {
                label: vec![pb::LabelPair {
                    name: Some(label.to_owned()),
                    value: Some("v.1".to_owned()),
                }],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn escaped(name: &str, escaping: Escaping) -> (String, String) {
        let mut f = named(name, name);
        family(&mut f, escaping);
        let label = f.metric[0].label[0].clone();
        assert_eq!(label.value(), "v.1", "values are never escaped");
        (f.name().to_owned(), label.name().to_owned())
    }

    #[test]
    fn legacy_names_are_left_alone_by_every_scheme() {
        for escaping in [
            Escaping::AllowUtf8,
            Escaping::Underscores,
            Escaping::Dots,
            Escaping::Values,
        ] {
            let (name, label) = escaped("http_server_active_requests", escaping);
            assert_eq!(
                (name.as_str(), label.as_str()),
                ("http_server_active_requests", "http_server_active_requests")
            );
        }
    }

    #[test]
    fn utf8_names_as_client_golang_escapes_them() {
        let name = |n: &str, e| escaped(n, e).0;
        assert_eq!(name("my.metric", Escaping::AllowUtf8), "my.metric");
        assert_eq!(name("my.metric", Escaping::Underscores), "my_metric");
        assert_eq!(name("1st.total", Escaping::Underscores), "_st_total");
        assert_eq!(name("my.metric_x", Escaping::Dots), "my_dot_metric__x");
        assert_eq!(name("my.métric", Escaping::Dots), "my_dot_m__tric");
        assert_eq!(name("my.metric_x", Escaping::Values), "U__my_2e_metric__x");
        assert_eq!(name("é", Escaping::Values), "U___e9_");
        assert_eq!(escaped("a.b", Escaping::Underscores).1, "a_b");
    }

    #[test]
    fn a_name_label_is_escaped_in_its_value() {
        let mut f = named("ok", "__name__");
        f.metric[0].label[0].value = Some("odd.name".to_owned());
        family(&mut f, Escaping::Underscores);
        assert_eq!(f.metric[0].label[0].value(), "odd_name");
        assert_eq!(f.metric[0].label[0].name(), "__name__");
    }
}
