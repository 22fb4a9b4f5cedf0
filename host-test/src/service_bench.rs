//! `host-test service-bench`: load on the composed `wasi:http` service,
//! served with the pooling allocator: K concurrent clients, each on its own
//! keep-alive connection, for a fixed time per scenario; requests per second
//! and p50/p99 latency. A command of its own, never a timed test.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::service::{serve, ServeOptions, ServedService};
use crate::sim::Simulator;

const TOKEN: &str = "bench-service-token";

/// One scenario: a name and the request each client repeats.
struct Scenario {
    name: &'static str,
    method: &'static str,
    path: String,
    body: Option<String>,
}

/// Runs every scenario with `clients` clients for `seconds` each; a Markdown section.
pub fn run(composed: &Path, clients: usize, seconds: u64) -> Result<String, String> {
    let sim = Simulator::default();
    let order = sim.place_order(100_000, "EUR", "DE", "de-DE");
    let settlements = start(composed, &sim, "settlements")?;
    let purchase = start(composed, &sim, "post-purchase")?;
    let scenarios = [
        (
            &settlements,
            Scenario {
                name: "`POST /test` (one authenticated read at Klarna)",
                method: "POST",
                path: "/test".into(),
                body: None,
            },
        ),
        (
            &purchase,
            Scenario {
                name: "`POST /publish` (order-acknowledge, a write)",
                method: "POST",
                path: "/publish".into(),
                body: Some(format!(
                    r#"{{"entity":"order-acknowledge","method":"post","params":{{"path":{{"order_id":"{order}"}}}}}}"#
                )),
            },
        ),
        (
            &settlements,
            Scenario {
                name: "`POST /subscribe` (a 500-record page of transactions)",
                method: "POST",
                path: "/subscribe".into(),
                body: Some(r#"{"entity":"transactions","page_size":500}"#.into()),
            },
        ),
    ];
    let mut out = format!(
        "\n## The wasi:http service under load\n\nMeasured by `./x service-bench` on {}: `target/klarna_connector.service.wasm` served by wasmtime-wasi-http 48 (pooling allocator, a fresh instance per request as `wasmtime serve` does) on 127.0.0.1, Klarna's hosts answered by the in-process simulator; {clients} concurrent clients on keep-alive connections, {seconds} s per scenario, on this machine's 2 cores (clients, server and simulator share them).\n\n| Scenario | Requests | Requests/s | p50 | p99 |\n| --- | --- | --- | --- | --- |\n",
        crate::bench::now_utc()
    );
    for (served, scenario) in &scenarios {
        let (count, mut latencies) = load(served, scenario, clients, Duration::from_secs(seconds))?;
        latencies.sort_unstable();
        let at =
            |q: f64| latencies.get(((latencies.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {count} | {:.0} | {:.2} ms | {:.2} ms |",
            scenario.name,
            count as f64 / seconds as f64,
            at(0.50).as_secs_f64() * 1000.0,
            at(0.99).as_secs_f64() * 1000.0
        );
    }
    Ok(out)
}

fn start(composed: &Path, sim: &Simulator, api_type: &str) -> Result<ServedService, String> {
    let env = crate::service::deployment_env(&crate::backend::simulator_config(api_type), TOKEN);
    serve(composed, sim.clone(), ServeOptions { env, pooling: true, ..Default::default() })
}

/// `clients` threads repeating `scenario` for `time`; the count and every latency.
fn load(
    served: &ServedService,
    scenario: &Scenario,
    clients: usize,
    time: Duration,
) -> Result<(usize, Vec<Duration>), String> {
    let url = format!("http://{}{}", served.addr, scenario.path);
    let results: Vec<Result<Vec<Duration>, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                let url = url.clone();
                scope.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
                    let mut latencies = Vec::new();
                    let end = Instant::now() + time;
                    while Instant::now() < end {
                        let started = Instant::now();
                        let request = ureq::http::Request::builder()
                            .method(scenario.method)
                            .uri(&url)
                            .header("Authorization", format!("Bearer {TOKEN}"))
                            .body(scenario.body.clone().unwrap_or_default().into_bytes())
                            .map_err(|e| e.to_string())?;
                        let mut response = agent.run(request).map_err(|e| e.to_string())?;
                        let _ = response
                            .body_mut()
                            .with_config()
                            .limit(16 << 20)
                            .read_to_vec()
                            .map_err(|e| e.to_string())?;
                        if response.status() != 200 {
                            return Err(format!("{} answered {}", scenario.path, response.status()));
                        }
                        latencies.push(started.elapsed());
                    }
                    Ok(latencies)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|_| Err("a client panicked".into()))).collect()
    });
    let mut all = Vec::new();
    for result in results {
        all.extend(result?);
    }
    Ok((all.len(), all))
}
