//! `push` against a real Prometheus Pushgateway (Debian package `prometheus-pushgateway`),
//! started by the test on a free loopback port and read back through its own `/metrics`.
//!
//! The binary is `$PUSHGATEWAY_BIN`, else `prometheus-pushgateway` or `pushgateway` on `PATH`,
//! else `/usr/bin/prometheus-pushgateway`. Without it every test here fails, saying so.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use instrument_metrics::instrument_metrics;
use instrument_metrics::prometheus::{register_int_gauge_with_registry, IntGauge};
use instrument_metrics::push::{PushError, Pusher};
use instrument_metrics::Error;
use instrument_metrics_tests::http_client::request;
use instrument_metrics_tests::{find_value as value, parse, Sample};

/// User `batch`, password `s3cret-push`; bcrypt cost 10 (made with libxcrypt's `crypt(3)`).
const USER: &str = "batch";
const PASSWORD: &str = "s3cret-push";
const BCRYPT: &str = "$2b$10$LhS63d3kaibn9PcwqG2wx.ar9uO6RlEVfwHBG1/UvciBFDT4OTGDq";

// ---------------------------------------------------------------------------------------------
// A gateway process, killed on drop.

fn gateway_binary() -> PathBuf {
    let bin = std::env::var_os("PUSHGATEWAY_BIN").map_or_else(
        || {
            std::env::var_os("PATH")
                .and_then(|path| {
                    std::env::split_paths(&path)
                        .flat_map(|dir| {
                            ["prometheus-pushgateway", "pushgateway"].map(|name| dir.join(name))
                        })
                        .find(|p| p.is_file())
                })
                .unwrap_or_else(|| PathBuf::from("/usr/bin/prometheus-pushgateway"))
        },
        PathBuf::from,
    );
    assert!(
        bin.is_file(),
        "the Pushgateway binary is missing ({} does not exist): install the Debian package \
         `prometheus-pushgateway` (apt-get install -y prometheus-pushgateway), or set \
         PUSHGATEWAY_BIN to a pushgateway binary",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A free port no other gateway of this process was given: tests run in parallel, and two
/// gateways on one port would have the loser answer readiness polls through the winner.
fn gateway_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let port = free_port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

struct Gateway {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Gateway {
    fn start() -> Gateway {
        Gateway::start_with(None)
    }

    /// With `web_config`, the gateway requires basic auth as configured there.
    fn start_with(web_config: Option<&str>) -> Gateway {
        static RUN: AtomicUsize = AtomicUsize::new(0);
        let bin = gateway_binary();
        let dir = std::env::temp_dir().join(format!(
            "instrument-metrics-push-{}-{}",
            std::process::id(),
            RUN.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let log = std::fs::File::create(dir.join("gateway.log")).expect("create log file");

        // A port found free can be taken before the gateway binds it: retry a few times.
        for _attempt in 0..5 {
            let addr: SocketAddr = ([127, 0, 0, 1], gateway_port()).into();
            let mut cmd = Command::new(&bin);
            cmd.arg(format!("--web.listen-address={addr}"))
                // Debian's build persists to /var/lib/prometheus/pushgateway.data by default:
                // every gateway would start with what an earlier one saved.
                .arg("--persistence.file=")
                .arg("--log.level=debug")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log.try_clone().expect("clone log handle"));
            if let Some(config) = web_config {
                let path = dir.join("web.yml");
                std::fs::write(&path, config).expect("write web config");
                cmd.arg(format!("--web.config.file={}", path.display()));
            }
            let child = match cmd.spawn() {
                Ok(child) => child,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    panic!("cannot start {}: {e}", bin.display());
                }
            };
            let mut gw = Gateway {
                child,
                addr,
                dir: dir.clone(),
            };
            if gw.wait_ready() {
                return gw;
            }
            // Dropping `gw` kills it; its log says why it did not come up.
        }
        let log = std::fs::read_to_string(dir.join("gateway.log")).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        panic!("the Pushgateway never answered; its log:\n{log}");
    }

    /// Polls until the gateway answers (any HTTP status: auth may be on), at most 20 s.
    /// False if the process exited (port taken) or never answered.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_status)) = self.child.try_wait() {
                return false;
            }
            // Listening means it answers; only then a real request.
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok()
                && request(self.addr, "GET", "/-/ready", &[]).status > 0
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        false
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The samples the gateway exposes for the group with these exact `job` and labels.
    fn group(&self, job: &str, grouping: &[(&str, &str)]) -> Vec<Sample> {
        let reply = request(self.addr, "GET", "/metrics", &[]);
        let body = reply.text();
        assert_eq!(reply.status, 200, "GET /metrics: {body}");
        parse(&body)
            .into_iter()
            .filter(|s| {
                s.labels.get("job").map(String::as_str) == Some(job)
                    && grouping
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn calls(samples: &[Sample], function: &str, result: &str) -> Option<f64> {
    value(
        samples,
        "function_calls_total",
        &[("function", function), ("result", result)],
    )
}

fn push_error(r: Result<(), Error>) -> PushError {
    match r {
        Err(Error::Push(e)) => e,
        other => panic!("expected a push error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Instrumented functions, one per test, so parallel tests do not see each other's counts.

#[instrument_metrics]
fn import_row(n: u32) -> Result<u32, String> {
    if n.is_multiple_of(4) {
        Err(format!("row {n} is bad"))
    } else {
        Ok(n)
    }
}

#[instrument_metrics(buckets = linear(0.01, 0.01, 10))]
fn add_step(ok: bool) -> Result<(), ()> {
    if ok {
        Ok(())
    } else {
        Err(())
    }
}

// ---------------------------------------------------------------------------------------------

#[test]
fn put_shows_exact_counts_with_job_and_grouping_labels() {
    let gw = Gateway::start();
    for n in 1..=10 {
        let _ = import_row(n); // n = 4, 8 fail
    }
    let pusher = Pusher::new(&gw.url(), "nightly_import")
        .unwrap()
        .grouping("instance", "worker-1")
        .unwrap()
        .grouping("shard", "eu/west 2") // base64 form
        .unwrap()
        .grouping("empty", "") // base64 form, "="
        .unwrap()
        .grouping("odd", "a b%c é") // percent-escaped
        .unwrap();
    pusher.push().unwrap();

    let labels = [
        ("instance", "worker-1"),
        ("shard", "eu/west 2"),
        ("empty", ""),
        ("odd", "a b%c é"),
    ];
    let group = gw.group("nightly_import", &labels);
    assert_eq!(calls(&group, "import_row", "ok"), Some(8.0), "{group:#?}");
    assert_eq!(calls(&group, "import_row", "error"), Some(2.0));
    assert_eq!(calls(&group, "import_row", "panic"), Some(0.0));
    assert_eq!(calls(&group, "import_row", "cancelled"), Some(0.0));
    assert_eq!(
        value(
            &group,
            "function_calls_duration_seconds_count",
            &[("function", "import_row")]
        ),
        Some(10.0)
    );
    assert_eq!(
        value(
            &group,
            "function_calls_duration_seconds_bucket",
            &[("function", "import_row"), ("le", "+Inf")]
        ),
        Some(10.0)
    );
    // What the gateway adds about the push itself.
    assert!(value(&group, "push_time_seconds", &[]).is_some_and(|t| t > 1.0e9));
    assert_eq!(value(&group, "push_failure_time_seconds", &[]), Some(0.0));

    // A second PUT replaces the values.
    let _ = import_row(1);
    pusher.push().unwrap();
    let group = gw.group("nightly_import", &labels);
    assert_eq!(calls(&group, "import_row", "ok"), Some(9.0));
}

#[test]
fn push_add_replaces_same_names_only_and_put_replaces_the_group() {
    let gw = Gateway::start();
    let labels = [("instance", "adder")];
    let pusher = Pusher::new(&gw.url(), "add_job")
        .unwrap()
        .grouping("instance", "adder")
        .unwrap();

    // A metric that is in the registry only for the first push.
    let extra: IntGauge = register_int_gauge_with_registry!(
        "push_test_rows_in_flight",
        "Rows being imported (test).",
        instrument_metrics::registry()
    )
    .unwrap();
    extra.set(7);
    add_step(true).unwrap();
    pusher.push().unwrap();
    let group = gw.group("add_job", &labels);
    assert_eq!(value(&group, "push_test_rows_in_flight", &[]), Some(7.0));
    assert_eq!(calls(&group, "add_step", "ok"), Some(1.0));
    assert_eq!(
        value(
            &group,
            "function_calls_duration_seconds_bucket",
            &[("function", "add_step"), ("le", "0.05")]
        ),
        Some(1.0)
    );
    // linear(0.01, 0.01, 10): ten bounds and +Inf.
    let bounds = group
        .iter()
        .filter(|s| {
            s.name == "function_calls_duration_seconds_bucket"
                && s.labels.get("function").map(String::as_str) == Some("add_step")
        })
        .count();
    assert_eq!(bounds, 11, "{group:#?}");

    instrument_metrics::registry()
        .unregister(Box::new(extra))
        .unwrap();
    add_step(false).unwrap_err();

    // POST: function_calls_total is replaced, the metric we no longer have stays.
    pusher.push_add().unwrap();
    let group = gw.group("add_job", &labels);
    assert_eq!(value(&group, "push_test_rows_in_flight", &[]), Some(7.0));
    assert_eq!(calls(&group, "add_step", "ok"), Some(1.0));
    assert_eq!(calls(&group, "add_step", "error"), Some(1.0));

    // PUT: the group becomes exactly what is pushed.
    pusher.push().unwrap();
    let group = gw.group("add_job", &labels);
    assert_eq!(value(&group, "push_test_rows_in_flight", &[]), None);
    assert_eq!(calls(&group, "add_step", "error"), Some(1.0));
}

#[test]
fn delete_removes_the_group_and_only_it() {
    let gw = Gateway::start();
    let a = Pusher::new(&gw.url(), "cleanup")
        .unwrap()
        .grouping("instance", "a")
        .unwrap();
    let b = Pusher::new(&gw.url(), "cleanup")
        .unwrap()
        .grouping("instance", "b")
        .unwrap();
    a.push().unwrap();
    b.push().unwrap();
    assert!(!gw.group("cleanup", &[("instance", "a")]).is_empty());

    a.delete().unwrap();
    assert!(gw.group("cleanup", &[("instance", "a")]).is_empty());
    assert!(!gw.group("cleanup", &[("instance", "b")]).is_empty());
    // Deleting again (a group that is gone) is fine.
    a.delete().unwrap();
}

#[test]
fn basic_auth_is_required_and_sent() {
    let gw = Gateway::start_with(Some(&format!("basic_auth_users:\n  {USER}: {BCRYPT}\n")));
    let pusher = Pusher::new(&gw.url(), "secured")
        .unwrap()
        .grouping("instance", "auth")
        .unwrap();

    let e = push_error(pusher.push());
    assert!(
        matches!(e, PushError::Status { status: 401, .. }),
        "without credentials: {e:?}"
    );
    let e = push_error(pusher.clone().basic_auth(USER, "wrong").push());
    assert!(matches!(e, PushError::Status { status: 401, .. }), "{e:?}");
    assert!(e.to_string().contains("401"), "{e}");

    let authed = pusher.basic_auth(USER, PASSWORD);
    authed.push().unwrap();
    authed.push_add().unwrap();

    let token = "Basic YmF0Y2g6czNjcmV0LXB1c2g="; // batch:s3cret-push
    let reply = request(gw.addr, "GET", "/metrics", &[("Authorization", token)]);
    assert_eq!(reply.status, 200);
    let group: Vec<Sample> = parse(&reply.text())
        .into_iter()
        .filter(|s| s.labels.get("job").map(String::as_str) == Some("secured"))
        .collect();
    assert!(value(&group, "push_time_seconds", &[("instance", "auth")]).is_some());

    authed.delete().unwrap();
}

#[test]
fn a_refused_push_returns_the_gateways_status_and_message() {
    let gw = Gateway::start();
    // The gateway requires a consistent type per metric name across groups: seed it with a
    // gauge named like our counter family, pushed through its HTTP API by hand.
    let body = "# TYPE function_calls_total gauge\nfunction_calls_total 1\n";
    let mut stream = TcpStream::connect(gw.addr).unwrap();
    write!(
        stream,
        "PUT /metrics/job/intruder HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        gw.addr,
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let e = push_error(Pusher::new(&gw.url(), "victim").unwrap().push());
    match &e {
        PushError::Status { status, message } => {
            assert_eq!(*status, 400);
            assert!(message.contains("function_calls_total"), "{message}");
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    assert!(e.to_string().contains("400"), "{e}");
}

#[test]
fn grouping_labels_the_metrics_already_carry_are_refused_before_sending() {
    // Nothing listens on port 1: had it been sent, this would be a transport error.
    let pusher = Pusher::new("http://127.0.0.1:1", "j")
        .unwrap()
        .grouping("module", "m")
        .unwrap();
    // Every instrumented function is in the exposition from the start, with its `module` label.
    let e = push_error(pusher.push());
    assert!(
        matches!(&e, PushError::Invalid(why) if why.contains("function_calls") && why.contains("module")),
        "{e:?}"
    );
}

#[test]
fn a_gateway_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept connections and hold them open without a word.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            match stream {
                Ok(s) => held.push(s),
                Err(_) => break,
            }
        }
    });
    let timeout = Duration::from_millis(500);
    let pusher = Pusher::new(&format!("http://{addr}"), "slow")
        .unwrap()
        .timeout(timeout);
    let started = Instant::now();
    let e = push_error(pusher.push());
    let took = started.elapsed();
    assert_eq!(e, PushError::Timeout(timeout));
    assert!(took >= timeout, "gave up after {took:?}");
    assert!(took < timeout + Duration::from_secs(3), "took {took:?}");

    let started = Instant::now();
    assert_eq!(push_error(pusher.delete()), PushError::Timeout(timeout));
    assert!(started.elapsed() < timeout + Duration::from_secs(3));
}

#[test]
fn an_unreachable_gateway_is_an_error_not_a_panic() {
    let port = free_port(); // bound then dropped: nothing listens there now
    let pusher = Pusher::new(&format!("http://127.0.0.1:{port}"), "lonely").unwrap();
    let e = push_error(pusher.push());
    assert!(matches!(e, PushError::Transport(_)), "{e:?}");
    assert!(e.to_string().contains("cannot reach the gateway"), "{e}");
    assert!(matches!(
        push_error(pusher.delete()),
        PushError::Transport(_)
    ));
}

#[test]
fn bad_urls_jobs_and_labels_are_refused_up_front() {
    let invalid = |r: Result<Pusher, Error>| matches!(r, Err(Error::Push(PushError::Invalid(_))));
    assert!(invalid(Pusher::new("127.0.0.1:9091", "j")));
    assert!(invalid(Pusher::new("https://127.0.0.1:9091", "j")));
    assert!(invalid(Pusher::new("ftp://127.0.0.1", "j")));
    assert!(invalid(Pusher::new("http://", "j")));
    assert!(invalid(Pusher::new("http://user:pw@127.0.0.1:9091", "j")));
    assert!(invalid(Pusher::new("http://127.0.0.1:9091/?x=1", "j")));
    assert!(invalid(Pusher::new("http://127.0.0.1:9091", "")));
    let p = || Pusher::new("http://127.0.0.1:9091", "j").unwrap();
    assert!(invalid(p().grouping("", "x")));
    assert!(invalid(p().grouping("1abc", "x")));
    assert!(invalid(p().grouping("a-b", "x")));
    assert!(invalid(p().grouping("__name__", "x")));
    assert!(invalid(p().grouping("job", "x")));
    assert!(invalid(p().grouping("a", "x").unwrap().grouping("a", "y")));
    assert!(p().grouping("_a1", "x").is_ok());
}
