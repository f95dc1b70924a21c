//! Process metrics (feature `process`, Linux): the families client_golang exports, read back
//! from `render()`, and CPU time in fractional seconds (a counter truncated to whole seconds
//! makes `rate()` a staircase).
#![cfg(target_os = "linux")]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use instrument_metrics_tests::{find_value, parse};

fn process_value(name: &str) -> Option<f64> {
    find_value(&parse(&instrument_metrics::render()), name, &[])
}

/// CPU time of the calling thread so far, in seconds, from `/proc/thread-self/stat` (utime and
/// stime, in ticks of USER_HZ, which is 100 on Linux).
fn thread_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("read thread stat");
    // Fields after the parenthesised command name, which may hold spaces.
    let after_comm = &stat[stat.rfind(')').expect("comm in stat") + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let ticks = |i: usize| fields[i].parse::<u64>().expect("tick count");
    // Fields 14 (utime) and 15 (stime) of proc(5); field 3 is the first after the name.
    #[allow(clippy::cast_precision_loss)]
    let seconds = (ticks(14 - 3) + ticks(15 - 3)) as f64 / 100.0;
    seconds
}

/// Spins this thread until it has used `cpu` of CPU time (at most 30 s of wall time: a
/// shared machine may give it little).
fn burn(cpu: Duration) {
    let start = thread_cpu_seconds();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut x = 0u64;
    while thread_cpu_seconds() - start < cpu.as_secs_f64() && Instant::now() < deadline {
        for i in 0..100_000u64 {
            x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
        }
    }
    std::hint::black_box(x);
}

#[test]
fn cpu_seconds_are_fractional() {
    let before = process_value("process_cpu_seconds_total").expect("process_cpu_seconds_total");
    burn(Duration::from_millis(200));
    let after = process_value("process_cpu_seconds_total").expect("process_cpu_seconds_total");
    let delta = after - before;
    assert!(
        delta > 0.05 && delta < 1.0,
        "about 0.2 s of CPU burnt, the counter moved by {delta} ({before} -> {after})"
    );
}

#[test]
fn every_family_is_there_with_its_type_and_a_plausible_value() {
    let text = instrument_metrics::render();
    for (name, kind) in [
        ("process_cpu_seconds_total", "counter"),
        ("process_open_fds", "gauge"),
        ("process_max_fds", "gauge"),
        ("process_virtual_memory_bytes", "gauge"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_start_time_seconds", "gauge"),
        ("process_threads", "gauge"),
    ] {
        let type_line = format!("# TYPE {name} {kind}");
        let help_start = format!("# HELP {name} ");
        assert!(
            text.lines().any(|l| l == type_line),
            "no {kind} {name} in:\n{text}"
        );
        assert!(
            text.lines().any(|l| l.starts_with(&help_start)),
            "no HELP for {name} in:\n{text}"
        );
    }
    let samples = parse(&text);
    let value = |name| find_value(&samples, name, &[]).expect(name);

    let open = value("process_open_fds");
    assert!(open >= 3.0, "stdin, stdout, stderr at least: {open}");
    assert!(value("process_max_fds") >= open);
    let resident = value("process_resident_memory_bytes");
    assert!(
        resident > 1024.0 * 1024.0,
        "a test binary uses more than 1 MiB: {resident}"
    );
    assert!(value("process_virtual_memory_bytes") >= resident);
    assert!(value("process_threads") >= 1.0);

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64();
    let start = value("process_start_time_seconds");
    assert!(
        start <= now + 1.0 && start > now - 600.0,
        "this test process started within the last 10 minutes: {start} (now {now})"
    );

    // OpenMetrics names the counter family without `_total`.
    let om = instrument_metrics::exposition::render_openmetrics();
    assert!(
        om.lines()
            .any(|l| l == "# TYPE process_cpu_seconds counter"),
        "{om}"
    );
    assert!(
        om.lines()
            .any(|l| l.starts_with("process_cpu_seconds_total ")),
        "{om}"
    );
}
