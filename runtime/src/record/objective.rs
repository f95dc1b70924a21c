//! Which call sites serve which objective: a side table, not a label.
//!
//! `#[instrument_metrics(objective = "checkout")]` registers one [`ObjectiveSite`] beside the
//! function's call site, in a distributed slice of its own. Nothing is added to the call site
//! or to its series: the objective never reaches the exposition, and the rules generated from
//! it ([`slo`](crate::slo)) select the function's series by `function` and `module`.
//!
//! Why not a label: every series of the function would carry it (each `result` counter and
//! every histogram bucket), the index and each sample's label set grow with it, and moving a
//! function from one objective to another, or renaming an objective, would end its series and
//! start new ones (breaking `rate()` across the deploy and every dashboard that kept the old
//! value). As a side table it costs no series and no bytes per sample: reassigning a function
//! only changes the generated rules.

use crate::record::site::Site;

/// Every `(objective, call site)` pair in the program, collected by the linker.
#[linkme::distributed_slice]
pub static OBJECTIVE_SITES: [ObjectiveSite];

/// One call site carrying an objective, as the macro registers it.
pub struct ObjectiveSite {
    /// The objective's name, as written in `objective = "…"` (checked by the macro).
    pub objective: &'static str,
    /// The call site of the function.
    pub site: &'static dyn Site,
}

/// The objectives a call site carries (usually one; a merged series may carry several).
pub(crate) fn objectives_of(site: &'static dyn Site) -> impl Iterator<Item = &'static str> {
    OBJECTIVE_SITES
        .iter()
        .filter(move |o| std::ptr::addr_eq(o.site, site))
        .map(|o| o.objective)
}

/// Registers `$site` (a call site static) under the objective `$objective` in
/// [`OBJECTIVE_SITES`], placed in the slice's link section directly on ELF targets, as
/// [`register_site!`](crate::__instrument_metrics_register_site) does.
#[doc(hidden)]
#[macro_export]
macro_rules! __instrument_metrics_register_objective {
    ($site:ident, $objective:literal) => {
        #[cfg_attr(
            any(target_os = "linux", target_os = "android", target_os = "fuchsia", target_os = "none", target_os = "psp"),
            used,
            unsafe(link_section = "linkme_OBJECTIVE_SITES")
        )]
        #[cfg_attr(
            not(any(target_os = "linux", target_os = "android", target_os = "fuchsia", target_os = "none", target_os = "psp")),
            $crate::__private::linkme::distributed_slice($crate::__private::OBJECTIVE_SITES),
            linkme(crate = $crate::__private::linkme)
        )]
        static __IM_OBJECTIVE: $crate::__private::ObjectiveSite = $crate::__private::ObjectiveSite {
            objective: $objective,
            site: &$site,
        };
    };
}
