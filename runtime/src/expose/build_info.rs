//! `app_build_info{name, version} 1`: which build of the application is running. The labels
//! come from the application's own crate, through [`build_info!`](crate::build_info!), which
//! expands `env!("CARGO_PKG_NAME")` and `env!("CARGO_PKG_VERSION")` in the caller's crate.

use crate::error::Error;
use crate::expose::catalog::Group;
use crate::expose::registry::register_group;
use crate::record::builds;

/// Registers `app_build_info{name="<your crate>",version="<its version>"} 1` in
/// [`registry`](crate::registry()). Call it once, from the application (not from a library):
/// the name and version are those of the crate where the macro is written.
///
/// ```
/// instrument_metrics::build_info!().unwrap();
/// let text = instrument_metrics::render();
/// assert!(text.lines().any(|l| l.starts_with("app_build_info{name=\"instrument-metrics\",version=\"") && l.ends_with("} 1")));
/// ```
#[macro_export]
macro_rules! build_info {
    () => {
        $crate::__private::register_build_info(
            ::core::env!("CARGO_PKG_NAME"),
            ::core::env!("CARGO_PKG_VERSION"),
        )
    };
}

/// What [`build_info!`](crate::build_info!) calls. Registering the same build twice is fine.
///
/// # Errors
/// [`Error::Prometheus`] if the registry already holds another `app_build_info`.
pub fn register_build_info(name: &str, version: &str) -> Result<(), Error> {
    register_group(Group::BuildInfo)?;
    builds::add(name, version);
    Ok(())
}
