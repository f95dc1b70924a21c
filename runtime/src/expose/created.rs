//! When our counters and histograms started from zero: the moment the program's constructors
//! ran, before `main` and so before any instrumented call. Prometheus reads it as the
//! `created_timestamp` of a protobuf counter or histogram.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::expose::snapshot::Created;

static STARTED: OnceLock<Created> = OnceLock::new();

// Before `main`: one clock read, nothing else.
#[ctor::ctor(unsafe)]
fn note_start() {
    if let Some(now) = now() {
        let _ = STARTED.set(now);
    }
}

fn now() -> Option<Created> {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    Some(Created {
        seconds: i64::try_from(since.as_secs()).ok()?,
        nanos: i32::try_from(since.subsec_nanos()).ok()?,
    })
}

/// The counters' start, or `None` if the constructor did not run (a later time would be
/// wrong: counts from before it would look like they came after).
pub(crate) fn started() -> Option<Created> {
    STARTED.get().copied()
}
