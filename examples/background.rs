//! A plain, non-async program: a CLI that reads feeds from local files and renders them, with
//! `instrument_metrics::serve` exposing `/metrics` from a background thread while the work
//! stays in the foreground.
//!
//! `cargo run --example background` (metrics on 127.0.0.1:2112; `--addr` to change it,
//! `--rounds N` to stop after N rounds, `--feeds DIR` for another folder of feeds, `--linger`
//! to keep serving `/metrics` after the last round until the process is stopped, so that a
//! scraper gets the final counts: tests/e2e/e2e.py runs it so)

use std::path::{Path, PathBuf};
use std::time::Duration;

use instrument_metrics::instrument_metrics;

#[derive(Debug)]
struct Item {
    title: String,
    link: String,
}

#[derive(Debug)]
enum FeedError {
    Unreadable(std::io::Error),
    NoItems,
}

#[instrument_metrics]
fn fetch(path: &Path) -> Result<String, FeedError> {
    std::fs::read_to_string(path).map_err(FeedError::Unreadable)
}

/// Understands just enough RSS: `<item><title>…</title><link>…</link></item>`.
#[instrument_metrics]
fn parse(xml: &str) -> Result<Vec<Item>, FeedError> {
    let tag = |s: &str, name: &str| -> Option<String> {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = s.find(&open)? + open.len();
        let end = s[start..].find(&close)? + start;
        Some(s[start..end].trim().to_owned())
    };
    let items: Vec<Item> = xml
        .split("<item>")
        .skip(1)
        .filter_map(|chunk| {
            Some(Item {
                title: tag(chunk, "title")?,
                link: tag(chunk, "link")?,
            })
        })
        .collect();
    if items.is_empty() {
        Err(FeedError::NoItems)
    } else {
        Ok(items)
    }
}

#[instrument_metrics]
fn render(items: &[Item]) -> String {
    items
        .iter()
        .map(|i| format!("  * {} <{}>\n", i.title, i.link))
        .collect()
}

fn feeds_in(dir: &Path) -> Vec<PathBuf> {
    let mut feeds: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    feeds.sort();
    feeds
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = instrument_metrics_examples::flag(&args, "addr")
        .unwrap_or_else(|| "127.0.0.1:2112".to_owned());
    let rounds: Option<u64> =
        instrument_metrics_examples::flag(&args, "rounds").and_then(|n| n.parse().ok());
    let linger = args.iter().any(|a| a == "--linger");
    let dir = instrument_metrics_examples::flag(&args, "feeds").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds"),
        PathBuf::from,
    );

    let exporter = match instrument_metrics::serve(addr.as_str()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot serve metrics on {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!("metrics on http://{}/metrics", exporter.local_addr());

    let mut round = 0;
    while rounds.is_none_or(|r| round < r) {
        round += 1;
        for feed in feeds_in(&dir) {
            match fetch(&feed).and_then(|xml| parse(&xml)) {
                Ok(items) => print!("{}:\n{}", feed.display(), render(&items)),
                Err(FeedError::Unreadable(e)) => eprintln!("{}: unreadable: {e}", feed.display()),
                Err(FeedError::NoItems) => eprintln!("{}: no items", feed.display()),
            }
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    if linger {
        println!("{round} rounds done; serving /metrics until stopped");
        // The exporter's thread serves; this one waits for the signal that ends the process.
        loop {
            std::thread::park();
        }
    }
    exporter.shutdown();
}
