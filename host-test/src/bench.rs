//! `host-test bench`: what a host pays for this connector — size, compile and
//! load, instantiation, per-call cost, subscribe throughput against the same
//! Rust core built natively, a publish round trip and peak instance memory.
//!
//! The simulator's cost is kept out: pages and answers are rendered once,
//! before timing, and served from memory by both the wasm and native runs.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use klarna_connector::connection::Connection as NativeConnection;
use klarna_connector::model as native;
use klarna_connector::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use wasmtime::component::Component;
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::backend::SimulatorBackend;
use crate::runtime::{
    engine_config, engine_config_with_epochs, HttpBackend, HttpError, Limits, Method, Params, PublishRequest, Request,
    Response, Runtime, SubscribeRequest,
};
use crate::sim::{self, SimRequest, Simulator};

/// Records read in the throughput runs.
const RECORDS: usize = 100_000;
/// Records per page (Klarna's maximum).
const PAGE: usize = 500;
/// Throughput rounds (median and spread reported).
const ROUNDS: usize = 7;

/// Pre-rendered settlement pages by `offset`, and a capture answer.
#[derive(Clone)]
struct Canned {
    pages: std::sync::Arc<HashMap<usize, Vec<u8>>>,
}

impl Canned {
    fn render() -> Self {
        let simulator = Simulator::new(RECORDS);
        let mut pages = HashMap::new();
        let auth = format!("Basic {}", base64_encode(&format!("{}:{}", sim::USERNAME, sim::PASSWORD)));
        for offset in (0..RECORDS).step_by(PAGE) {
            let request = SimRequest {
                method: "GET".into(),
                url: format!(
                    "https://api.playground.klarna.com/settlements/v1/transactions?offset={offset}&size={PAGE}"
                ),
                headers: vec![("Authorization".into(), auth.clone())],
                body: vec![],
            };
            if let Ok(response) = simulator.handle(&request) {
                pages.insert(offset, response.body);
            }
        }
        Self { pages: std::sync::Arc::new(pages) }
    }

    fn answer(&self, url: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
        if url.contains("/captures") {
            let headers = vec![
                ("Location".to_string(), format!("{url}/8a5c1f0e-ca97-4000-a001-000000000001")),
                ("Capture-Id".to_string(), "8a5c1f0e-ca97-4000-a001-000000000001".to_string()),
            ];
            return (201, headers, vec![]);
        }
        let offset = url
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("offset="))
            .and_then(|o| o.parse().ok())
            .unwrap_or(0usize);
        match self.pages.get(&offset) {
            Some(body) => (200, vec![("Content-Type".into(), "application/json".into())], body.clone()),
            None => (404, vec![], vec![]),
        }
    }
}

fn base64_encode(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

impl HttpBackend for Canned {
    fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        let (status, headers, body) = self.answer(&request.url);
        Ok(Response { status, headers, body })
    }
}

/// The same answers for the native core.
struct NativeCanned(Canned);

impl Transport for NativeCanned {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let (status, headers, body) = self.0.answer(&request.url);
        Ok(HttpResponse { status, headers, body })
    }
}

use crate::backend::simulator_config as config;

fn native_config(api_type: &str) -> native::ConnectionConfig {
    native::ConnectionConfig {
        api_type: api_type.into(),
        environment: "playground".into(),
        region: "eu".into(),
        auth: native::Auth::Basic {
            username: sim::USERNAME.into(),
            password: klarna_connector::secret::Secret::new(sim::PASSWORD),
        },
        settings: vec![],
    }
}

/// Median and (min, max) of samples.
fn stats(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(|a, b| a.total_cmp(b));
    (samples[samples.len() / 2], samples[0], samples[samples.len() - 1])
}

fn time_each(n: usize, mut f: impl FnMut()) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect()
}

fn micros(seconds: f64) -> String {
    format!("{:.1} µs", seconds * 1e6)
}

fn millis(seconds: f64) -> String {
    format!("{:.2} ms", seconds * 1e3)
}

/// One row of the table.
struct Row {
    what: String,
    result: String,
    target: String,
}

/// Runs every measurement and returns the Markdown report: the sizes of the
/// release build `wasm` and of the file to ship, `optimized` (binaryen
/// `-Oz`), then everything else on the file to ship (`wasm` when none).
pub fn run(wasm: &Path, optimized: Option<&Path>) -> Result<String, String> {
    let err = |e: wasmtime::Error| format!("{e:?}");
    let mut rows = vec![];
    let read = |path: &Path| std::fs::read(path).map_err(|e| format!("{}: {e} (run ./x dist)", path.display()));
    let release = read(wasm)?;
    rows.push(Row {
        what: format!("component size, release build (`opt-level = {OPT_LEVEL}`)"),
        result: format!("{} B", release.len()),
        target: "–".into(),
    });
    let bytes = match optimized {
        Some(path) => {
            let shipped = read(path)?;
            rows.push(Row {
                what: "component size to ship: after binaryen `-Oz` (jco opt; `./x dist`), measured below".into(),
                result: format!("{} B", shipped.len()),
                target: "≤ 400 KB".into(),
            });
            shipped
        }
        None => release,
    };

    // Compile and load.
    let engine = Engine::new(&engine_config()).map_err(err)?;
    let (compile, _, _) = stats(time_each(3, || {
        let _ = Component::new(&engine, &bytes);
    }));
    rows.push(Row {
        what: "cold compile (Cranelift), median of 3".into(),
        result: millis(compile),
        target: "–".into(),
    });
    let artifact = engine.precompile_component(&bytes).map_err(err)?;
    let (load, _, _) = stats(time_each(50, || {
        // SAFETY: the artifact was produced just above by this engine's configuration.
        let _ = unsafe { Component::deserialize(&engine, &artifact) };
    }));
    rows.push(Row {
        what: format!("load precompiled artifact ({} B), median of 50", artifact.len()),
        result: millis(load),
        target: "≤ 2 ms".into(),
    });

    // Instantiation, on-demand and pooling.
    let component = Component::new(&engine, &bytes).map_err(err)?;
    let canned = Canned::render();
    let on_demand = Runtime::from_component(engine.clone(), &component, Limits::default()).map_err(err)?;
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(64)
        .total_memories(64)
        .total_tables(64)
        .total_core_instances(256)
        .max_memory_size(64 << 20);
    let mut pooled_config = engine_config();
    pooled_config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let pooled_engine = Engine::new(&pooled_config).map_err(err)?;
    let pooled_component = Component::new(&pooled_engine, &bytes).map_err(err)?;
    let pooled = Runtime::from_component(pooled_engine, &pooled_component, Limits::default()).map_err(err)?;
    for (label, runtime) in [("on-demand", &on_demand), ("pooling", &pooled)] {
        let (median, low, high) = stats(time_each(2_000, || {
            let _ = runtime.instantiate(Box::new(canned.clone()));
        }));
        rows.push(Row {
            what: format!("instantiate from InstancePre ({label}), median of 2,000"),
            result: format!("{} ({}–{})", micros(median), micros(low), micros(high)),
            target: "≤ 50 µs".into(),
        });
    }

    // A wasi:http service makes a fresh instance per request, then opens a
    // connection: what it pays before its first call to Klarna.
    let om = config("post-purchase");
    for (label, runtime) in [("pooling", &pooled), ("on-demand", &on_demand)] {
        let (median, low, high) = stats(time_each(2_000, || {
            if let Ok(mut fresh) = runtime.instantiate(Box::new(canned.clone())) {
                let _ = fresh.open(&om);
            }
        }));
        rows.push(Row {
            what: format!("instantiate ({label}) + first open(), median of 2,000"),
            result: format!("{} ({}–{})", micros(median), micros(low), micros(high)),
            target: if label == "pooling" { "≤ 50 µs" } else { "–" }.into(),
        });
    }

    // Per-call cost.
    let mut instance = on_demand.instantiate(Box::new(canned.clone())).map_err(err)?;
    let (describe, _, _) = stats(time_each(2_000, || {
        let _ = instance.describe();
    }));
    rows.push(Row {
        what: format!(
            "describe() ({} B manifest), median of 2,000",
            klarna_connector::manifest::manifest_json().map_or(0, |m| m.len())
        ),
        result: micros(describe),
        target: "–".into(),
    });
    let (open, _, _) = stats(time_each(2_000, || {
        if let Ok(Ok(connection)) = instance.open(&om) {
            let _ = instance.close(connection);
        }
    }));
    rows.push(Row { what: "open() + drop, median of 2,000".into(), result: micros(open), target: "–".into() });
    let connection = instance.open(&om).map_err(err)?.map_err(|e| format!("{e:?}"))?;
    let (entities, _, _) = stats(time_each(2_000, || {
        let _ = instance.entities(connection);
    }));
    rows.push(Row { what: "entities(), median of 2,000".into(), result: micros(entities), target: "–".into() });

    // Publish round trip (capture), answer pre-built.
    let capture = PublishRequest {
        entity: "order-captures".into(),
        method: Method::Post,
        params: Params {
            path: vec![("order_id".into(), "4a1b6c1e-0de7-4000-a001-000000000001".into())],
            query: vec![],
            payload: Some(r#"{"captured_amount":1000}"#.into()),
        },
        idempotency_key: None,
    };
    let (publish, _, _) = stats(time_each(2_000, || {
        let _ = instance.publish(connection, &capture);
    }));
    rows.push(Row {
        what: "publish(order-captures) round trip, median of 2,000".into(),
        result: micros(publish),
        target: "–".into(),
    });

    let no_epochs = runtime_without_epochs(&bytes)?;
    rows.extend(throughput(&on_demand, &no_epochs, &canned)?);

    // Simulator cost for reference: what was kept out of the figures above.
    let simulator = Simulator::new(RECORDS);
    let sim_backend = std::cell::RefCell::new(SimulatorBackend(simulator));
    let calls = Cell::new(0);
    let (sim_page, _, _) = stats(time_each(20, || {
        let offset = calls.get() * PAGE;
        calls.set(calls.get() + 1);
        let auth = format!("Basic {}", base64_encode(&format!("{}:{}", sim::USERNAME, sim::PASSWORD)));
        let request = Request {
            method: Method::Get,
            url: format!("https://api.playground.klarna.com/settlements/v1/transactions?offset={offset}&size={PAGE}"),
            headers: vec![("Authorization".into(), auth)],
            body: None,
            timeout_ms: None,
        };
        let _ = sim_backend.borrow_mut().send(request);
    }));
    rows.push(Row {
        what: "(excluded) simulator rendering one page of 500, median of 20".into(),
        result: millis(sim_page),
        target: "–".into(),
    });

    Ok(report(&rows))
}

/// Reads all [`RECORDS`] through a fresh instance of `runtime`: the seconds
/// it took, the records read, and the instance's peak linear memory.
fn read_all_wasm(runtime: &Runtime, canned: &Canned) -> Result<(f64, usize, usize), String> {
    let err = |e: wasmtime::Error| format!("{e:?}");
    let mut instance = runtime.instantiate(Box::new(canned.clone())).map_err(err)?;
    let connection = instance.open(&config("settlements")).map_err(err)?.map_err(|e| format!("{e:?}"))?;
    let start = Instant::now();
    let mut request = SubscribeRequest {
        entity: "transactions".into(),
        params: Params { path: vec![], query: vec![], payload: None },
        cursor: None,
        page_size: Some(PAGE as u32),
        since: None,
    };
    let mut records = 0;
    loop {
        let page = instance.subscribe(connection, &request).map_err(err)?.map_err(|e| format!("{e:?}"))?;
        records += page.records.len();
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => break,
        }
    }
    Ok((start.elapsed().as_secs_f64(), records, instance.peak_memory()))
}

/// The same read through the native core: seconds and records.
fn read_all_native(canned: &Canned) -> Result<(f64, usize), String> {
    let connection = NativeConnection::open(native_config("settlements"), NativeCanned(canned.clone()))
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut request =
        native::SubscribeRequest { entity: "transactions".into(), page_size: Some(PAGE as u32), ..Default::default() };
    let mut records = 0;
    loop {
        let page = connection.subscribe(&request).map_err(|e| e.to_string())?;
        records += page.records.len();
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => break,
        }
    }
    Ok((start.elapsed().as_secs_f64(), records))
}

/// Subscribe throughput, wasm vs native, on the same pre-rendered answers:
/// rates, their ratio, and the instance's peak linear memory. Each round
/// reads through `on_demand` (the harness's engine), through `no_epochs`
/// (the same component on an engine without epoch interruption), and
/// natively, one after the other, so that each ratio compares one moment
/// of the machine.
fn throughput(on_demand: &Runtime, no_epochs: &Runtime, canned: &Canned) -> Result<Vec<Row>, String> {
    let mut rows = vec![];
    let (mut wasm_runs, mut bare_runs, mut native_runs) = (vec![], vec![], vec![]);
    let (mut ratios, mut bare_ratios, mut peak) = (vec![], vec![], 0);
    for _ in 0..ROUNDS {
        let (w, n, p) = read_all_wasm(on_demand, canned)?;
        let (bare, b, _) = read_all_wasm(no_epochs, canned)?;
        let (nat, m) = read_all_native(canned)?;
        if n != RECORDS || b != RECORDS || m != RECORDS {
            return Err(format!("read {n} and {b} records through wasm and {m} natively, expected {RECORDS}"));
        }
        peak = peak.max(p);
        wasm_runs.push(RECORDS as f64 / w);
        bare_runs.push(RECORDS as f64 / bare);
        native_runs.push(RECORDS as f64 / nat);
        ratios.push(w / nat);
        bare_ratios.push(bare / nat);
    }
    let rate = |runs: Vec<f64>| {
        let (m, lo, hi) = stats(runs);
        format!("{:.0} records/s ({:.0}–{:.0})", m, lo, hi)
    };
    rows.push(Row {
        what: format!("subscribe throughput, wasm: {RECORDS} transactions in pages of {PAGE}, {ROUNDS} rounds"),
        result: rate(wasm_runs),
        target: "≥ 1,000,000 records/s".into(),
    });
    rows.push(Row {
        what: format!("subscribe throughput, same core native (the connector at opt-level {OPT_LEVEL}, as in the component), in-process transport"),
        result: rate(native_runs),
        target: "–".into(),
    });
    let (ratio, lo, hi) = stats(ratios);
    rows.push(Row {
        what: format!("wasm / native time ratio, both at opt-level {OPT_LEVEL} (same run, per round)"),
        result: format!("{ratio:.2} ({lo:.2}–{hi:.2})"),
        target: "≤ 1.5".into(),
    });
    let (bare_ratio, lo, hi) = stats(bare_ratios);
    rows.push(Row {
        what: "(for comparison) the same through wasm on an engine without epoch interruption: throughput, ratio"
            .into(),
        result: format!("{}; {bare_ratio:.2} ({lo:.2}–{hi:.2})", rate(bare_runs)),
        target: "–".into(),
    });
    rows.push(Row {
        what: format!("peak linear memory of an instance during the {RECORDS}-record read"),
        result: format!("{:.2} MiB", peak as f64 / (1 << 20) as f64),
        target: "≤ 4 MiB".into(),
    });

    Ok(rows)
}

/// Only the subscribe throughput rows (`host-test bench-throughput`): for
/// iterating on the record path, and for profiling it (`WASMTIME_PERFMAP=1`
/// under `perf record` names the component's functions).
pub fn run_throughput(wasm: &Path) -> Result<String, String> {
    let err = |e: wasmtime::Error| format!("{e:?}");
    let engine = Engine::new(&engine_config()).map_err(err)?;
    let bytes = std::fs::read(wasm).map_err(|e| format!("{}: {e} (run ./x build)", wasm.display()))?;
    let component = Component::new(&engine, &bytes).map_err(err)?;
    let on_demand = Runtime::from_component(engine, &component, Limits::default()).map_err(err)?;
    Ok(report(&throughput(&on_demand, &runtime_without_epochs(&bytes)?, &Canned::render())?))
}

/// The component compiled again for an engine without epoch interruption.
fn runtime_without_epochs(bytes: &[u8]) -> Result<Runtime, String> {
    let err = |e: wasmtime::Error| format!("{e:?}");
    let engine = Engine::new(&engine_config_with_epochs(false)).map_err(err)?;
    let component = Component::new(&engine, bytes).map_err(err)?;
    Runtime::from_component(engine, &component, Limits::default()).map_err(err)
}

fn report(rows: &[Row]) -> String {
    let mut out = String::new();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let date = now_utc();
    let _ = writeln!(out, "# Benchmarks\n\nMeasured by `./x bench` on {date}: {cpu}, {cores} cores; wasmtime 48.0.8 (Cranelift, epoch interruption on), host built with the `bench` profile.\n");
    let _ = writeln!(out, "| Measurement | Result | Target |\n| --- | --- | --- |");
    for row in rows {
        let _ = writeln!(out, "| {} | {} | {} |", row.what, row.result, row.target);
    }
    out
}

/// The date and time (`2026-11-23 16:00 UTC`).
pub fn now_utc() -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

/// The release (and `bench`) opt-level of the connector, from Cargo.toml.
const OPT_LEVEL: &str = "\"z\"";
