//! What one set of constant labels measures: bounds, routes interned once (bounded: past the
//! limit every new value shares `_OTHER`), a remembered-address fast path for stable route
//! strings, and requests in flight by method.
#![cfg_attr(not(any(feature = "tower", feature = "actix-web")), allow(dead_code))]

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicPtr, AtomicU16, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

use crate::record::http::route::Route;
use crate::record::http::series::Shape;
use crate::record::http::vocabulary::{METHODS, OVERFLOW_ROUTE, UNMATCHED_ROUTE};
use crate::record::native::{self, Histograms};
use crate::record::slots::{self, Slot};

/// A remembered (address, length) of a route string whose storage outlives requests (axum's
/// matched path), so the next request with it skips the interning map.
struct Remembered {
    addr: usize,
    len: usize,
    route: &'static Route,
    /// What keeps the text at `addr` alive and unchanged (a clone of axum's `Arc<str>`): while
    /// it does, the address and length alone identify the text. `None`: compared by content.
    keep: Option<Keep>,
}

/// An owner of a route string's storage; see [`Table::route_kept`].
pub(crate) type Keep = Box<dyn std::any::Any + Send + Sync>;

const REMEMBERED: usize = 256;

/// What a set of constant labels measures: bounds, routes and the in-flight gauge.
pub(crate) struct Table {
    /// Constant labels, in the order given.
    pub labels: Vec<(String, String)>,
    pub duration_bounds_seconds: Vec<f64>,
    pub(super) duration_bounds_nanos: Vec<u64>,
    pub size_bounds: Vec<u64>,
    route_limit: usize,
    /// The builder's `histograms(…)`; `None` follows [`set_default_histograms`](crate::set_default_histograms).
    pub histograms: Option<Histograms>,
    remembered: Box<[AtomicPtr<Remembered>]>,
    by_name: RwLock<HashMap<Box<str>, &'static Route>>,
    /// Every route, in the order first seen (the overflow route first, unused until needed).
    order: Mutex<Vec<&'static Route>>,
    overflow: &'static Route,
    /// The route of requests without a template; outside the map, never counted against the limit.
    unmatched: &'static Route,
    /// Requests whose route value came past the limit (counted per request).
    pub route_overflows: AtomicU64,
    /// Requests in flight by method, one line per thread slot (summed when read).
    active: Box<[Active]>,
    /// Bit `i` set once method `i` was seen, so idle methods are not exposed.
    pub(super) methods_seen: AtomicU16,
    /// With `polls`: the threshold of a slow poll, in nanoseconds; `None`: busy time is not kept.
    pub slow_poll_nanos: Option<u64>,
}

/// One thread slot's requests in flight by method, on a line of its own.
#[repr(align(128))]
struct Active([AtomicI64; METHODS.len()]);

/// Every table, in the order created; what the exposition reads.
static TABLES: Mutex<Vec<&'static Table>> = Mutex::new(Vec::new());

/// Every table created so far.
pub(crate) fn tables() -> Vec<&'static Table> {
    TABLES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// The table for these constant labels: the existing one (whose bounds then apply) or a new one.
/// `Err` gives that table and what differs when it has other bounds.
pub(crate) fn table(
    labels: Vec<(String, String)>,
    duration_bounds_seconds: Vec<f64>,
    size_bounds: Vec<u64>,
    route_limit: usize,
    histograms: Option<Histograms>,
    slow_poll_nanos: Option<u64>,
) -> Result<&'static Table, (&'static Table, String)> {
    let mut all = TABLES.lock().unwrap_or_else(PoisonError::into_inner);
    let mut sorted = labels.clone();
    sorted.sort();
    for t in all.iter() {
        let mut theirs = t.labels.clone();
        theirs.sort();
        if theirs == sorted {
            if t.duration_bounds_seconds != duration_bounds_seconds
                || t.size_bounds != size_bounds
                || t.route_limit != route_limit
                || t.histograms != histograms
                || t.slow_poll_nanos != slow_poll_nanos
            {
                return Err((
                    t,
                    "HTTP metrics with these constant labels already exist with other buckets, route limit, histogram kind or polls; \
                     give this one a distinguishing label"
                        .to_owned(),
                ));
            }
            return Ok(t);
        }
    }
    let overflow: &'static Route = Box::leak(Box::new(Route::new(OVERFLOW_ROUTE)));
    let unmatched: &'static Route = Box::leak(Box::new(Route::new(UNMATCHED_ROUTE)));
    let table: &'static Table = Box::leak(Box::new(Table {
        labels,
        duration_bounds_nanos: duration_bounds_seconds
            .iter()
            .map(|s| seconds_to_nanos(*s))
            .collect(),
        duration_bounds_seconds,
        size_bounds,
        route_limit,
        histograms,
        remembered: (0..REMEMBERED)
            .map(|_| AtomicPtr::new(std::ptr::null_mut()))
            .collect(),
        by_name: RwLock::new(HashMap::new()),
        order: Mutex::new(vec![overflow, unmatched]),
        overflow,
        unmatched,
        route_overflows: AtomicU64::new(0),
        active: (0..slots::layout().total())
            .map(|_| Active(std::array::from_fn(|_| AtomicI64::new(0))))
            .collect(),
        methods_seen: AtomicU16::new(0),
        slow_poll_nanos,
    }));
    all.push(table);
    Ok(table)
}

fn seconds_to_nanos(s: f64) -> u64 {
    // Bounds are validated finite and positive; the cast saturates beyond u64.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = (s * 1e9).round() as u64;
    n
}

impl Table {
    /// How this table's durations are exposed now.
    pub(crate) fn histograms(&self) -> Histograms {
        self.histograms.unwrap_or_else(native::default_histograms)
    }

    /// The route for `name`. With `stable`, the caller promises that `name`'s storage lives
    /// across requests, which lets the lookup skip the map: the remembered entry is still
    /// checked by content, so reused memory can never mislabel.
    #[inline]
    pub(crate) fn route(&self, name: &str, stable: bool) -> &'static Route {
        if stable {
            self.remembered(name, None::<fn() -> Keep>)
        } else {
            self.intern(name)
        }
    }

    /// The route for `name`, whose storage what `keep()` returns owns and never changes
    /// (axum's matched path, an `Arc<str>`: `keep` clones it). Kept with the remembered entry,
    /// it guarantees that no other text ever sits at that address, so a request with the same
    /// address and length is recognised without comparing the text.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    #[inline]
    pub(crate) fn route_kept(&self, name: &str, keep: impl FnOnce() -> Keep) -> &'static Route {
        self.remembered(name, Some(keep))
    }

    #[inline]
    fn remembered(&self, name: &str, keep: Option<impl FnOnce() -> Keep>) -> &'static Route {
        let addr = name.as_ptr() as usize;
        // Fibonacci hashing of an address: a multiply and a shift, not a hash of the text.
        let i = (addr >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize)
            >> (usize::BITS - REMEMBERED.trailing_zeros());
        let Some(slot) = self.remembered.get(i) else {
            return self.intern(name);
        };
        let p = slot.load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: remembered entries are leaked boxes, never freed.
            let r = unsafe { &*p };
            if r.addr == addr && r.len == name.len() && (r.keep.is_some() || *r.route.name == *name)
            {
                return r.route;
            }
        }
        self.remember(slot, p.is_null(), name, keep)
    }

    /// The route for `name` when its remembered slot did not know it; remembered if the slot
    /// is `free`.
    #[cold]
    #[inline(never)]
    fn remember(
        &self,
        slot: &AtomicPtr<Remembered>,
        free: bool,
        name: &str,
        keep: Option<impl FnOnce() -> Keep>,
    ) -> &'static Route {
        let route = self.intern(name);
        // The overflow route's name never equals the text: remembering it would only waste
        // the slot.
        if free && !std::ptr::eq(route, self.overflow) {
            let entry = Box::into_raw(Box::new(Remembered {
                addr: name.as_ptr() as usize,
                len: name.len(),
                route,
                keep: keep.map(|k| k()),
            }));
            if slot
                .compare_exchange(
                    std::ptr::null_mut(),
                    entry,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_err()
            {
                // SAFETY: not published; still ours.
                drop(unsafe { Box::from_raw(entry) });
            }
        }
        route
    }

    /// The route of requests without a template.
    #[inline]
    pub(crate) fn unmatched(&self) -> &'static Route {
        self.unmatched
    }

    fn intern(&self, name: &str) -> &'static Route {
        // The two shared values are one route each, whoever names them (a custom extraction
        // returning "_unmatched" must not make a second series of that name).
        match name {
            UNMATCHED_ROUTE => return self.unmatched,
            OVERFLOW_ROUTE => return self.overflow,
            _ => {}
        }
        {
            let map = self.by_name.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(r) = map.get(name) {
                return r;
            }
            // The map only grows: full under the read lock stays full, no write lock needed.
            if map.len() >= self.route_limit {
                self.route_overflows.fetch_add(1, Ordering::Relaxed);
                return self.overflow;
            }
        }
        let mut map = self.by_name.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = map.get(name) {
            return r;
        }
        if map.len() >= self.route_limit {
            self.route_overflows.fetch_add(1, Ordering::Relaxed);
            return self.overflow;
        }
        let route: &'static Route = Box::leak(Box::new(Route::new(name)));
        map.insert(name.into(), route);
        self.order
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(route);
        route
    }

    /// Every route, in the order first seen.
    pub(crate) fn routes(&self) -> Vec<&'static Route> {
        self.order
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Requests in flight by method index, for the methods seen so far.
    pub(crate) fn active(&self) -> Vec<(u8, i64)> {
        let seen = self.methods_seen.load(Ordering::Relaxed);
        (0..METHODS.len())
            .filter(|i| seen & (1 << i) != 0)
            .filter_map(|i| {
                let n = self
                    .active
                    .iter()
                    .fold(0i64, |n, a| n.wrapping_add(a.0[i].load(Ordering::Relaxed)));
                Some((u8::try_from(i).ok()?, n))
            })
            .collect()
    }

    /// Adds `n` to the requests in flight with method `m` (an index in [`METHODS`]), in the
    /// line of `slot` (this thread's): a plain read and write when the thread owns it, else
    /// atomic.
    #[inline]
    pub(super) fn add_active(&self, slot: Slot, m: u8, n: i64) {
        if let Some(a) = self
            .active
            .get(slot.index)
            .and_then(|a| a.0.get(usize::from(m)))
        {
            if slot.owned {
                a.store(a.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
            } else {
                a.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// What a series of this table is made of now.
    pub(super) fn shape(&self) -> Shape {
        Shape {
            duration_bounds: self.duration_bounds_nanos.len(),
            size_bounds: self.size_bounds.len(),
            native: self.histograms().native(),
        }
    }
}
