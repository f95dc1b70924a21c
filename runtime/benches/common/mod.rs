//! What both benchmarks share: reading criterion's medians back to print ratios.

/// The median of `group/bench` from this run, in nanoseconds, as criterion saved it.
pub fn median_ns(group: &str, bench: &str) -> Option<f64> {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| {
        // Benches run from the package directory; the workspace target is one level up.
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        here.parent()
            .unwrap_or(here)
            .join("target")
            .display()
            .to_string()
    });
    let path = format!("{target}/criterion/{group}/{bench}/new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}
