//! Process metrics (CPU seconds, resident and virtual memory, open and max fds, threads, start
//! time) under the default-on `process` feature, on Linux; nothing elsewhere.
//!
//! `/proc` is read at every scrape, with client_golang's names, types and units: CPU time in
//! fractional seconds (utime + stime over the clock tick rate), so that
//! `rate(process_cpu_seconds_total[1m])` is smooth, where `prometheus`'s own collector
//! truncates it to whole seconds. A file that cannot be read omits the families it feeds.

use crate::expose::snapshot::Family;

/// Appends the process families, read now.
#[cfg(all(feature = "process", target_os = "linux"))]
pub(crate) fn families(out: &mut Vec<Family>) {
    linux::families(out);
}

/// Nothing to read here.
#[cfg(not(all(feature = "process", target_os = "linux")))]
pub(crate) fn families(_out: &mut Vec<Family>) {}

/// CPU seconds (user + system) and resident memory in bytes, read now from `/proc/self/stat`
/// (for the live page's snapshots); `None` off Linux, without `process`, or when unreadable.
#[cfg(all(feature = "process", target_os = "linux"))]
pub(crate) fn cpu_and_resident() -> Option<(f64, f64)> {
    linux::cpu_and_resident()
}

/// CPU seconds and resident bytes: not known here.
#[cfg(not(all(feature = "process", target_os = "linux")))]
pub(crate) fn cpu_and_resident() -> Option<(f64, f64)> {
    None
}

#[cfg(all(feature = "process", target_os = "linux"))]
mod linux {
    use std::borrow::Cow;
    use std::sync::OnceLock;

    use crate::expose::families::{
        Describe, PROCESS_CPU, PROCESS_MAX_FDS, PROCESS_OPEN_FDS, PROCESS_RESIDENT, PROCESS_START,
        PROCESS_THREADS, PROCESS_VIRTUAL,
    };
    use crate::expose::snapshot::{Extra, Family, Kind, Labels, Number, Sample, Value};

    pub(super) fn families(out: &mut Vec<Family>) {
        if let Some(stat) = read("/proc/self/stat").as_deref().and_then(Stat::parse) {
            let ticks = clock_ticks_per_second();
            out.push(family(PROCESS_CPU, stat.cpu_ticks as f64 / ticks));
            if let Some(open) = open_fds() {
                out.push(family(PROCESS_OPEN_FDS, open as f64));
            }
            if let Some(max) = read("/proc/self/limits")
                .as_deref()
                .and_then(max_open_files)
            {
                out.push(family(PROCESS_MAX_FDS, max as f64));
            }
            out.push(family(PROCESS_VIRTUAL, stat.virtual_bytes as f64));
            out.push(family(
                PROCESS_RESIDENT,
                stat.resident_pages as f64 * page_size(),
            ));
            if let Some(start) = start_time_seconds(stat.start_ticks, ticks) {
                out.push(family(PROCESS_START, start));
            }
            out.push(family(PROCESS_THREADS, stat.threads as f64));
        }
    }

    pub(super) fn cpu_and_resident() -> Option<(f64, f64)> {
        let stat = Stat::parse(&read("/proc/self/stat")?)?;
        Some((
            stat.cpu_ticks as f64 / clock_ticks_per_second(),
            stat.resident_pages as f64 * page_size(),
        ))
    }

    fn family(describe: Describe, value: f64) -> Family {
        let value = if describe.kind == Kind::Counter {
            Value::Counter {
                value: Number::Float(value),
                exemplar: None,
                created: None,
            }
        } else {
            Value::Gauge(Number::Float(value))
        };
        Family::ours(
            describe,
            vec![Sample {
                labels: Cow::Owned(Labels::default()),
                extra: Extra::NONE,
                value,
            }],
        )
    }

    fn read(path: &str) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }

    /// What the collector needs from `/proc/self/stat` (proc(5)).
    #[derive(Debug, PartialEq, Eq)]
    pub(super) struct Stat {
        /// utime + stime, in clock ticks.
        pub(super) cpu_ticks: u64,
        pub(super) threads: u64,
        /// When the process started, in clock ticks after boot.
        pub(super) start_ticks: u64,
        pub(super) virtual_bytes: u64,
        pub(super) resident_pages: u64,
    }

    impl Stat {
        pub(super) fn parse(text: &str) -> Option<Stat> {
            // "pid (comm) state ppid …": comm may hold spaces and parentheses, so the fields
            // start after the last ')'. Field n of proc(5) is at index n - 3 from there.
            let rest = &text[text.rfind(')')? + 1..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
            Some(Stat {
                cpu_ticks: field(14)?.checked_add(field(15)?)?,
                threads: field(20)?,
                start_ticks: field(22)?,
                virtual_bytes: field(23)?,
                resident_pages: field(24)?,
            })
        }
    }

    /// The soft limit on open files, from `/proc/self/limits`; `None` when unlimited.
    pub(super) fn max_open_files(limits: &str) -> Option<u64> {
        let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
        line["Max open files".len()..]
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// The boot time in seconds since the epoch, from the `btime` line of `/proc/stat`.
    pub(super) fn boot_time(stat: &str) -> Option<u64> {
        stat.lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()
    }

    /// Entries of `/proc/self/fd` (the directory's own descriptor included, as client_golang
    /// counts it).
    fn open_fds() -> Option<usize> {
        Some(std::fs::read_dir("/proc/self/fd").ok()?.count())
    }

    /// Boot time plus the start tick: fixed for the life of the process, so read once (a
    /// failed read is tried again at the next gather).
    fn start_time_seconds(start_ticks: u64, ticks_per_second: f64) -> Option<f64> {
        static START: OnceLock<f64> = OnceLock::new();
        if let Some(start) = START.get() {
            return Some(*start);
        }
        let boot = boot_time(&read("/proc/stat")?)?;
        let start = boot as f64 + start_ticks as f64 / ticks_per_second;
        Some(*START.get_or_init(|| start))
    }

    /// `sysconf(_SC_CLK_TCK)`: the unit of the times in `/proc/self/stat` (100 on Linux).
    fn clock_ticks_per_second() -> f64 {
        static TICKS: OnceLock<f64> = OnceLock::new();
        // SAFETY: sysconf only reads a configuration value; it has no preconditions.
        *TICKS.get_or_init(|| positive(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }, 100.0))
    }

    /// `sysconf(_SC_PAGESIZE)`: the unit of the resident set size in `/proc/self/stat`.
    fn page_size() -> f64 {
        static PAGE: OnceLock<f64> = OnceLock::new();
        // SAFETY: as above.
        *PAGE.get_or_init(|| positive(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }, 4096.0))
    }

    /// sysconf answers -1 when it does not know.
    fn positive(value: libc::c_long, otherwise: f64) -> f64 {
        if value > 0 {
            value as f64
        } else {
            otherwise
        }
    }
}

#[cfg(all(test, feature = "process", target_os = "linux"))]
mod tests {
    use super::linux::{boot_time, max_open_files, Stat};
    use crate::expose::snapshot::{Kind, Value};

    #[test]
    fn stat_fields_after_a_command_name_with_spaces_and_parentheses() {
        let line = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1544 0 0 0 \
                    123 45 0 0 20 0 7 0 9876 104857600 2560 18446744073709551615 1 1 0 0 0 \
                    0 0 4096 17475 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(
            Stat::parse(line),
            Some(Stat {
                cpu_ticks: 168,
                threads: 7,
                start_ticks: 9876,
                virtual_bytes: 104_857_600,
                resident_pages: 2560,
            })
        );
        assert_eq!(Stat::parse("4242 (truncated) S 1 2 3"), None);
        assert_eq!(Stat::parse(""), None);
    }

    #[test]
    fn limits_and_boot_time() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             63382                63382                processes \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(max_open_files(limits), Some(1024));
        assert_eq!(
            max_open_files(
                "Max open files            unlimited            unlimited            files"
            ),
            None
        );
        assert_eq!(max_open_files(""), None);
        assert_eq!(
            boot_time("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n"),
            Some(1_700_000_000)
        );
        assert_eq!(boot_time("cpu 1 2 3\n"), None);
    }

    #[test]
    fn seven_families_with_one_sample_each() {
        let mut families = Vec::new();
        super::families(&mut families);
        assert_eq!(families.len(), 7);
        for f in &families {
            assert_eq!(f.samples.len(), 1, "{}", f.name);
            let counter = f.name == "process_cpu_seconds_total";
            assert_eq!(f.kind == Kind::Counter, counter, "{}", f.name);
            assert_eq!(
                matches!(f.samples[0].value, Value::Counter { .. }),
                counter,
                "{}",
                f.name
            );
        }
    }
}
