//! Unit-returning functions, explicit `-> ()` and `-> Self`, under the strictest lint set.
#![deny(warnings, clippy::all, clippy::pedantic)]

use instrument_metrics::instrument_metrics;

#[instrument_metrics]
fn nothing() {}

#[instrument_metrics]
fn side_effect(v: &mut Vec<u8>) {
    v.push(1);
}

#[instrument_metrics]
#[allow(clippy::unused_unit)]
fn explicit_unit() -> () {}

#[instrument_metrics]
#[allow(clippy::unused_unit, clippy::semicolon_if_nothing_returned)]
fn explicit_unit_value() -> () {
    ()
}

#[instrument_metrics]
fn early_unit(flag: bool) {
    if flag {
        return;
    }
    let _ = flag;
}

#[instrument_metrics]
async fn async_nothing() {}

#[instrument_metrics]
#[allow(clippy::unused_unit)]
async fn async_explicit_unit() -> () {}

#[instrument_metrics]
fn unit_result(fail: bool) -> Result<(), String> {
    if fail {
        Err("failed".to_owned())?;
    }
    Ok(())
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Point {
    x: i32,
}

impl Point {
    #[instrument_metrics]
    #[must_use]
    pub fn origin() -> Self {
        Self { x: 0 }
    }

    #[instrument_metrics]
    #[must_use]
    pub fn moved(self, by: i32) -> Self {
        Self { x: self.x + by }
    }

    #[instrument_metrics]
    pub async fn async_new() -> Self {
        Self { x: 1 }
    }

    #[instrument_metrics]
    pub fn touch(&mut self) {
        self.x += 1;
    }
}

pub struct Builder {
    parts: Vec<String>,
}

#[instrument_metrics]
impl Builder {
    #[must_use]
    pub fn new() -> Self {
        Self { parts: Vec::new() }
    }

    #[must_use]
    pub fn part(mut self, p: &str) -> Self {
        self.parts.push(p.to_owned());
        self
    }

    pub fn clear(&mut self) {
        self.parts.clear();
    }

    pub fn try_new(ok: bool) -> Result<Self, String> {
        if ok {
            Ok(Self::new())
        } else {
            Err("no".to_owned())
        }
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

fn main() {
    nothing();
    let mut v = Vec::new();
    side_effect(&mut v);
    explicit_unit();
    explicit_unit_value();
    early_unit(true);
    early_unit(false);
    assert!(unit_result(true).is_err());
    assert!(unit_result(false).is_ok());
    let p = Point::origin().moved(2);
    assert_eq!(p, Point { x: 2 });
    let mut q = p;
    q.touch();
    assert_eq!(q.x, 3);
    let mut b = Builder::default().part("a");
    assert_eq!(b.parts.len(), 1);
    b.clear();
    assert!(Builder::try_new(false).is_err());
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        async_nothing().await;
        async_explicit_unit().await;
        assert_eq!(Point::async_new().await, Point { x: 1 });
    });
}
