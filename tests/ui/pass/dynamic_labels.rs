//! Dynamic labels and error kinds on every fn shape, under the strictest lint set.
#![deny(warnings, clippy::all, clippy::pedantic)]
#![allow(clippy::unused_async, clippy::unnecessary_wraps)]

use instrument_metrics::{instrument_metrics, LabelValue};

#[derive(LabelValue, Clone, Copy)]
pub enum Tier {
    Free,
    #[label_value(rename = "paid")]
    Pro(u32),
    Team { seats: u32 },
}

#[derive(LabelValue)]
pub enum Wrapped<T> {
    One(T),
    Two,
}

#[derive(LabelValue, Debug)]
pub enum StoreError {
    NotFound,
    Conflict { version: u64 },
}

pub struct Account {
    pub tier: Tier,
    pub cached: bool,
}

#[instrument_metrics(labels(team = "shop", tier = account.tier, cached = account.cached))]
pub fn free_fn(account: &Account) -> u32 {
    1
}

#[instrument_metrics(labels(tenant = bounded(tenant, 50), hit = |r| r.is_some()))]
pub fn bounded_and_result(tenant: &str) -> Option<u8> {
    tenant.bytes().next()
}

#[instrument_metrics(labels(owner = bounded(owner, 5)))]
pub fn bounded_owned(owner: String) -> String {
    owner
}

#[instrument_metrics(labels(size = bounded(|r| if r.len() > 3 { "long" } else { "short" }, 2)))]
pub fn bounded_result(s: &str) -> String {
    s.to_owned()
}

#[instrument_metrics(labels(first = x, second = *y > 0))]
pub fn destructured((x, y): (bool, i32), _: u8) -> i32 {
    y
}

#[instrument_metrics(labels(mode = flag))]
pub fn moved_and_mutated(mut flag: bool, v: Vec<u8>) -> usize {
    flag = !flag;
    usize::from(flag) + v.len()
}

#[instrument_metrics(error_kind)]
pub fn io_result(path: &str) -> std::io::Result<usize> {
    std::fs::read(path).map(|v| v.len())
}

#[instrument_metrics(error_kind, labels(tier = tier))]
pub fn store(tier: Tier) -> Result<(), StoreError> {
    match tier {
        Tier::Free => Err(StoreError::NotFound),
        Tier::Pro(_) => Err(StoreError::Conflict { version: 1 }),
        Tier::Team { .. } => Ok(()),
    }
}

#[instrument_metrics(error_kind, labels(tier = tier))]
pub async fn async_store(tier: Tier) -> Result<(), StoreError> {
    store(tier)
}

#[instrument_metrics(labels(tier = tier, ok = |r| r.is_ok()))]
pub fn tail_future(tier: Tier) -> impl std::future::Future<Output = Result<u8, String>> {
    async move {
        match tier {
            Tier::Free => Err("free".to_owned()),
            _ => Ok(1),
        }
    }
}

#[instrument_metrics(labels(kind: Tier = (*kind).into()))]
pub fn generic<K: Into<Tier> + Copy>(kind: K) -> u8 {
    let _ = kind.into();
    1
}

#[instrument_metrics(labels(flag = flag))]
pub fn diverges(flag: bool) -> ! {
    panic!("{flag}")
}

#[instrument_metrics(labels(flag = flag))]
pub fn unit(flag: bool) {
    let _ = flag;
}

#[instrument_metrics(labels(wrapped = w))]
pub fn generic_enum(w: &Wrapped<u8>) -> u8 {
    match w {
        Wrapped::One(v) => *v,
        Wrapped::Two => 2,
    }
}

impl From<bool> for Tier {
    fn from(b: bool) -> Self {
        if b {
            Tier::Pro(1)
        } else {
            Tier::Free
        }
    }
}

pub struct Repo {
    tier: Tier,
}

#[instrument_metrics(error_kind, labels(team = "data"))]
impl Repo {
    pub fn new() -> Result<Self, StoreError> {
        Ok(Repo { tier: Tier::Free })
    }

    pub fn len(&self) -> usize {
        0
    }

    pub fn parse(&self, s: &str) -> Result<u8, std::num::ParseIntError> {
        s.parse()
    }

    #[instrument_metrics(labels(tier: Tier = self.tier, hit: bool = |r| r.is_ok()))]
    pub fn by_tier(&self) -> Result<u8, StoreError> {
        Ok(1)
    }

    #[instrument_metrics(labels(tier = tier))]
    pub async fn charge(&self, tier: Tier) -> std::io::Result<()> {
        let _ = tier;
        Ok(())
    }
}

fn main() {
    let account = Account { tier: Tier::Team { seats: 3 }, cached: true };
    free_fn(&account);
    bounded_and_result("t");
    bounded_owned("o".into());
    bounded_result("abcd");
    destructured((true, 2), 0);
    moved_and_mutated(false, vec![1]);
    let _ = io_result("/nonexistent");
    let _ = store(Tier::Pro(2));
    drop(async_store(Tier::Free));
    drop(tail_future(Tier::Free));
    generic(true);
    unit(false);
    generic_enum(&Wrapped::Two);
    let repo = Repo::new().unwrap();
    let _ = (repo.len(), repo.parse("1"), repo.by_tier());
    drop(repo.charge(Tier::Free));
    let _ = diverges;
}
