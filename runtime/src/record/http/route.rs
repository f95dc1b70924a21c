//! One route value and its series: a fixed array of slots scanned by a `u32` key (a pointer
//! compare and a short scan on the common path), then a locked list for the rare overflow.
#![cfg_attr(not(any(feature = "tower", feature = "actix-web")), allow(dead_code))]

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::record::busy::BusyCells;
use crate::record::http::series::{Series, Shape};
use crate::record::http::vocabulary::METHODS;

/// Series slots per route before the (locked) overflow list: methods × statuses × endings
/// seen on one route rarely pass a dozen.
const SLOTS: usize = 64;

/// One route value and its series.
pub(crate) struct Route {
    pub name: Box<str>,
    slots: [AtomicPtr<Series>; SLOTS],
    more: Mutex<Vec<&'static Series>>,
    /// With `polls`: busy time by method, made at the route's first request.
    busy: OnceLock<Box<[BusyCells]>>,
}

impl Route {
    pub(super) fn new(name: &str) -> Self {
        Route {
            name: name.into(),
            slots: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
            more: Mutex::new(Vec::new()),
            busy: OnceLock::new(),
        }
    }

    /// The busy-time cells of `method`'s requests, for `bounds` duration buckets.
    pub(crate) fn busy_cells(&self, method: u8, bounds: usize) -> &BusyCells {
        let all = self
            .busy
            .get_or_init(|| (0..METHODS.len()).map(|_| BusyCells::new(bounds)).collect());
        &all[usize::from(method).min(METHODS.len() - 1)]
    }

    /// The busy-time cells by method, if a request with `polls` on was recorded.
    pub(crate) fn busy_by_method(&self) -> Option<&[BusyCells]> {
        self.busy.get().map(|b| &**b)
    }

    /// The series for `key`, created (of `shape()`) on first sight.
    #[inline]
    pub(super) fn series(&self, key: u32, shape: impl FnOnce() -> Shape) -> &'static Series {
        // Slots are filled in order: the first empty one ends the series seen so far.
        for slot in &self.slots {
            let p = slot.load(Ordering::Acquire);
            if p.is_null() {
                break;
            }
            // SAFETY: published pointers come from leaked boxes and are never freed.
            let s = unsafe { &*p };
            if s.key == key {
                return s;
            }
        }
        self.add_series(key, &shape())
    }

    /// The series for `key` when the scan did not find it: made, or found again if another
    /// thread made it meanwhile.
    #[cold]
    #[inline(never)]
    fn add_series(&self, key: u32, shape: &Shape) -> &'static Series {
        let mut spare: Option<Box<Series>> = None;
        for slot in &self.slots {
            let p = slot.load(Ordering::Acquire);
            if p.is_null() {
                let new = Box::into_raw(
                    spare
                        .take()
                        .unwrap_or_else(|| Box::new(Series::new(key, shape))),
                );
                match slot.compare_exchange(
                    std::ptr::null_mut(),
                    new,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    // SAFETY: `new` came from `Box::into_raw` and now lives in the slot forever.
                    Ok(_) => return unsafe { &*new },
                    Err(other) => {
                        // SAFETY: `new` was not published; we still own it.
                        spare = Some(unsafe { Box::from_raw(new) });
                        // SAFETY: published pointers come from leaked boxes and are never freed.
                        let other = unsafe { &*other };
                        if other.key == key {
                            return other;
                        }
                    }
                }
            } else {
                // SAFETY: published pointers come from leaked boxes and are never freed.
                let s = unsafe { &*p };
                if s.key == key {
                    return s;
                }
            }
        }
        let mut more = self.more.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = more.iter().find(|s| s.key == key) {
            return s;
        }
        let s: &'static Series =
            Box::leak(spare.unwrap_or_else(|| Box::new(Series::new(key, shape))));
        more.push(s);
        s
    }

    /// Every series of this route, in the order they were first seen.
    pub(crate) fn all_series(&self) -> Vec<&'static Series> {
        let mut out: Vec<&'static Series> = self
            .slots
            .iter()
            .map(|s| s.load(Ordering::Acquire))
            .take_while(|p| !p.is_null())
            // SAFETY: published pointers come from leaked boxes and are never freed.
            .map(|p| unsafe { &*p })
            .collect();
        out.extend(
            self.more
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter(),
        );
        out
    }
}
