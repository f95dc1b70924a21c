//! Helpers for the integration tests: read values back from the exposition by parsing it,
//! and talk HTTP/1.1 to the real servers under test ([`http_client`]).

use std::collections::BTreeMap;

pub mod http_client;
pub mod metrics_endpoint;
mod openmetrics;

pub use openmetrics::{parse_openmetrics, OmSample};

/// One sample line of the text exposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parses text format 0.0.4 sample lines (comments skipped). Panics on a malformed line, so a
/// broken exposition fails the test that reads it.
#[must_use]
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            parse_line(line).unwrap_or_else(|| panic!("malformed exposition line: {line:?}"))
        })
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let (name, rest) = match line.find('{') {
        Some(i) => (&line[..i], &line[i..]),
        None => {
            let (n, v) = line.split_once(' ')?;
            return Some(Sample {
                name: n.to_owned(),
                labels: BTreeMap::new(),
                value: parse_value(v)?,
            });
        }
    };
    let mut labels = BTreeMap::new();
    let mut chars = rest[1..].char_indices().peekable();
    let body = &rest[1..];
    let end;
    loop {
        // key
        let start = chars.peek()?.0;
        if body[start..].starts_with('}') {
            end = Some(start + 1);
            break;
        }
        let eq = body[start..].find('=')? + start;
        let key = body[start..eq].to_owned();
        while chars.peek()?.0 <= eq {
            chars.next();
        }
        let (_, quote) = chars.next()?;
        if quote != '"' {
            return None;
        }
        let mut value = String::new();
        loop {
            let (_, c) = chars.next()?;
            match c {
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.insert(key, value);
        match chars.next()? {
            (_, ',') => {}
            (i, '}') => {
                end = Some(i + 1);
                break;
            }
            _ => return None,
        }
    }
    let value = body[end?..].trim();
    Some(Sample {
        name: name.to_owned(),
        labels,
        value: parse_value(value)?,
    })
}

fn parse_value(v: &str) -> Option<f64> {
    match v.trim() {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        other => other.parse().ok(),
    }
}

/// The value of the sample named `name` whose labels include all of `labels`, if there is
/// one. Panics if more than one matches: the labels given must pick a single series.
#[must_use]
pub fn find_value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert!(
        found.len() <= 1,
        "more than one {name} with {labels:?}: {found:?}"
    );
    found.first().map(|s| s.value)
}

/// The value of the one sample named `name` whose labels include all of `labels`.
/// Panics if there is none or more than one.
#[must_use]
pub fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    find_value(&parse(text), name, labels)
        .unwrap_or_else(|| panic!("no {name} with {labels:?} in:\n{text}"))
}

/// Polls [`calls`] until `function` has recorded something, for at most `timeout`; returns
/// what it saw last (all zeros if nothing came).
#[must_use]
pub fn calls_once_recorded(function: &str, timeout: std::time::Duration) -> [u64; 4] {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let counts = calls(function);
        if counts != [0, 0, 0, 0] || std::time::Instant::now() > deadline {
            return counts;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Calls by result for `function`, in the order ok, error, panic, cancelled.
#[must_use]
pub fn calls(function: &str) -> [u64; 4] {
    let text = instrument_metrics::render();
    ["ok", "error", "panic", "cancelled"].map(|r| {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let v = value(
            &text,
            "function_calls_total",
            &[("function", function), ("result", r)],
        ) as u64;
        v
    })
}

/// `_count`, `+Inf` bucket and `_sum` of `function`'s histogram.
#[must_use]
pub fn histogram(function: &str) -> (u64, u64, f64) {
    let text = instrument_metrics::render();
    let labels = [("function", function)];
    let count = value(&text, "function_calls_duration_seconds_count", &labels);
    let inf = value(
        &text,
        "function_calls_duration_seconds_bucket",
        &[("function", function), ("le", "+Inf")],
    );
    let sum = value(&text, "function_calls_duration_seconds_sum", &labels);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (count as u64, inf as u64, sum)
}

/// Burns CPU on this thread until `/proc/self/stat` shows the process has used at least one
/// clock tick (CPU time is counted in whole ticks), so a test can expect CPU seconds above 0.
///
/// # Panics
/// If `/proc` is unreadable, or no tick shows within 10 s.
pub fn use_a_cpu_tick() {
    let ticks = || {
        let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
        let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 2..]
            .split(' ')
            .collect();
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut x = 0u64;
    while ticks() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no CPU tick after 10 s of work"
        );
        for i in 0..100_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
    }
}

/// Runs `promtool check metrics` (Debian package `prometheus`; scripts/test installs it) on an
/// exposition and asserts it passes with nothing to say: no error, no lint.
///
/// # Panics
/// If promtool is missing, fails, or prints anything.
pub fn assert_promtool_finds_nothing(text: &str) {
    use std::io::Write as _;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus; scripts/test installs it)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool: {said}"
    );
}
