//! gRPC's RouteGuide over h2c, with server reflection, every call measured by the gRPC layer
//! (go-grpc-middleware's families) and every handler by the attribute; `/metrics` and the live
//! page on the metrics address. `--load N` drives N rounds of every outcome through a client
//! wearing the client layer, then keeps serving. `--live-interval SECONDS` sets how often the
//! live page's snapshots are taken (default 5).
//!
//! ```text
//! cargo run --example grpc -- --addr 127.0.0.1:50051 --metrics-addr 127.0.0.1:9898 [--load N] [--live-interval S]
//! ```

use std::net::SocketAddr;
use std::time::Duration;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = instrument_metrics_examples::flag(&args, "addr")
        .unwrap_or_else(|| "127.0.0.1:50051".to_owned());
    let metrics_addr = instrument_metrics_examples::flag(&args, "metrics-addr")
        .unwrap_or_else(|| "127.0.0.1:9898".to_owned());
    let rounds: u32 = match instrument_metrics_examples::flag(&args, "load").map(|n| n.parse()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(e)) => fail(&format!("--load takes a number of rounds: {e}")),
    };
    let interval = instrument_metrics_examples::flag(&args, "live-interval")
        .and_then(|s| s.parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(Duration::from_secs(5));
    // Snapshots from the start, so the live page's windows cover every call.
    instrument_metrics::live::start_every(interval);
    // What the runtime running every handler is doing: workers, tasks, busy time.
    if let Err(e) =
        instrument_metrics::runtime::register_tokio(&tokio::runtime::Handle::current(), "main")
    {
        eprintln!("runtime statistics not registered: {e}");
    }
    instrument_metrics::set_default_histograms(instrument_metrics::Histograms::Both);
    if let Err(e) = instrument_metrics::build_info!() {
        eprintln!("build info not registered: {e}");
    }
    let exporter = instrument_metrics::serve(metrics_addr.as_str())
        .unwrap_or_else(|e| fail(&format!("metrics: {e}")));
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {addr}: {e}")));
    let local: SocketAddr = listener
        .local_addr()
        .unwrap_or_else(|e| fail(&format!("{addr}: {e}")));
    println!(
        "RouteGuide on {local} (h2c, reflection), metrics on http://{}/metrics",
        exporter.local_addr()
    );
    println!("live page: http://{}/", exporter.local_addr());
    // RouteGuide's methods declared before the first call, client or server (`serve` runs
    // in its own task, which the load below may outrun).
    if let Err(e) = routeguide::declare() {
        fail(&format!("descriptors: {e}"));
    }
    let server = tokio::spawn(routeguide::serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    }));
    if rounds > 0 {
        let mut client =
            routeguide::client(local).unwrap_or_else(|e| fail(&format!("client: {e}")));
        match routeguide::load(&mut client, rounds).await {
            Ok(()) => println!("load done: {rounds} rounds"),
            Err(e) => fail(&format!("load: {e}")),
        }
    }
    match server.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => fail(&format!("server: {e}")),
        Err(e) => fail(&format!("server task: {e}")),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(1);
}
