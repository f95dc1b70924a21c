//! Methods, impl blocks and traits; labels `Type::method`; merging of coinciding labels.

use std::collections::HashMap;

use instrument_metrics::instrument_metrics;
use instrument_metrics_tests::{calls, parse};

struct Counter {
    n: u64,
}

impl Counter {
    #[instrument_metrics]
    fn new() -> Self {
        Counter { n: 0 }
    }

    #[instrument_metrics]
    fn get(&self) -> u64 {
        self.n
    }

    #[instrument_metrics]
    fn bump(&mut self) -> &mut u64 {
        self.n += 1;
        &mut self.n
    }

    #[instrument_metrics]
    fn into_inner(self) -> u64 {
        self.n
    }
}

#[test]
fn methods_with_every_receiver() {
    let mut c = Counter::new();
    *c.bump() += 10;
    assert_eq!(c.get(), 11);
    assert_eq!(c.into_inner(), 11);
    for f in ["get", "bump", "into_inner"] {
        assert_eq!(calls(f), [1, 0, 0, 0], "{f}");
    }
}

struct Cache<K, V> {
    map: HashMap<K, V>,
}

#[instrument_metrics]
impl<K: std::hash::Hash + Eq, V: Clone> Cache<K, V> {
    fn empty() -> Self {
        Cache {
            map: HashMap::new(),
        }
    }

    fn get(&self, k: &K) -> Result<V, &'static str> {
        self.map.get(k).cloned().ok_or("miss")
    }

    fn put(&mut self, k: K, v: V) {
        self.map.insert(k, v);
    }

    #[instrument_metrics(skip)]
    fn len(&self) -> usize {
        self.map.len()
    }

    #[instrument_metrics(name = "cache_clear")]
    fn clear(&mut self) {
        self.map.clear();
    }

    const fn capacity_hint() -> usize {
        16
    }
}

#[test]
fn impl_block_instruments_every_method() {
    let mut c: Cache<u8, String> = Cache::empty();
    c.put(1, "one".into());
    assert_eq!(c.get(&1), Ok("one".into()));
    assert_eq!(c.get(&2), Err("miss"));
    assert_eq!(c.len(), 1);
    c.clear();
    assert_eq!(Cache::<u8, String>::capacity_hint(), 16);
    assert_eq!(calls("Cache::empty"), [1, 0, 0, 0]);
    assert_eq!(calls("Cache::get"), [1, 1, 0, 0]);
    assert_eq!(calls("Cache::put"), [1, 0, 0, 0]);
    assert_eq!(calls("cache_clear"), [1, 0, 0, 0]);
    let text = instrument_metrics::render();
    let functions: Vec<String> = parse(&text)
        .into_iter()
        .filter(|s| s.name == "function_calls_total")
        .map(|s| s.labels["function"].clone())
        .collect();
    assert!(!functions.iter().any(|f| f == "Cache::len"), "skipped");
    assert!(
        !functions.iter().any(|f| f == "Cache::capacity_hint"),
        "const fn left alone"
    );
}

trait Shape {
    fn area(&self) -> f64;

    #[instrument_metrics]
    fn describe(&self) -> String {
        format!("area {}", self.area())
    }
}

struct Square(f64);

#[instrument_metrics]
impl Shape for Square {
    fn area(&self) -> f64 {
        self.0 * self.0
    }
}

struct Circle(f64);

impl Shape for Circle {
    #[instrument_metrics(name = "circle_area")]
    fn area(&self) -> f64 {
        3.0 * self.0 * self.0
    }
}

#[test]
fn trait_impls_and_default_methods() {
    assert_eq!(Square(2.0).describe(), "area 4");
    assert_eq!(Circle(1.0).describe(), "area 3");
    assert_eq!(calls("Square::area"), [1, 0, 0, 0]);
    assert_eq!(calls("circle_area"), [1, 0, 0, 0]);
    assert_eq!(calls("describe"), [2, 0, 0, 0]);
}

struct A;
struct B;

impl A {
    #[instrument_metrics]
    fn make() -> u8 {
        1
    }
}

impl B {
    #[instrument_metrics]
    fn make() -> u8 {
        2
    }
}

impl B {
    #[instrument_metrics(buckets = [0.5, 1.0])]
    fn made() -> u8 {
        3
    }
}

mod other {
    use instrument_metrics::instrument_metrics;
    pub struct C;
    impl C {
        #[instrument_metrics(name = "made", buckets = [0.1])]
        pub fn made_elsewhere() -> u8 {
            4
        }
    }
    pub struct D;
    impl D {
        #[instrument_metrics(name = "made", buckets = [0.2])]
        pub fn made_here_too() -> u8 {
            5
        }
    }
}

#[test]
fn coinciding_labels_merge_or_are_told_apart() {
    A::make();
    B::make();
    B::make();
    // Same function, module and buckets: one series counting both.
    assert_eq!(calls("make"), [3, 0, 0, 0]);
    let text = instrument_metrics::render();
    let samples = parse(&text);
    let mut seen = std::collections::HashSet::new();
    for s in &samples {
        let key = format!("{}{:?}", s.name, s.labels);
        assert!(seen.insert(key.clone()), "duplicate series {key}");
    }
    other::C::made_elsewhere();
    other::D::made_here_too();
    // Same labels, different buckets: the later one is renamed by source location.
    let made: Vec<String> = samples
        .iter()
        .filter(|s| {
            s.name == "function_calls_total"
                && s.labels["result"] == "ok"
                && s.labels["module"] == "methods::other"
        })
        .map(|s| s.labels["function"].clone())
        .collect();
    assert_eq!(made.len(), 2, "{made:?}");
    assert!(made.contains(&"made".to_owned()));
    assert!(
        made.iter()
            .any(|f| f.starts_with("made@") && f.contains("methods.rs:")),
        "{made:?}"
    );
}

macro_rules! stamp {
    ($($ty:ident $bound:literal),*) => {
        $(
            pub struct $ty;
            impl $ty {
                #[instrument_metrics(name = "stamped", buckets = [$bound])]
                pub fn make() -> u8 { 0 }
            }
        )*
    };
}

mod stamped {
    use instrument_metrics::instrument_metrics;
    stamp!(P 0.1, Q 0.2, R 0.3);
}

#[test]
fn sites_stamped_out_on_one_line_stay_distinct() {
    stamped::P::make();
    stamped::Q::make();
    stamped::R::make();
    let samples = parse(&instrument_metrics::render());
    let mut seen = std::collections::HashSet::new();
    for s in &samples {
        assert!(
            seen.insert(format!("{}{:?}", s.name, s.labels)),
            "duplicate series {} {:?}",
            s.name,
            s.labels
        );
    }
    let mut functions: Vec<&str> = samples
        .iter()
        .filter(|s| {
            s.name == "function_calls_total"
                && s.labels["result"] == "ok"
                && s.labels["module"] == "methods::stamped"
        })
        .map(|s| s.labels["function"].as_str())
        .collect();
    functions.sort_unstable();
    assert_eq!(functions.len(), 3, "{functions:?}");
    assert_eq!(functions[0], "stamped");
    assert!(
        functions[1].starts_with("stamped@") && functions[2].starts_with("stamped@"),
        "{functions:?}"
    );
    for f in &functions {
        assert_eq!(calls(f), [1, 0, 0, 0], "{f}");
    }
}
