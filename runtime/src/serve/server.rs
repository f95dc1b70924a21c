//! The exporter's thread: its runtime, the accept loop, and the bookkeeping that bounds open
//! connections.

use std::collections::BTreeMap;
use std::io;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch, Notify};
use tokio::task::{AbortHandle, JoinError, JoinSet};

use super::config::Config;
use super::conn_state::ConnState;
use super::handler::{self, Shared};

/// Largest request head accepted (request line and headers); hyper answers 431 beyond it.
/// A Prometheus scrape sends a few hundred bytes.
const MAX_REQUEST_HEAD: usize = 32 * 1024;
/// How long scrapes being answered may take to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// How long the runtime waits for a render still running when shutdown gives up on it.
const RUNTIME_SHUTDOWN: Duration = Duration::from_millis(100);
/// Pause after a failed accept (out of file descriptors, say) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Runs the exporter until `stop` fires (or its sender is dropped). Reports on `ready` whether
/// it started.
pub(super) fn run(
    listener: std::net::TcpListener,
    config: Config,
    stop: oneshot::Receiver<()>,
    ready: &SyncSender<io::Result<()>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .thread_name("instrument-metrics-exporter")
        .max_blocking_threads(config.max_concurrent_scrapes.max(1))
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let listener = {
        let _entered = runtime.enter();
        TcpListener::from_std(listener)
    };
    let listener = match listener {
        Ok(listener) => listener,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    if config.live_page.is_some() {
        // The live page's snapshots, from now on (a thread of their own).
        crate::live::start();
    }
    runtime.block_on(accept_loop(listener, config, stop));
    // A render stuck in a collector must not keep the caller of `shutdown` waiting.
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
}

struct Tracked {
    abort: AbortHandle,
    state: Arc<ConnState>,
}

/// The connection to close to make room: the oldest idle one, else the oldest one writing a
/// response; never one being answered.
fn evictable(open: &BTreeMap<u64, Tracked>) -> Option<u64> {
    let oldest = |wanted: u8| {
        open.iter()
            .find(|(_, t)| t.state.get() == wanted)
            .map(|(&seq, _)| seq)
    };
    oldest(ConnState::IDLE).or_else(|| oldest(ConnState::WRITING))
}

fn reap(open: &mut BTreeMap<u64, Tracked>, done: Result<u64, JoinError>) {
    match done {
        Ok(seq) => {
            open.remove(&seq);
        }
        // Aborted by us: already removed.
        Err(e) if e.is_cancelled() => {}
        // A connection task panicked (it should not); forget whatever has finished.
        Err(_) => open.retain(|_, t| !t.abort.is_finished()),
    }
}

async fn accept_loop(listener: TcpListener, config: Config, mut stop: oneshot::Receiver<()>) {
    let max_connections = config.max_connections.max(1);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(MAX_REQUEST_HEAD);
    let http = Arc::new(http);
    let shared = Arc::new(Shared::new(config));
    // Set when a connection stops answering, so a full accept loop can look again.
    let answered = Arc::new(Notify::new());
    let (closing_tx, closing_rx) = watch::channel(false);

    let mut tasks: JoinSet<u64> = JoinSet::new();
    let mut open: BTreeMap<u64, Tracked> = BTreeMap::new();
    let mut next_seq = 0u64;
    loop {
        let room = open.len() < max_connections || evictable(&open).is_some();
        tokio::select! {
            biased;
            _ = &mut stop => break,
            Some(done) = tasks.join_next(), if !tasks.is_empty() => reap(&mut open, done),
            () = answered.notified(), if !room => {}
            accepted = listener.accept(), if room => {
                let Ok((stream, _peer)) = accepted else {
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                };
                if open.len() >= max_connections {
                    // Room was there a moment ago; it may have gone while accepting.
                    let Some(seq) = evictable(&open) else { continue };
                    if let Some(evicted) = open.remove(&seq) {
                        evicted.abort.abort();
                    }
                }
                let _ = stream.set_nodelay(true);
                let state = Arc::new(ConnState::new());
                let seq = next_seq;
                next_seq += 1;
                let abort = tasks.spawn(connection(
                    seq,
                    stream,
                    Arc::clone(&http),
                    Arc::clone(&shared),
                    Arc::clone(&state),
                    Arc::clone(&answered),
                    closing_rx.clone(),
                ));
                open.insert(seq, Tracked { abort, state });
            }
        }
    }

    // Stop accepting: the port is free from here on.
    drop(listener);
    // Idle connections have nothing to finish; the others get a grace period.
    for t in open.values() {
        if t.state.get() == ConnState::IDLE {
            t.abort.abort();
        }
    }
    let _ = closing_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tasks.shutdown().await;
    }
}

async fn connection(
    seq: u64,
    stream: TcpStream,
    http: Arc<http1::Builder>,
    shared: Arc<Shared>,
    state: Arc<ConnState>,
    answered: Arc<Notify>,
    mut closing: watch::Receiver<bool>,
) -> u64 {
    let service = service_fn(move |request| {
        handler::handle(
            Arc::clone(&shared),
            Arc::clone(&state),
            Arc::clone(&answered),
            request,
        )
    });
    let conn = http.serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        // Errors are the client's doing (malformed request, timeout, reset): just close.
        _ = conn.as_mut() => return seq,
        _ = closing.wait_for(|closing| *closing) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
    seq
}
