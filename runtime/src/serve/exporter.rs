//! [`Exporter`]: a running exporter, until it is shut down or dropped.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::config::Config;
use super::server;

/// A running exporter. It serves until [`shutdown`](Exporter::shutdown) or until dropped;
/// either way the listening socket is closed, connections are finished (or closed, after a
/// short grace period) and the exporter's thread is joined before it returns.
///
/// ```
/// let exporter = instrument_metrics::Exporter::builder()
///     .addr("127.0.0.1:0")
///     .path("/internal/metrics")
///     .serve()?;
/// assert_eq!(exporter.local_addr().ip().to_string(), "127.0.0.1");
/// drop(exporter); // stops it, like `exporter.shutdown()`
/// # Ok::<(), instrument_metrics::Error>(())
/// ```
#[must_use = "the exporter stops serving when dropped"]
pub struct Exporter {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Exporter {
    /// Starts the exporter's thread on a bound `listener` and waits until it serves (or
    /// could not start).
    pub(super) fn start(listener: std::net::TcpListener, config: Config) -> io::Result<Exporter> {
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;

        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let (stop_tx, stop_rx) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("instrument-metrics-exporter".to_owned())
            .spawn(move || server::run(listener, config, stop_rx, &ready_tx))?;
        // The runtime is built on the exporter's thread, so that a failure never drops a
        // runtime on the caller's thread (which may be inside an async context).
        let started = match ready_rx.recv() {
            Ok(started) => started,
            Err(_) => Err(io::Error::other(
                "the exporter thread stopped while starting",
            )),
        };
        match started {
            Ok(()) => Ok(Exporter {
                local_addr,
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            Err(e) => {
                let _ = thread.join();
                Err(e)
            }
        }
    }

    /// The address the exporter listens on, with the actual port when port 0 was asked for.
    ///
    /// ```
    /// let exporter = instrument_metrics::serve("127.0.0.1:0")?;
    /// assert_ne!(exporter.local_addr().port(), 0);
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops the exporter: closes the listening socket (the port is free again when this
    /// returns), closes idle connections, lets scrapes being answered finish for up to a
    /// couple of seconds and then closes them too, and joins the exporter's thread.
    ///
    /// Dropping the exporter does the same.
    ///
    /// ```
    /// let exporter = instrument_metrics::serve("127.0.0.1:0")?;
    /// let addr = exporter.local_addr();
    /// exporter.shutdown();
    /// // The port can be bound again.
    /// let again = instrument_metrics::serve(addr)?;
    /// # drop(again);
    /// # Ok::<(), instrument_metrics::Error>(())
    /// ```
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            // An error means the thread is already gone; joining below is all that is left.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // The exporter's thread does not panic; if it did, there is nothing left to stop.
            let _ = thread.join();
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl fmt::Debug for Exporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exporter")
            .field("local_addr", &self.local_addr)
            .field("running", &self.thread.is_some())
            .finish_non_exhaustive()
    }
}
