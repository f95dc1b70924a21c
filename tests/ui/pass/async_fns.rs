//! Async functions and methods, and functions returning a future built from an `async`
//! block (`impl Future`, `Pin<Box<dyn Future>>`): the futures are `Send` when the body is.
#![deny(warnings)]
#![deny(clippy::pedantic)]

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use instrument_metrics::instrument_metrics;

/// A minimal executor: poll, park until woken.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(value) => return value,
            Poll::Pending => std::thread::park(),
        }
    }
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

#[instrument_metrics]
async fn fetch(id: u32) -> Result<u32, String> {
    if id == 0 {
        return Err("zero".to_owned());
    }
    let doubled: u32 = async { id * 2 }.await;
    Ok(doubled)
}

#[instrument_metrics]
async fn nothing() {}

#[instrument_metrics]
async fn borrow<'a>(s: &'a str, _other: &str) -> &'a str {
    s
}

// A generic return warns (the outcome cannot be seen); this one accepts `ok`.
#[instrument_metrics]
#[allow(deprecated)]
async fn generic<T: Send + Clone>(t: &T) -> T {
    t.clone()
}

#[instrument_metrics]
async fn parse(s: String) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = s.parse()?;
    Ok(n)
}

#[instrument_metrics]
fn later(x: u32) -> impl Future<Output = u32> + Send {
    let y = x + 1;
    async move {
        std::future::ready(()).await;
        y * 2
    }
}

#[instrument_metrics]
#[allow(clippy::manual_async_fn)]
fn later_result(x: u32) -> impl Future<Output = Result<u32, String>> {
    async move {
        if x > 10 {
            return Err("too big".to_owned());
        }
        Ok(x)
    }
}

#[instrument_metrics]
#[allow(clippy::manual_async_fn)]
fn single_expression(x: u32) -> impl Future<Output = u32> {
    async move { x * 3 }
}

#[instrument_metrics]
fn boxed_single_expression(x: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move { x })
}

#[instrument_metrics]
#[allow(clippy::manual_async_fn)]
fn empty_future() -> impl Future<Output = ()> {
    async {}
}

#[instrument_metrics]
async fn impl_arg(x: impl std::fmt::Display + Send) -> String {
    x.to_string()
}

/// # Safety
/// None needed; `unsafe` is part of the shape under test.
#[instrument_metrics]
async unsafe fn async_unsafe() -> u8 {
    1
}

#[instrument_metrics]
async fn not_send() -> u8 {
    let r = std::rc::Rc::new(1);
    std::future::ready(()).await;
    *r
}

#[instrument_metrics]
fn boxed(x: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move {
        std::future::ready(()).await;
        x
    })
}

pub struct Pinned(u8);

impl Pinned {
    #[instrument_metrics]
    #[must_use]
    pub fn get(self: Pin<&mut Self>) -> u8 {
        self.0
    }
}

pub struct Client {
    base: String,
}

impl Client {
    #[instrument_metrics]
    pub async fn get(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    #[instrument_metrics]
    pub async fn set_base(&mut self, base: String) -> &str {
        self.base = base;
        &self.base
    }

    #[instrument_metrics]
    pub async fn into_base(self) -> String {
        self.base
    }

    #[instrument_metrics]
    pub async fn connect(base: &str) -> Self {
        Self { base: base.to_owned() }
    }
}

fn main() {
    assert_eq!(block_on(fetch(2)), Ok(4));
    assert!(block_on(fetch(0)).is_err());
    block_on(nothing());
    assert_eq!(block_on(borrow("a", "b")), "a");
    assert_eq!(block_on(generic(&5)), 5);
    assert_eq!(block_on(parse("3".to_owned())), Ok(3));
    assert_eq!(block_on(assert_send(later(1))), 4);
    assert_eq!(block_on(later_result(20)), Err("too big".to_owned()));
    assert_eq!(block_on(boxed(8)), 8);
    block_on(empty_future());
    assert_eq!(block_on(single_expression(1)), 3);
    assert_eq!(block_on(boxed_single_expression(1)), 1);
    assert_eq!(block_on(impl_arg(1)), "1");
    assert_eq!(block_on(unsafe { async_unsafe() }), 1);
    assert_eq!(block_on(not_send()), 1);
    let mut pinned = Pinned(2);
    assert_eq!(Pin::new(&mut pinned).get(), 2);

    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let spawned = tokio::spawn(fetch(3));
        assert_eq!(spawned.await.unwrap(), Ok(6));
        let mut client = Client::connect("http://x").await;
        assert_eq!(client.get("/a").await, "http://x/a");
        assert_eq!(client.set_base("http://y".to_owned()).await, "http://y");
        assert_eq!(assert_send(client.into_base()).await, "http://y");
        assert_eq!(tokio::spawn(later(2)).await.unwrap(), 6);
        assert_eq!(tokio::spawn(boxed(1)).await.unwrap(), 1);
    });

    let text = instrument_metrics::render();
    assert!(text.contains("function=\"later_result\""));
    assert!(text.contains("function=\"set_base\""));
}
