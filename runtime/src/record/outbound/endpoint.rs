//! One endpoint (a server address and port) and its series: a fixed array of slots scanned by
//! a `u32` key (a short scan on the common path), then a locked list for the rare overflow; and
//! its calls in flight by method.

use std::sync::atomic::{AtomicI64, AtomicPtr, AtomicU16, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::record::http::METHODS;
use crate::record::outbound::series::{Series, Shape};

/// Series slots per endpoint before the (locked) overflow list: methods × statuses × endings
/// seen on one endpoint rarely pass a dozen.
const SLOTS: usize = 32;

/// One server address and port, its series and its calls in flight.
pub(crate) struct Endpoint {
    /// The `server_address` value.
    pub address: Box<str>,
    /// The port the endpoint is found by; 0 when the call's URI had neither port nor a known
    /// scheme.
    pub(super) port: u16,
    /// The `server_port` value: `None` for port 0 (no label).
    pub port_label: Option<Box<str>>,
    slots: [AtomicPtr<Series>; SLOTS],
    more: Mutex<Vec<&'static Series>>,
    pub(super) active: [AtomicI64; METHODS.len()],
    /// Bit `i` set once method `i` was seen, so idle methods are not exposed.
    pub(super) methods_seen: AtomicU16,
}

impl Endpoint {
    pub(super) fn new(address: &str, port: u16) -> Self {
        Self::labelled(address, port, (port != 0).then(|| port.to_string().into()))
    }

    /// The endpoint of every call past the limit: `_OTHER` address and port.
    pub(super) fn overflow(name: &str) -> Self {
        Self::labelled(name, 0, Some(name.into()))
    }

    fn labelled(address: &str, port: u16, port_label: Option<Box<str>>) -> Self {
        Endpoint {
            address: address.into(),
            port,
            port_label,
            slots: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
            more: Mutex::new(Vec::new()),
            active: std::array::from_fn(|_| AtomicI64::new(0)),
            methods_seen: AtomicU16::new(0),
        }
    }

    /// One more call of method `m` in flight.
    #[inline]
    pub(super) fn started(&self, m: usize) {
        if let Some(a) = self.active.get(m) {
            a.fetch_add(1, Ordering::Relaxed);
        }
        let bit = 1u16 << m;
        if self.methods_seen.load(Ordering::Relaxed) & bit == 0 {
            self.methods_seen.fetch_or(bit, Ordering::Relaxed);
        }
    }

    /// One call of method `m` no longer in flight.
    #[inline]
    pub(super) fn ended(&self, m: usize) {
        if let Some(a) = self.active.get(m) {
            a.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Calls in flight by method index, for the methods seen so far.
    pub(crate) fn active(&self) -> Vec<(u8, i64)> {
        let seen = self.methods_seen.load(Ordering::Relaxed);
        (0..METHODS.len())
            .filter(|i| seen & (1 << i) != 0)
            .filter_map(|i| {
                Some((
                    u8::try_from(i).ok()?,
                    self.active[i].load(Ordering::Relaxed),
                ))
            })
            .collect()
    }

    /// The series for `key`, created on first sight.
    #[inline]
    pub(super) fn series(&self, key: u32, shape: &Shape) -> &'static Series {
        let mut spare: Option<Box<Series>> = None;
        for slot in &self.slots {
            let p = slot.load(Ordering::Acquire);
            if !p.is_null() {
                // SAFETY: published pointers come from leaked boxes and are never freed.
                let s = unsafe { &*p };
                if s.key == key {
                    return s;
                }
                continue;
            }
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

    /// Every series of this endpoint, in the order they were first seen.
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
