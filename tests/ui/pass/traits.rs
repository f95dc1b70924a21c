//! Trait impl methods, instrumented trait impl blocks, default methods in a trait
//! definition, and native `async fn` in traits.
#![deny(warnings)]
#![deny(clippy::pedantic)]

use std::fmt;
use std::future::Future;

use instrument_metrics::instrument_metrics;

trait Shape {
    fn area(&self) -> f64;

    fn scale(&mut self, by: f64);

    #[instrument_metrics]
    fn describe(&self) -> String {
        format!("area {}", self.area())
    }

    #[instrument_metrics]
    fn unit() -> u8
    where
        Self: Sized,
    {
        1
    }
}

struct Square(f64);

impl Shape for Square {
    #[instrument_metrics]
    fn area(&self) -> f64 {
        self.0 * self.0
    }

    #[instrument_metrics]
    fn scale(&mut self, by: f64) {
        self.0 *= by;
    }
}

struct Circle(f64);

#[instrument_metrics]
impl Shape for Circle {
    fn area(&self) -> f64 {
        3.0 * self.0 * self.0
    }

    fn scale(&mut self, by: f64) {
        self.0 *= by;
    }

    fn describe(&self) -> String {
        "a circle".to_owned()
    }
}

#[instrument_metrics]
impl fmt::Display for Circle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "circle({})", self.0)
    }
}

impl From<f64> for Square {
    #[instrument_metrics(name = "Square::from_f64")]
    fn from(side: f64) -> Self {
        Square(side)
    }
}

#[instrument_metrics]
impl std::str::FromStr for Circle {
    type Err = std::num::ParseFloatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Circle(s.parse()?))
    }
}

trait Store {
    async fn load(&self, key: u32) -> Option<u32>;

    fn load_send(&self, key: u32) -> impl Future<Output = Option<u32>> + Send;

    #[instrument_metrics]
    async fn load_or_zero(&self, key: u32) -> u32 {
        self.load(key).await.unwrap_or(0)
    }
}

struct Memory(Vec<u32>);

impl Store for Memory {
    #[instrument_metrics]
    async fn load(&self, key: u32) -> Option<u32> {
        self.0.get(key as usize).copied()
    }

    #[instrument_metrics]
    #[allow(clippy::manual_async_fn)]
    fn load_send(&self, key: u32) -> impl Future<Output = Option<u32>> + Send {
        let v = self.0.get(key as usize).copied();
        async move {
            std::future::ready(()).await;
            v
        }
    }
}

struct Disk;

#[instrument_metrics(in_flight)]
#[allow(clippy::manual_async_fn)]
impl Store for Disk {
    async fn load(&self, key: u32) -> Option<u32> {
        Some(key)
    }

    fn load_send(&self, key: u32) -> impl Future<Output = Option<u32>> + Send {
        async move { Some(key + 1) }
    }
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

fn main() {
    let mut s = Square(2.0);
    s.scale(2.0);
    assert!((s.area() - 16.0).abs() < 1e-9);
    assert_eq!(s.describe(), "area 16");
    assert_eq!(Square::unit(), 1);
    let mut c = Circle(1.0);
    c.scale(1.0);
    assert_eq!(c.describe(), "a circle");
    assert_eq!(c.to_string(), "circle(1)");
    assert!("x".parse::<Circle>().is_err());
    assert!("2".parse::<Circle>().is_ok());
    let _ = Square::from(1.0);

    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let m = Memory(vec![5]);
        assert_eq!(m.load(0).await, Some(5));
        assert_eq!(m.load_or_zero(9).await, 0);
        let one = Memory(vec![1]);
        assert_eq!(assert_send(one.load_send(0)).await, Some(1));
        assert_eq!(Disk.load(2).await, Some(2));
        assert_eq!(Disk.load_send(2).await, Some(3));
    });

    let text = instrument_metrics::render();
    assert!(text.contains("function=\"Circle::fmt\""));
    assert!(text.contains("function=\"Circle::from_str\""));
    assert!(text.contains("function=\"Square::from_f64\""));
    assert!(text.contains("function=\"Disk::load\""));
    assert!(text.contains("function=\"describe\""));
}
