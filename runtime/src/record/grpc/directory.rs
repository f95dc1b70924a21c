//! Every method calls are counted under: those the registered descriptors declare (found by a
//! binary search of their paths, no lock), those nobody declared (interned up to a limit when
//! no descriptor was registered), and the two shared values.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

use crate::record::grpc::descriptors::Declared;
use crate::record::grpc::method::Method;
use crate::record::grpc::vocabulary::{split_path, MethodType, OVERFLOW, UNMATCHED};

/// Distinct undeclared methods kept (when no descriptor is registered); more share `_OTHER`.
pub(crate) const UNDECLARED_LIMIT: usize = 200;

/// Paths and their methods, sorted by [`by_path`].
type Paths = Vec<(&'static str, &'static Method)>;

/// The order of the path lists: by length, then by bytes. A lookup compares lengths first and
/// the bytes only of paths as long as the one sought (of a service's methods, a few at most).
#[inline]
fn by_path(listed: &str, sought: &str) -> std::cmp::Ordering {
    listed
        .len()
        .cmp(&sought.len())
        .then_with(|| listed.as_bytes().cmp(sought.as_bytes()))
}

static DECLARED: AtomicPtr<Paths> = AtomicPtr::new(std::ptr::null_mut());
static UNDECLARED: RwLock<Paths> = RwLock::new(Vec::new());
/// Every method, in the order first declared or seen; what the catalog reads.
static ORDER: Mutex<Vec<&'static Method>> = Mutex::new(Vec::new());
static UNMATCHED_METHOD: Method = Method::new(UNMATCHED, UNMATCHED, MethodType::Unknown, false);
static OVERFLOW_METHOD: Method = Method::new(OVERFLOW, OVERFLOW, MethodType::Unknown, false);
/// Undeclared calls counted as `_OTHER` because the limit was reached.
pub(crate) static OVERFLOWS: AtomicU64 = AtomicU64::new(0);
/// Set when a server layer is made: declared methods are then exposed at 0.
static SERVING: AtomicBool = AtomicBool::new(false);

/// Declares methods (from a descriptor set). Already declared paths keep their method (and
/// their counts); a path declared again with another kind is an `Err`.
pub(crate) fn declare(methods: &[Declared]) -> Result<(), String> {
    let mut order = ORDER.lock().unwrap_or_else(PoisonError::into_inner);
    let old = declared();
    let mut paths: Paths = old.to_vec();
    for d in methods {
        let path = format!("/{}/{}", d.service, d.method);
        match paths.binary_search_by(|(p, _)| by_path(p, &path)) {
            Ok(i) => {
                if paths[i].1.kind != d.kind {
                    return Err(format!(
                        "{path} is already declared as {}, not {}",
                        paths[i].1.kind.label(),
                        d.kind.label()
                    ));
                }
            }
            Err(i) => {
                let method: &'static Method = Box::leak(Box::new(Method::new(
                    Box::leak(d.service.clone().into_boxed_str()),
                    Box::leak(d.method.clone().into_boxed_str()),
                    d.kind,
                    true,
                )));
                paths.insert(i, (Box::leak(path.into_boxed_str()), method));
                order.push(method);
            }
        }
    }
    // The old list stays readable by calls that loaded it (leaked: declarations are few).
    DECLARED.store(Box::into_raw(Box::new(paths)), Ordering::Release);
    Ok(())
}

fn declared() -> &'static [(&'static str, &'static Method)] {
    let p = DECLARED.load(Ordering::Acquire);
    if p.is_null() {
        &[]
    } else {
        // SAFETY: published lists are leaked boxes, never freed.
        unsafe { &*p }
    }
}

/// The method a request path is counted under.
#[inline]
pub(crate) fn find(path: &str) -> &'static Method {
    let declared = declared();
    if !declared.is_empty() {
        return match declared.binary_search_by(|(p, _)| by_path(p, path)) {
            Ok(i) => declared[i].1,
            Err(_) => unmatched(),
        };
    }
    undeclared(path)
}

fn unmatched() -> &'static Method {
    remember(&UNMATCHED_METHOD);
    &UNMATCHED_METHOD
}

/// Without descriptors: each `/service/method` path is its own method (kind unknown), up to
/// the limit.
fn undeclared(path: &str) -> &'static Method {
    {
        let known = UNDECLARED.read().unwrap_or_else(PoisonError::into_inner);
        if let Ok(i) = known.binary_search_by(|(p, _)| by_path(p, path)) {
            return known[i].1;
        }
    }
    let Some((service, name)) = split_path(path) else {
        return unmatched();
    };
    let mut known = UNDECLARED.write().unwrap_or_else(PoisonError::into_inner);
    match known.binary_search_by(|(p, _)| by_path(p, path)) {
        Ok(i) => known[i].1,
        Err(_) if known.len() >= UNDECLARED_LIMIT => {
            OVERFLOWS.fetch_add(1, Ordering::Relaxed);
            remember(&OVERFLOW_METHOD);
            &OVERFLOW_METHOD
        }
        Err(i) => {
            let method: &'static Method = Box::leak(Box::new(Method::new(
                Box::leak(service.into()),
                Box::leak(name.into()),
                MethodType::Unknown,
                false,
            )));
            known.insert(i, (Box::leak(path.into()), method));
            drop(known);
            remember(method);
            method
        }
    }
}

/// Puts a shared method in the catalog's list at its first use.
fn remember(method: &'static Method) {
    if method
        .counts(crate::record::grpc::Side::Server)
        .seen
        .load(Ordering::Relaxed)
        || method
            .counts(crate::record::grpc::Side::Client)
            .seen
            .load(Ordering::Relaxed)
    {
        return;
    }
    let mut order = ORDER.lock().unwrap_or_else(PoisonError::into_inner);
    if !order.iter().any(|m| std::ptr::eq(*m, method)) {
        order.push(method);
    }
}

/// A server layer exists: declared methods are exposed from now on.
pub(crate) fn serving() {
    SERVING.store(true, Ordering::Relaxed);
}

pub(crate) fn is_serving() -> bool {
    SERVING.load(Ordering::Relaxed)
}

/// Every method, in the order declared or first seen.
pub(crate) fn methods() -> Vec<&'static Method> {
    ORDER.lock().unwrap_or_else(PoisonError::into_inner).clone()
}
