//! Runs a job on a dedicated thread and hands its result back as a future, so that the axum and
//! actix-web `/metrics` handlers do not gather and encode on the executor's thread (a slow
//! collector would hold up every task scheduled there). The standalone exporter needs none of
//! this: it already renders off its own runtime.
//!
//! Runtime-agnostic and small: the thread is started at the first job and fed by a std
//! channel; each answer comes back through a oneshot slot that wakes the awaiting task. If the
//! thread cannot be started, or is gone, the job runs inline instead. A job that panics yields
//! `None`, and the thread carries on with the next one.
#![cfg_attr(not(any(feature = "axum", feature = "actix-web")), allow(dead_code))]

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};

type Job = Box<dyn FnOnce() + Send>;

/// The render thread's queue; `None` if the thread could not be started.
fn queue() -> Option<&'static Sender<Job>> {
    static QUEUE: OnceLock<Option<Sender<Job>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (tx, rx) = channel::<Job>();
            std::thread::Builder::new()
                .name("instrument-metrics-render".into())
                .spawn(move || {
                    for job in rx {
                        // A panicking job has dropped its reply (the waiter gets `None`);
                        // the thread serves the next one.
                        let _ = catch_unwind(AssertUnwindSafe(job));
                    }
                })
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

/// Runs `job` on the render thread; the future resolves to its result, or to `None` if it
/// panicked. Inline (the future is then ready at once) when there is no render thread.
pub(crate) fn run<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> OffThread<T> {
    let slot = Arc::new(Slot {
        state: Mutex::new(State {
            value: None,
            closed: false,
            waker: None,
        }),
    });
    let reply = Reply(Arc::clone(&slot));
    let task: Job = Box::new(move || reply.send(job()));
    let Some(queue) = queue() else {
        return inline(task, &slot);
    };
    match queue.send(task) {
        Ok(()) => OffThread(Inner::Waiting(slot)),
        // The thread has stopped: run here (`SendError` hands the job back).
        Err(std::sync::mpsc::SendError(task)) => inline(task, &slot),
    }
}

fn inline<T>(task: Job, slot: &Slot<T>) -> OffThread<T> {
    let _ = catch_unwind(AssertUnwindSafe(task));
    OffThread(Inner::Ready(slot.lock().value.take()))
}

struct Slot<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    value: Option<T>,
    /// The reply was sent or dropped: nothing more will come.
    closed: bool,
    waker: Option<Waker>,
}

impl<T> Slot<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        // Nothing panics while holding the lock; if something did, the state is still whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The sending half: fills the slot, or closes it empty when dropped unsent (the job panicked).
struct Reply<T>(Arc<Slot<T>>);

impl<T> Reply<T> {
    fn send(self, value: T) {
        self.0.lock().value = Some(value);
        // Drop closes and wakes.
    }
}

impl<T> Drop for Reply<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.0.lock();
            state.closed = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The result of [`run`]: `Some(value)`, or `None` if the job panicked.
pub(crate) struct OffThread<T>(Inner<T>);

enum Inner<T> {
    Ready(Option<T>),
    Waiting(Arc<Slot<T>>),
    Done,
}

// Never pinned structurally: the value is only moved out.
impl<T> Unpin for OffThread<T> {}

impl<T> Future for OffThread<T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut self.0;
        let value = match this {
            Inner::Ready(value) => value.take(),
            Inner::Waiting(slot) => {
                let mut state = slot.lock();
                if !state.closed {
                    match &mut state.waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        w => *w = Some(cx.waker().clone()),
                    }
                    return Poll::Pending;
                }
                state.value.take()
            }
            // Polled again after it completed.
            Inner::Done => None,
        };
        *this = Inner::Done;
        Poll::Ready(value)
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    use std::thread::{self, Thread};

    use super::run;

    /// Unparks the blocked thread.
    struct Unpark(Thread);

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    /// A minimal executor: polls, parks until woken.
    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let waker = Waker::from(Arc::new(Unpark(thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                return v;
            }
            thread::park();
        }
    }

    #[test]
    fn runs_elsewhere_and_answers() {
        let here = thread::current().id();
        let (there, name, n) = block_on(run(|| {
            let me = thread::current();
            (me.id(), me.name().map(str::to_owned), 6 * 7)
        }))
        .unwrap();
        assert_ne!(there, here);
        assert_eq!(name.as_deref(), Some("instrument-metrics-render"));
        assert_eq!(n, 42);
        // The same thread serves the next job.
        let again = block_on(run(|| thread::current().id())).unwrap();
        assert_eq!(again, there);
    }

    #[test]
    fn a_panicking_job_yields_none_and_the_thread_carries_on() {
        let answer = block_on(run(|| -> u32 { panic!("a collector failed") }));
        assert_eq!(answer, None);
        assert_eq!(block_on(run(|| 1)), Some(1));
    }

    #[test]
    fn a_dropped_future_leaves_the_thread_working() {
        let (tx, rx) = std::sync::mpsc::channel();
        drop(run(move || {
            thread::sleep(std::time::Duration::from_millis(50));
            tx.send(()).unwrap();
        }));
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        assert_eq!(block_on(run(|| "still here")), Some("still here"));
    }
}
