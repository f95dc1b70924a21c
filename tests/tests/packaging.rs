//! The runtime and the macro crate ship as one: generated code names the runtime's hidden
//! `__private` module, which has no semver promise, so the runtime must depend on exactly its
//! own version of the macros (as serde pins serde_derive).

use std::path::Path;

fn dependency_line(manifest: &str, name: &str) -> Option<String> {
    manifest
        .lines()
        .map(str::trim)
        .find(|l| {
            [" ", "=", "."]
                .iter()
                .any(|s| l.starts_with(&format!("{name}{s}")))
        })
        .map(str::to_owned)
}

#[test]
fn the_macro_crate_is_pinned_exactly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let workspace = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let line = dependency_line(&workspace, "instrument-metrics-macros")
        .expect("instrument-metrics-macros in [workspace.dependencies]");
    let version = line
        .split("version")
        .nth(1)
        .and_then(|rest| rest.split('"').nth(1))
        .unwrap_or_else(|| panic!("no version in {line:?}"));
    let macros = std::fs::read_to_string(root.join("macros/Cargo.toml")).unwrap();
    let own = if macros.contains("version.workspace = true") {
        workspace
            .split("[workspace.package]")
            .nth(1)
            .and_then(|s| dependency_line(s, "version"))
            .and_then(|l| l.split('"').nth(1).map(str::to_owned))
            .unwrap()
    } else {
        dependency_line(&macros, "version").unwrap()
    };
    assert_eq!(version, format!("={own}"), "{line}");
    let runtime = std::fs::read_to_string(root.join("runtime/Cargo.toml")).unwrap();
    assert_eq!(
        dependency_line(&runtime, "instrument-metrics-macros").as_deref(),
        Some("instrument-metrics-macros.workspace = true")
    );
}
