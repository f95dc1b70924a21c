//! The application builds registered with `build_info!` (one, unless an application
//! registers twice), read by the catalog as `app_build_info`.

use std::sync::{Mutex, PoisonError};

static BUILDS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Adds a build once.
pub(crate) fn add(name: &str, version: &str) {
    let mut builds = BUILDS.lock().unwrap_or_else(PoisonError::into_inner);
    if !builds.iter().any(|(n, v)| n == name && v == version) {
        builds.push((name.to_owned(), version.to_owned()));
    }
}

/// Every build registered, in order.
pub(crate) fn all() -> Vec<(String, String)> {
    BUILDS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}
