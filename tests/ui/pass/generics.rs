//! Generic functions (type, lifetime and const parameters, where clauses) and a generic
//! impl block.
#![deny(warnings)]
#![deny(clippy::pedantic)]

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;

use instrument_metrics::instrument_metrics;

#[instrument_metrics]
fn pick<'a, T, const N: usize>(items: &'a [T; N], index: usize) -> Option<&'a T>
where
    T: Debug + 'a,
{
    items.get(index)
}

#[instrument_metrics]
fn longest<'a, 'b: 'a>(a: &'a str, b: &'b str) -> &'a str {
    if a.len() >= b.len() {
        a
    } else {
        b
    }
}

#[instrument_metrics]
fn sum_all<I>(items: I) -> i64
where
    I: IntoIterator,
    I::Item: Into<i64>,
{
    items.into_iter().map(Into::into).sum()
}

#[instrument_metrics]
fn zeros<const N: usize>() -> [u8; N] {
    [0; N]
}

#[instrument_metrics]
fn parse_as<T: std::str::FromStr>(s: &str) -> Result<T, T::Err> {
    s.parse()
}

pub struct Cache<K, V> {
    map: HashMap<K, V>,
}

#[instrument_metrics]
impl<K, V> Cache<K, V>
where
    K: Eq + Hash,
    V: Clone,
{
    #[must_use]
    pub fn new() -> Self {
        Self { map: HashMap::new() }
    }

    pub fn put(&mut self, k: K, v: V) -> Option<V> {
        self.map.insert(k, v)
    }

    #[must_use]
    pub fn get(&self, k: &K) -> Option<V> {
        self.map.get(k).cloned()
    }

    pub fn get_ref<'a>(&'a self, k: &K) -> Option<&'a V> {
        self.map.get(k)
    }

    #[must_use]
    pub fn map_values<W, F: Fn(&V) -> W>(&self, f: F) -> Vec<W> {
        self.map.values().map(f).collect()
    }
}

impl<K: Eq + Hash, V: Clone> Default for Cache<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

pub struct Wrapper<'a, T: ?Sized, const N: usize>(&'a T);

#[instrument_metrics]
impl<'a, T: ?Sized + Debug, const N: usize> Wrapper<'a, T, N> {
    #[must_use]
    pub fn inner(&self) -> &'a T {
        self.0
    }

    #[must_use]
    pub fn size() -> usize {
        N
    }
}

fn main() {
    assert_eq!(pick(&[1, 2, 3], 1), Some(&2));
    assert_eq!(longest("ab", "abc"), "abc");
    assert_eq!(sum_all(vec![1_i32, 2, 3]), 6);
    assert_eq!(sum_all([4_u8]), 4);
    assert_eq!(zeros::<3>(), [0, 0, 0]);
    assert_eq!(parse_as::<u8>("7"), Ok(7));
    assert!(parse_as::<u8>("x").is_err());

    let mut cache: Cache<String, u32> = Cache::default();
    assert_eq!(cache.put("a".to_owned(), 1), None);
    assert_eq!(cache.get(&"a".to_owned()), Some(1));
    assert_eq!(cache.get_ref(&"a".to_owned()), Some(&1));
    assert_eq!(cache.map_values(|v| v * 2), vec![2]);

    let w: Wrapper<'_, str, 4> = Wrapper("hi");
    assert_eq!(w.inner(), "hi");
    assert_eq!(Wrapper::<str, 4>::size(), 4);

    let text = instrument_metrics::render();
    assert!(text.contains("function=\"Cache::put\""));
    assert!(text.contains("function=\"Wrapper::size\""));
    assert!(text.contains("function=\"pick\""));
}
