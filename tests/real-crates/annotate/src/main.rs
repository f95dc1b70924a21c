//! `annotate CRATE_DIR [LABEL]`: puts `#[::instrument_metrics::instrument_metrics]` on every
//! free fn (inline modules included), every trait default method and every impl block (inherent
//! and trait impls; the block attribute covers their methods) of `CRATE_DIR/src/**/*.rs`, in
//! place, then appends to the library root a hidden item that writes
//! `::instrument_metrics::render()` to `$IM_DUMP_DIR/<pid>.prom` at process exit.
//!
//! The attribute is inserted as text just before the item's first token after its own outer
//! attributes, on the same line: no line moves, so doctest names (`src/lib.rs - f (line 12)`),
//! panic locations and `line!()` stay what they were in the untouched crate.
//!
//! Left alone, as the attribute documents it refuses them or it cannot see them: `const fn`
//! free fns, `#[track_caller]` fns (in an impl block they get `#[instrument_metrics(skip)]`),
//! fns and impls inside fn bodies, `extern` blocks, and whatever a macro invocation
//! (`macro_rules!` bodies, `cfg_if! { … }`) contains.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{ImplItem, Item, TraitItem};

const ATTR: &str = "#[::instrument_metrics::instrument_metrics] ";
const SKIP_ATTR: &str = "#[::instrument_metrics::instrument_metrics(skip)] ";
const DUMP_MARKER: &str = "__instrument_metrics_dump";

/// The exit hook appended to the library root. Linux only (`.init_array` + libc's `atexit`),
/// no dependency beyond the runtime; `extern crate std` so `#![no_std]` crates take it too.
const DUMP_ITEM: &str = r#"

// Appended by tests/real-crates/annotate: dump the metrics at process exit.
#[doc(hidden)]
#[allow(warnings, unsafe_code, missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
mod __instrument_metrics_dump {
    extern crate std;
    unsafe extern "C" {
        fn atexit(f: extern "C" fn()) -> i32;
    }
    extern "C" fn dump() {
        if let Some(dir) = std::env::var_os("IM_DUMP_DIR") {
            let path = std::path::Path::new(&dir).join(std::format!("{}.prom", std::process::id()));
            let _ = std::fs::write(path, ::instrument_metrics::render());
        }
    }
    extern "C" fn install() {
        unsafe {
            atexit(dump);
        }
    }
    #[used]
    #[unsafe(link_section = ".init_array")]
    static INSTALL: extern "C" fn() = install;
}
"#;

#[derive(Default)]
struct Stats {
    files: usize,
    free_fns: usize,
    free_async: usize,
    impl_blocks: usize,
    impl_methods: usize,
    impl_async: usize,
    trait_defaults: usize,
    trait_async: usize,
    skipped_const: usize,
    skipped_track_caller: Vec<String>,
    macro_items: usize,
    unparsed: Vec<String>,
}

/// One file's insertions: (line, column in chars, text).
struct File<'a> {
    rel: &'a str,
    inserts: Vec<(usize, usize, &'static str)>,
}

impl File<'_> {
    fn insert_before(&mut self, tokens: TokenStream, text: &'static str) {
        let span = tokens
            .into_iter()
            .next()
            .map_or_else(Span::call_site, |t| t.span());
        let start = span.start();
        self.inserts.push((start.line, start.column, text));
    }

    fn location(tokens: TokenStream, rel: &str, name: &syn::Ident) -> String {
        let line = tokens
            .into_iter()
            .next()
            .map_or(0, |t| t.span().start().line);
        format!("{rel}:{line} {name}")
    }
}

fn has_attr(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs.iter().any(|a| a.path().is_ident(name))
}

fn is_ours(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "instrument_metrics")
    })
}

/// Tokens of a fn item without its outer attributes: its first one is where the attribute goes.
fn fn_head(vis: &syn::Visibility, sig: &syn::Signature) -> TokenStream {
    let mut t = vis.to_token_stream();
    sig.to_tokens(&mut t);
    t
}

fn visit_items(items: &[Item], file: &mut File<'_>, stats: &mut Stats) {
    for item in items {
        match item {
            Item::Fn(f) => {
                if is_ours(&f.attrs) {
                    continue;
                }
                if f.sig.constness.is_some() {
                    stats.skipped_const += 1;
                } else if has_attr(&f.attrs, "track_caller") {
                    stats.skipped_track_caller.push(File::location(
                        fn_head(&f.vis, &f.sig),
                        file.rel,
                        &f.sig.ident,
                    ));
                } else {
                    file.insert_before(fn_head(&f.vis, &f.sig), ATTR);
                    stats.free_fns += 1;
                    stats.free_async += usize::from(f.sig.asyncness.is_some());
                }
            }
            Item::Impl(i) => {
                if is_ours(&i.attrs) {
                    continue;
                }
                let mut head = i.defaultness.to_token_stream();
                i.unsafety.to_tokens(&mut head);
                i.impl_token.to_tokens(&mut head);
                file.insert_before(head, ATTR);
                stats.impl_blocks += 1;
                for m in &i.items {
                    let ImplItem::Fn(m) = m else { continue };
                    if m.sig.constness.is_some() {
                        stats.skipped_const += 1;
                    } else if has_attr(&m.attrs, "track_caller") {
                        let mut h = m.vis.to_token_stream();
                        m.defaultness.to_tokens(&mut h);
                        m.sig.to_tokens(&mut h);
                        stats
                            .skipped_track_caller
                            .push(File::location(h.clone(), file.rel, &m.sig.ident));
                        file.insert_before(h, SKIP_ATTR);
                    } else {
                        stats.impl_methods += 1;
                        stats.impl_async += usize::from(m.sig.asyncness.is_some());
                    }
                }
            }
            Item::Trait(t) => {
                for m in &t.items {
                    let TraitItem::Fn(m) = m else { continue };
                    if m.default.is_none() || is_ours(&m.attrs) {
                        continue;
                    }
                    if m.sig.constness.is_some() {
                        stats.skipped_const += 1;
                    } else if has_attr(&m.attrs, "track_caller") {
                        stats.skipped_track_caller.push(File::location(
                            m.sig.to_token_stream(),
                            file.rel,
                            &m.sig.ident,
                        ));
                    } else {
                        file.insert_before(m.sig.to_token_stream(), ATTR);
                        stats.trait_defaults += 1;
                        stats.trait_async += usize::from(m.sig.asyncness.is_some());
                    }
                }
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    visit_items(items, file, stats);
                }
            }
            Item::Macro(_) => stats.macro_items += 1,
            _ => {}
        }
    }
}

/// Applies the insertions (line 1-based, column in chars) to `src`.
fn apply(src: &str, mut inserts: Vec<(usize, usize, &'static str)>) -> String {
    inserts.sort_unstable();
    inserts.dedup();
    let mut out = String::with_capacity(src.len() + inserts.len() * ATTR.len());
    let mut next = inserts.into_iter().peekable();
    for (i, line) in src.split_inclusive('\n').enumerate() {
        let lineno = i + 1;
        let mut chars = 0;
        for ch in line.chars() {
            while next.peek().is_some_and(|&(l, c, _)| l == lineno && c == chars) {
                out.push_str(next.next().unwrap().2);
            }
            out.push(ch);
            chars += 1;
        }
        // An insertion can never point past its line's last char; drop none silently.
        assert!(
            next.peek().is_none_or(|&(l, _, _)| l > lineno),
            "insertion point past the end of line {lineno}"
        );
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::path);
    for e in entries {
        let path = e.path();
        if e.file_type()?.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The library root from `[lib] path = "…"`, else `src/lib.rs`, else `src/main.rs`.
fn root_file(crate_dir: &Path) -> PathBuf {
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap_or_default();
    let mut in_lib = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_lib = line == "[lib]";
        } else if in_lib {
            if let Some(v) = line.strip_prefix("path") {
                let v = v.trim_start().trim_start_matches('=').trim().trim_matches('"');
                return crate_dir.join(v);
            }
        }
    }
    let lib = crate_dir.join("src/lib.rs");
    if lib.exists() {
        lib
    } else {
        crate_dir.join("src/main.rs")
    }
}

fn run(crate_dir: &Path, label: &str) -> Result<Stats, String> {
    let src_dir = crate_dir.join("src");
    let mut files = Vec::new();
    rust_files(&src_dir, &mut files).map_err(|e| format!("{}: {e}", src_dir.display()))?;
    let root = root_file(crate_dir);
    let mut stats = Stats::default();
    for path in &files {
        let rel = path
            .strip_prefix(crate_dir)
            .unwrap_or(path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{rel}: {e}"))?;
        if text.contains(DUMP_MARKER) {
            return Err(format!("{rel}: already annotated; annotate a fresh copy"));
        }
        let (bom, body) = match text.strip_prefix('\u{feff}') {
            Some(rest) => ("\u{feff}", rest),
            None => ("", text.as_str()),
        };
        let parsed = match syn::parse_file(body) {
            Ok(f) => f,
            Err(e) => {
                let at = e.span().start();
                stats
                    .unparsed
                    .push(format!("{rel}:{}:{} {e}", at.line, at.column + 1));
                continue;
            }
        };
        stats.files += 1;
        let mut file = File {
            rel: &rel,
            inserts: Vec::new(),
        };
        visit_items(&parsed.items, &mut file, &mut stats);
        let mut new = format!("{bom}{}", apply(body, file.inserts));
        if *path == root {
            new.push_str(DUMP_ITEM);
        }
        if new != text {
            std::fs::write(path, new).map_err(|e| format!("{rel}: {e}"))?;
        }
    }
    if !files.contains(&root) {
        return Err(format!(
            "{label}: no crate root at {} to append the exit hook to",
            root.display()
        ));
    }
    Ok(stats)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: annotate CRATE_DIR [LABEL]");
        return ExitCode::from(2);
    };
    let dir = Path::new(dir);
    let label = args.get(1).cloned().unwrap_or_else(|| {
        dir.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    });
    let s = match run(dir, &label) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("annotate: {e}");
            return ExitCode::FAILURE;
        }
    };
    let asyncs = s.free_async + s.impl_async + s.trait_async;
    let mut line = format!(
        "annotate: {label}: {} files; annotated {} free fns, {} impl blocks (covering {} methods), {} trait default methods; {} async fns among them",
        s.files, s.free_fns, s.impl_blocks, s.impl_methods, s.trait_defaults, asyncs
    );
    let _ = write!(
        line,
        "; left alone: {} const fn, {} #[track_caller], {} item macro invocations not looked into",
        s.skipped_const,
        s.skipped_track_caller.len(),
        s.macro_items
    );
    println!("{line}");
    for t in &s.skipped_track_caller {
        println!("annotate: {label}: note: #[track_caller] left alone (the attribute refuses it): {t}");
    }
    for u in &s.unparsed {
        println!("annotate: {label}: note: not parsed, left untouched: {u}");
    }
    // Machine-readable, for the run script's table.
    println!(
        "annotate-counts {label} free_fns={} impl_blocks={} impl_methods={} trait_defaults={} async={} const_skipped={} track_caller_skipped={}",
        s.free_fns,
        s.impl_blocks,
        s.impl_methods,
        s.trait_defaults,
        asyncs,
        s.skipped_const,
        s.skipped_track_caller.len()
    );
    ExitCode::SUCCESS
}
