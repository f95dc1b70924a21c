//! The HTTP duration histogram's native buckets and exemplars, which the gathered `prometheus`
//! families cannot carry, added to its converted messages by matching each metric's labels
//! back to its series.

use super::pb;

/// Adds what the gathered HTTP duration family lacks (nothing without the `http` feature).
#[cfg(feature = "http")]
pub(crate) fn add_native_and_exemplars(families: &mut [pb::MetricFamily]) {
    let name = format!(
        "{}{}",
        crate::expose::registry::decorations().prefix,
        crate::expose::requests::DURATION
    );
    let Some(family) = families
        .iter_mut()
        .find(|f| f.name.as_deref() == Some(&name))
    else {
        return;
    };
    let extras = crate::expose::requests::duration_extras();
    if extras.is_empty() {
        return;
    }
    for m in &mut family.metric {
        let mut key: Vec<(String, String)> = m
            .label
            .iter()
            .map(|p| {
                (
                    p.name.clone().unwrap_or_default(),
                    p.value.clone().unwrap_or_default(),
                )
            })
            .collect();
        key.sort();
        let (Some(x), Some(h)) = (extras.get(&key), m.histogram.as_mut()) else {
            continue;
        };
        if let Some(native) = &x.native {
            if !x.classic {
                h.bucket.clear();
            }
            super::native::fill(h, native);
        }
        super::native::place_exemplars(h, &x.exemplars, x.native.is_some());
    }
}

#[cfg(not(feature = "http"))]
pub(crate) fn add_native_and_exemplars(_families: &mut [pb::MetricFamily]) {}
