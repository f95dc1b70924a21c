//! The standalone exporter against misbehaving clients: garbage, huge heads, connection
//! storms, slowloris. After each, a normal scrape must still be answered promptly, and memory
//! must stay bounded.
//!
//! One test at a time (`serial()`): they measure the process's memory and timings.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use instrument_metrics::{instrument_metrics, Exporter};
use instrument_metrics_tests::http_client::{connect, request, send};
use instrument_metrics_tests::value;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How fast "promptly" is.
const PROMPT: Duration = Duration::from_secs(2);

/// How long the exporter may take to get to work it has been given (answer requests already
/// sent, close connections it decided to close), on a loaded machine. A bound for waits that
/// end as soon as the work is seen done, not a measured time.
const SETTLE: Duration = Duration::from_secs(20);

#[instrument_metrics]
fn robust_work() {}

/// A well-behaved scrape: 200, text format, the exact count of `robust_work`, within
/// [`PROMPT`].
fn scrape_ok(addr: SocketAddr, expected_calls: f64) {
    let started = Instant::now();
    let reply = request(addr, "GET", "/metrics", &[]);
    assert_eq!((reply.status, reply.reason.as_str()), (200, "OK"));
    // Framed by its length, not chunked.
    assert_eq!(reply.header("transfer-encoding"), None);
    assert!(reply.header("content-length").is_some(), "content-length");
    let text = reply.text();
    assert_eq!(
        value(
            &text,
            "function_calls_total",
            &[("function", "robust_work"), ("result", "ok")]
        ),
        expected_calls
    );
    assert!(
        started.elapsed() < PROMPT,
        "scrape took {:?}",
        started.elapsed()
    );
}

fn start(builder: instrument_metrics::ExporterBuilder) -> Exporter {
    robust_work();
    builder.addr("127.0.0.1:0").serve().unwrap()
}

/// Calls of `robust_work` so far (each `start` makes one).
fn calls() -> f64 {
    value(
        &instrument_metrics::render(),
        "function_calls_total",
        &[("function", "robust_work"), ("result", "ok")],
    )
}

/// What the server sent back until it closed (or until `within`), and whether it closed.
fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (got, false);
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (got, false)
            }
            // Reset: closed, possibly before we read everything.
            Err(_) => return (got, true),
        }
    }
}

fn status_of(response: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(response.get(..12)?).ok()?;
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS line");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Deterministic bytes (xorshift), so a failure can be reproduced.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed.to_be_bytes()[0]
        })
        .collect()
}

#[test]
fn garbage_gets_400_or_a_closed_connection() {
    let _serial = serial();
    // Blank lines before a request are allowed and then the server waits for the request:
    // the header read timeout closes such connections.
    let timeout = Duration::from_secs(1);
    let exporter = start(Exporter::builder().header_read_timeout(timeout));
    let addr = exporter.local_addr();
    let tls_client_hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec();
    let cases: Vec<Vec<u8>> = vec![
        noise(4096, 0x9e37_79b9_7f4a_7c15),
        noise(64, 42),
        tls_client_hello,
        b"\r\n\r\n\r\n\r\n".to_vec(),
        b"GET /metrics HTTP/9.9\r\n\r\n".to_vec(),
        b"G\x00T /metrics HTTP/1.1\r\n\r\n".to_vec(),
        b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n".to_vec(),
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n".to_vec(),
        b"GET /metr\x7fics HTTP/1.1\r\n\r\n".to_vec(),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
    ];
    for (i, bytes) in cases.iter().enumerate() {
        let mut stream = connect(addr);
        // The server may close while we write: that is an acceptable answer.
        let _ = stream.write_all(bytes);
        let (response, closed) = read_until_closed(&mut stream, timeout + PROMPT);
        assert!(closed, "case {i}: the connection was left open");
        let status = status_of(&response);
        assert!(
            response.is_empty() || matches!(status, Some(400..=499 | 505)),
            "case {i}: {:?}",
            String::from_utf8_lossy(&response)
        );
        scrape_ok(addr, calls());
    }
    // Half a request, then the client goes away.
    let mut stream = connect(addr);
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHo").unwrap();
    drop(stream);
    scrape_ok(addr, calls());
}

#[test]
fn a_one_megabyte_header_gets_431_and_is_not_buffered() {
    let _serial = serial();
    let exporter = start(Exporter::builder());
    let addr = exporter.local_addr();
    let rss_before = vm_rss_kib();
    for (what, head) in [
        ("header", {
            let mut h = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
            h.extend(std::iter::repeat_n(b'a', 1 << 20));
            h.extend_from_slice(b"\r\n\r\n");
            h
        }),
        ("many headers", {
            let mut h = b"GET /metrics HTTP/1.1\r\nHost: x\r\n".to_vec();
            for i in 0..40_000 {
                h.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
            }
            h.extend_from_slice(b"\r\n");
            h
        }),
        ("uri", {
            let mut h = b"GET /metrics?".to_vec();
            h.extend(std::iter::repeat_n(b'q', 1 << 20));
            h.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
            h
        }),
    ] {
        let mut stream = connect(addr);
        let writer = {
            let mut w = stream.try_clone().unwrap();
            // Writes until the server closes on us; the error is expected.
            std::thread::spawn(move || {
                let _ = w.write_all(&head);
            })
        };
        let (response, closed) = read_until_closed(&mut stream, PROMPT);
        assert!(closed, "{what}: the connection was left open");
        // Either hyper's 431/414 arrived, or the close came first and reset it away; never 200.
        let status = status_of(&response);
        assert!(
            response.is_empty() || matches!(status, Some(400 | 414 | 431)),
            "{what}: {:?}",
            String::from_utf8_lossy(&response[..response.len().min(200)])
        );
        drop(stream);
        writer.join().unwrap();
        scrape_ok(addr, calls());
    }
    let growth_mib = vm_rss_kib().saturating_sub(rss_before) / 1024;
    assert!(growth_mib < 64, "RSS grew by {growth_mib} MiB");
}

#[test]
fn two_hundred_held_connections_keep_memory_bounded_and_scrapes_prompt() {
    let _serial = serial();
    // Room for all of them, so the server really holds 200 connections.
    let exporter = start(Exporter::builder().max_connections(256));
    let addr = exporter.local_addr();
    scrape_ok(addr, calls());
    let rss_before = vm_rss_kib();

    let mut held = Vec::with_capacity(200);
    for i in 0..200 {
        let mut stream = connect(addr);
        // Every kind of stalled client: silent, half a head, a head that fills the buffer,
        // a complete request whose response is never read.
        let bytes: Vec<u8> = match i % 4 {
            0 => Vec::new(),
            1 => b"GET /metrics HTTP/1.1\r\nHost: x\r\n".to_vec(),
            2 => {
                let mut h = b"GET /metrics HTTP/1.1\r\nX-Pad: ".to_vec();
                h.extend(std::iter::repeat_n(b'p', 24 * 1024));
                h
            }
            _ => b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        };
        stream.write_all(&bytes).unwrap();
        held.push(stream);
    }
    // The 50 complete requests are scrapes too, each holding one of the exporter's 4 scrape
    // slots while it renders (and answered 503 when none is free). A slot is released before
    // its response is written, so once every one of them has its response waiting in its
    // socket, no slot is held and the scrapes below cannot be refused for want of one. Waited
    // for (bounded by SETTLE), not slept: on a loaded machine the renders take their time.
    for (i, stream) in held.iter_mut().enumerate().filter(|(i, _)| i % 4 == 3) {
        stream.set_read_timeout(Some(SETTLE)).unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(
            stream.peek(&mut buf).unwrap_or(0),
            1,
            "connection {i}: no response within {SETTLE:?}"
        );
    }
    // All 200 are open and the exporter still answers.
    let started = Instant::now();
    scrape_ok(addr, calls());
    assert!(started.elapsed() < PROMPT);
    let growth_mib = vm_rss_kib().saturating_sub(rss_before) / 1024;
    assert!(growth_mib < 64, "RSS grew by {growth_mib} MiB");
    // None was closed on us (the header timeout is 5 s; the limit is 256).
    for (i, stream) in held.iter_mut().enumerate() {
        stream.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 1];
        match stream.read(&mut buf) {
            Ok(0) => panic!("connection {i} was closed"),
            // The unread response of a complete request.
            Ok(_) => assert_eq!(i % 4, 3, "connection {i} got data"),
            Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock, "connection {i}"),
        }
    }
    drop(held);
    scrape_ok(addr, calls());
}

#[test]
fn at_the_connection_limit_the_oldest_idle_connections_are_closed() {
    let _serial = serial();
    // The default limit, 64.
    let exporter = start(Exporter::builder());
    let addr = exporter.local_addr();
    let mut held: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut stream = connect(addr);
            stream.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
            stream
        })
        .collect();
    // The storm took every slot; a scrape still gets one, from the oldest stalled client.
    scrape_ok(addr, calls());

    // 200 stalled + 1 scrape through 64 slots: the 137 oldest were closed, the 63 newest
    // are still open.
    let is_closed = |s: &mut TcpStream| {
        s.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 1];
        match s.read(&mut buf) {
            Ok(0) => true,
            Ok(_) => panic!("unexpected data"),
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(_) => true,
        }
    };
    let deadline = Instant::now() + SETTLE;
    let closed = loop {
        let closed: Vec<bool> = held.iter_mut().map(is_closed).collect();
        if closed.iter().filter(|c| **c).count() >= 137 || Instant::now() > deadline {
            break closed;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let expected: Vec<bool> = (0..200).map(|i| i < 137).collect();
    assert_eq!(closed, expected);
    drop(held);
    scrape_ok(addr, calls());
}

#[test]
fn slowloris_is_cut_off_by_the_header_read_timeout() {
    let _serial = serial();
    let timeout = Duration::from_millis(500);
    let exporter = start(Exporter::builder().header_read_timeout(timeout));
    let addr = exporter.local_addr();

    // One byte per second of a valid request: the head never completes within the timeout.
    let slow = std::thread::spawn(move || {
        let mut stream = connect(addr);
        let request = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        let started = Instant::now();
        for &byte in request.iter().take(5) {
            if stream.write_all(&[byte]).is_err() {
                return started.elapsed();
            }
            let (got, closed) = read_until_closed(&mut stream, Duration::from_secs(1));
            assert!(
                status_of(&got).is_none_or(|s| s == 408),
                "{:?}",
                String::from_utf8_lossy(&got)
            );
            if closed {
                return started.elapsed();
            }
        }
        panic!("still open after {:?}", started.elapsed());
    });
    // A silent connection is cut off too.
    let silent = std::thread::spawn(move || {
        let mut stream = connect(addr);
        let started = Instant::now();
        let (got, closed) = read_until_closed(&mut stream, Duration::from_secs(3));
        assert!(closed && got.is_empty(), "{got:?}");
        started.elapsed()
    });
    // Meanwhile, scrapes are answered.
    for _ in 0..3 {
        scrape_ok(addr, calls());
        std::thread::sleep(Duration::from_millis(100));
    }
    let slow_for = slow.join().unwrap();
    let silent_for = silent.join().unwrap();
    for (who, t) in [("slowloris", slow_for), ("silent", silent_for)] {
        assert!(
            t >= timeout.saturating_sub(Duration::from_millis(50))
                && t < timeout + Duration::from_millis(1500),
            "{who} closed after {t:?}"
        );
    }
    scrape_ok(addr, calls());

    // An idle keep-alive connection is closed after the same timeout.
    let mut keep = connect(addr);
    send(&mut keep, "GET", "/metrics", &[], false);
    let started = Instant::now();
    let (got, closed) = read_until_closed(&mut keep, Duration::from_secs(3));
    assert_eq!(status_of(&got), Some(200));
    assert!(closed, "idle keep-alive connection left open");
    assert!(started.elapsed() < timeout + Duration::from_millis(1500));
}
