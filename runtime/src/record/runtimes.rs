//! The tokio runtimes registered with `runtime::register_tokio`, by name. Nothing here is on
//! any task's path: the catalog reads each runtime's own counters at scrape time.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::runtime::Handle;

/// One registered runtime: its `runtime` label and a handle to read its metrics through.
#[derive(Clone)]
pub(crate) struct Registered {
    pub name: Arc<str>,
    pub handle: Handle,
}

static RUNTIMES: Mutex<Vec<Registered>> = Mutex::new(Vec::new());

/// Adds a runtime under `name`; `false` (and nothing changes) if the name is taken.
pub(crate) fn add(name: &str, handle: &Handle) -> bool {
    let mut runtimes = RUNTIMES.lock().unwrap_or_else(PoisonError::into_inner);
    if runtimes.iter().any(|r| &*r.name == name) {
        return false;
    }
    runtimes.push(Registered {
        name: Arc::from(name),
        handle: handle.clone(),
    });
    true
}

/// Forgets the runtime named `name`; whether there was one.
pub(crate) fn remove(name: &str) -> bool {
    let mut runtimes = RUNTIMES.lock().unwrap_or_else(PoisonError::into_inner);
    let before = runtimes.len();
    runtimes.retain(|r| &*r.name != name);
    runtimes.len() != before
}

/// Every runtime registered, in the order they were. Cloned out so that no scrape holds the
/// lock while it reads (a handle clone is a reference count).
pub(crate) fn all() -> Vec<Registered> {
    RUNTIMES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}
