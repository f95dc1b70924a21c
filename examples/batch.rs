//! A batch job: the "mapping engine" maps a batch of sites, then pushes its metrics to a
//! Prometheus Pushgateway before it exits (Prometheus could never scrape a process this short).
//!
//! ```text
//! prometheus-pushgateway --web.listen-address=127.0.0.1:9091 &
//! cargo run --example batch -- [--jobs 50] [--seed 42] [--gateway http://127.0.0.1:9091]
//!                               [--job mapping_engine] [--instance NAME]
//! curl -s http://127.0.0.1:9091/metrics | grep mapping
//! ```
//!
//! Which jobs fail is decided by `--seed`, so two runs with the same flags count the same.
//! Exits with 1 if the push fails, 2 on a bad flag.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use instrument_metrics::instrument_metrics;
use instrument_metrics::prometheus::register_gauge_with_registry;
use instrument_metrics::push::Pusher;
use instrument_metrics_examples::flag;

#[derive(Debug)]
enum MapError {
    /// The source tile could not be read.
    TileMissing(u64),
    /// The projection did not converge.
    Diverged(u64),
}

impl std::fmt::Display for MapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MapError::TileMissing(site) => write!(f, "tile of site {site} is missing"),
            MapError::Diverged(site) => write!(f, "projection of site {site} diverged"),
        }
    }
}

/// A deterministic stream of numbers (splitmix64), one per (seed, site).
struct Dice(u64);

impl Dice {
    fn new(seed: u64, site: u64) -> Dice {
        Dice(seed ^ site.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % sides
    }
}

struct Tile {
    site: u64,
    points: u64,
}

/// Reading a tile takes 0–40 ms; one in ten is missing.
#[instrument_metrics(buckets = linear(0.01, 0.01, 10))]
fn load_tile(site: u64, dice: &mut Dice) -> Result<Tile, MapError> {
    std::thread::sleep(Duration::from_millis(dice.roll(40)));
    if dice.roll(10) == 0 {
        return Err(MapError::TileMissing(site));
    }
    Ok(Tile {
        site,
        points: 1_000 + dice.roll(9_000),
    })
}

/// Projecting takes 0–20 ms; one in twenty diverges.
#[instrument_metrics(buckets = linear(0.01, 0.01, 10))]
fn project(tile: &Tile, dice: &mut Dice) -> Result<u64, MapError> {
    std::thread::sleep(Duration::from_millis(dice.roll(20)));
    if dice.roll(20) == 0 {
        return Err(MapError::Diverged(tile.site));
    }
    Ok(tile.points / 3)
}

/// One job of the batch: load, then project.
#[instrument_metrics(buckets = linear(0.01, 0.01, 10))]
fn map_site(site: u64, seed: u64) -> Result<u64, MapError> {
    let mut dice = Dice::new(seed, site);
    let tile = load_tile(site, &mut dice)?;
    project(&tile, &mut dice)
}

fn number(args: &[String], name: &str, default: u64) -> Result<u64, String> {
    match flag(args, name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| format!("--{name} wants a whole number, got {v:?}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (jobs, seed) = match (number(&args, "jobs", 50), number(&args, "seed", 42)) {
        (Ok(j), Ok(s)) => (j, s),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("batch: {e}");
            return ExitCode::from(2);
        }
    };
    let gateway = flag(&args, "gateway").unwrap_or_else(|| "http://127.0.0.1:9091".to_owned());
    let job = flag(&args, "job").unwrap_or_else(|| "mapping_engine".to_owned());
    let instance = flag(&args, "instance");

    // Build the pusher first: a bad URL or label is reported before an hour of work, not after.
    let pusher = Pusher::new(&gateway, &job).and_then(|p| match &instance {
        Some(i) => p.grouping("instance", i),
        None => Ok(p),
    });
    let pusher = match pusher {
        Ok(p) => p.timeout(Duration::from_secs(5)),
        Err(e) => {
            eprintln!("batch: {e}");
            return ExitCode::from(2);
        }
    };

    let _ = instrument_metrics::build_info!();

    println!("mapping engine: {jobs} jobs, seed {seed}");
    let (mut ok, mut failed, mut points) = (0u64, 0u64, 0u64);
    for site in 0..jobs {
        match map_site(site, seed) {
            Ok(p) => {
                ok += 1;
                points += p;
            }
            Err(e) => {
                failed += 1;
                println!("  job {site}: {e}");
            }
        }
    }
    println!("done: {ok} ok, {failed} failed, {points} points mapped");

    // The canonical batch-job metric, for an alert when it gets too old. It only exists after a
    // clean run, which then replaces the whole group (PUT). A run with failures adds to the
    // group (POST) instead, so the gateway keeps the time of the last clean run.
    let result = if failed == 0 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        if let Ok(g) = register_gauge_with_registry!(
            "mapping_engine_last_success_timestamp_seconds",
            "When the mapping engine last finished a batch without a failed job.",
            instrument_metrics::registry()
        ) {
            g.set(now);
        }
        println!(
            "pushing (PUT, replaces the group) to {}",
            pusher.group_url()
        );
        pusher.push()
    } else {
        println!(
            "pushing (POST, keeps the last success time) to {}",
            pusher.group_url()
        );
        pusher.push_add()
    };
    match result {
        Ok(()) => {
            println!(
                "pushed: {ok} ok, {failed} failed jobs to {}",
                pusher.group_url()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("batch: push to {} failed: {e}", pusher.group_url());
            ExitCode::FAILURE
        }
    }
}
