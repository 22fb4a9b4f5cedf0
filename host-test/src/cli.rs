//! The `host-test` command line: `demo` (default), `describe`, `entities`,
//! `test`, `subscribe` and `publish`, for every API type and auth kind,
//! against the embedded simulator or, with `--live`, Klarna's real API.

use std::fmt::Write as _;

use serde_json::Value;
use wasmtime::component::ResourceAny;

use crate::backend::{LiveBackend, SimulatorBackend};
use crate::runtime::{
    default_component_path, Auth, BasicAuth, ConnectionConfig, ConnectorError, HttpBackend, Instance, Limits, Method,
    Oauth2Client, Params, PublishRequest, Runtime, SubscribeRequest,
};
use crate::sim::{self, Simulator};

/// The commands, as `--help` lists them after the options.
const COMMANDS: &str = "\
commands:
  demo                      a whole order lifecycle on the embedded simulator (default)
  describe                  print the manifest (connector.json) the component returns
  entities                  list the entities of --api-type
  test                      run the connection's test() and say what it proved
  subscribe ENTITY          read pages of ENTITY (--all for every page)
  publish ENTITY            write to ENTITY with --method (default post)
  sync ENTITY               read an incremental ENTITY (payouts, payout-transactions, disputes)
                            from the state in --state-file (none: from the start), every page,
                            then keep the state it ends with in that file for the next run
  tables [FILE]             print docs/catalog.md's tables (from connector.json), or rewrite
                            them in FILE (docs/catalog.md)
  strip FILE                drop the component-name section from the component FILE (./x dist)
  serve                     the simulator over HTTP on 127.0.0.1 (--port, default any free port)
  listen                    a connection's public endpoint on 127.0.0.1 (--port): each request goes
                            to receive(), its events are printed (--api-type, default purchase;
                            secrets with --setting callback_secret=… or signing_keys=id=key)
  bench [--optimized PATH]  measure size, load, instantiation, calls and throughput (see ./x bench)
  bench-throughput          only the subscribe throughput, wasm vs native (WASMTIME_PERFMAP=1 for perf)
  panel                     the reference connection panel on 127.0.0.1 (--port): a page drawn from
                            describe() that opens and tests a connection, lists its entities
                            and shows an entity's first page (simulator; --live for Klarna)
  compose                   the plugin (--wasm) composed with the adapters built by ./x service:
                            target/klarna_connector.service.wasm, whose imports are WASI only,
                            target/klarna_connector.service.wasi-config.wasm, which also reads
                            wasi:config/runtime (wasmCloud), and
                            target/klarna_connector.service.spin.wasm, which also reads
                            wasi:config/store (Spin, SpinKube)
  service-bench             load on the served service: --clients K concurrent clients (default 8),
                            10 s per scenario; requests/s and p50/p99 (see ./x service-bench)
  service-check URL         check a served wasi:http service from outside, on any engine: describe,
                            entities, a wrong token (401), a malformed body (400), then what
                            POST /test answered; SERVICE_TOKEN from the environment
  service                   serve target/klarna_connector.service.wasm as wasmtime serve would, on
                            127.0.0.1 (--port), Klarna's hosts answered by the simulator; the
                            connection from --api-type and the credential options, SERVICE_TOKEN
                            from the environment (default: printed)
";

/// Parsed command line (clap).
#[derive(Debug, clap::Parser)]
#[command(name = "host-test", about = "Run the Klarna connector component in wasmtime", after_help = COMMANDS)]
struct Options {
    /// The command (below); `demo` when none is given.
    #[arg(default_value = "demo")]
    command: String,
    /// The entity (`subscribe`, `publish`), the file (`tables`, `strip`) or the URL (`service-check`).
    entity: Option<String>,
    /// {"path":{..},"query":{..},"payload":{..}}
    #[arg(long)]
    params: Option<String>,
    /// get | post | put | patch | delete
    #[arg(long)]
    method: Option<String>,
    /// Idempotency key (default: derived by the connector).
    #[arg(long)]
    key: Option<String>,
    /// Records per page.
    #[arg(long)]
    page_size: Option<u32>,
    /// service-bench: concurrent clients (default 8).
    #[arg(long)]
    clients: Option<usize>,
    /// Start from this cursor.
    #[arg(long)]
    cursor: Option<String>,
    /// Follow next-cursor to the last page.
    #[arg(long)]
    all: bool,
    /// Default: the entity's, or post-purchase.
    #[arg(long)]
    api_type: Option<String>,
    /// playground (default) | production
    #[arg(long)]
    environment: Option<String>,
    /// eu (default) | na | oc
    #[arg(long)]
    region: Option<String>,
    /// A panel setting KEY=VALUE (repeatable), e.g. --setting max_attempts=1.
    #[arg(long = "setting", value_name = "KEY=VALUE", value_parser = key_value)]
    settings: Vec<(String, String)>,
    /// api_key | basic | oauth2 | token | shipping_key (default: from the credential options given, else the API type's first auth kind).
    #[arg(long)]
    auth: Option<String>,
    /// Basic username (KLARNA_API_USERNAME); for shipping_key the identifier (KLARNA_SHIPPING_IDENTIFIER; on the simulator Klarna's example sweMerch123).
    #[arg(long)]
    username: Option<String>,
    /// Basic password (KLARNA_API_PASSWORD); for shipping_key the key (KLARNA_SHIPPING_KEY; on the simulator smOOOth).
    #[arg(long)]
    password: Option<String>,
    /// A Klarna API key (KLARNA_API_KEY).
    #[arg(long)]
    api_key: Option<String>,
    /// An OAuth 2.0 client id (KLARNA_CLIENT_ID).
    #[arg(long)]
    client_id: Option<String>,
    /// An OAuth 2.0 client secret (KLARNA_CLIENT_SECRET).
    #[arg(long)]
    client_secret: Option<String>,
    /// OAuth 2.0 scopes, space-separated.
    #[arg(long)]
    scopes: Option<String>,
    /// A bearer token (KLARNA_TOKEN).
    #[arg(long)]
    token: Option<String>,
    /// Real HTTPS to Klarna; credentials not given as options come from the environment variables above. Without --live: the simulator's.
    #[arg(long)]
    live: bool,
    /// The component (default: target/wasm32-wasip2/release/klarna_connector.wasm, or KLARNA_CONNECTOR_WASM).
    #[arg(long)]
    wasm: Option<String>,
    /// bench: the component to ship, measured too.
    #[arg(long)]
    optimized: Option<String>,
    /// serve, listen, panel, service: the port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// listen: the flow's answer to callbacks that need one, e.g. '{"approve":true}'.
    #[arg(long)]
    answer: Option<String>,
    /// sync: the file that keeps the state between runs (read first if it exists, written last).
    #[arg(long)]
    state_file: Option<std::path::PathBuf>,
}

/// `KEY=VALUE` of `--setting`.
fn key_value(pair: &str) -> Result<(String, String), String> {
    let (key, value) = pair.split_once('=').ok_or(format!("{pair:?}: expected KEY=VALUE"))?;
    Ok((key.to_string(), value.to_string()))
}

/// The command line, or the help (clap's `--help` is an "error" to print).
fn parse(args: &[String]) -> Result<std::result::Result<Options, String>, String> {
    use clap::Parser as _;
    match Options::try_parse_from(std::iter::once("host-test").chain(args.iter().map(String::as_str))) {
        Ok(options) => Ok(Ok(options)),
        Err(e) if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) => {
            Ok(Err(e.render().to_string()))
        }
        Err(e) => Err(e.render().to_string().trim_start_matches("error: ").trim_end().to_string()),
    }
}

/// Runs the CLI; the text to print, or an error message.
pub fn run(args: &[String]) -> Result<String, String> {
    let options = match parse(args)? {
        Ok(options) => options,
        Err(help) => return Ok(help),
    };
    match options.command.as_str() {
        "help" => Ok(help()),
        "demo" => demo(&options),
        "describe" => {
            let mut session = Session::start(&options, None)?;
            session.instance.describe().map_err(trap)
        }
        "entities" => entities(&options),
        "test" => test(&options),
        "tables" => match &options.entity {
            Some(readme) => crate::docs::write_tables(std::path::Path::new(readme)),
            None => crate::docs::tables(),
        },
        "serve" => serve(&options),
        "listen" => listen(&options),
        "panel" => panel(&options),
        "compose" => compose(&options),
        "strip" => crate::strip::run(options.entity.as_deref().ok_or("strip needs the component's path")?),
        "service-bench" => {
            let clients = options.clients.unwrap_or(8);
            crate::service_bench::run(std::path::Path::new(COMPOSED_PATH), clients, 10)
        }
        "service" => service(&options),
        "service-check" => {
            let url = options.entity.as_deref().ok_or("service-check needs the service's URL")?;
            let token = std::env::var("SERVICE_TOKEN").map_err(|_| "service-check needs SERVICE_TOKEN")?;
            crate::service_check::run(url, &token)
        }
        "bench" => {
            let path = options.wasm.as_ref().map(Into::into).unwrap_or_else(default_component_path);
            crate::bench::run(&path, options.optimized.as_deref().map(std::path::Path::new))
        }
        "bench-throughput" => {
            let path = options.wasm.as_ref().map(Into::into).unwrap_or_else(default_component_path);
            crate::bench::run_throughput(&path)
        }
        "subscribe" => subscribe(&options),
        "sync" => sync(&options),
        "publish" => publish(&options),
        other => Err(format!("unknown command {other:?}\n\n{}", help())),
    }
}

/// The `--help` text.
fn help() -> String {
    use clap::CommandFactory as _;
    Options::command().render_help().to_string()
}

/// A trap, as the CLI reports it.
pub(crate) fn trap(e: wasmtime::Error) -> String {
    format!("the component trapped: {e:?}")
}

/// A runtime, an instance and (after `open`) a connection.
struct Session {
    instance: Instance,
    simulator: Option<Simulator>,
    _runtime: Runtime,
}

impl Session {
    fn start(options: &Options, simulator: Option<Simulator>) -> Result<Self, String> {
        let path = options.wasm.as_ref().map(Into::into).unwrap_or_else(default_component_path);
        let runtime = Runtime::load(&path, Limits::default()).map_err(|e| format!("{e:?}"))?;
        let (backend, simulator): (Box<dyn HttpBackend>, _) = if options.live {
            (Box::new(LiveBackend::default()), None)
        } else {
            let simulator = simulator.unwrap_or_else(seeded_simulator);
            (Box::new(SimulatorBackend(simulator.clone())), Some(simulator))
        };
        let instance = runtime.instantiate(backend).map_err(|e| format!("{e:?}"))?;
        Ok(Self { instance, simulator, _runtime: runtime })
    }

    fn open(&mut self, config: &ConnectionConfig) -> Result<ResourceAny, String> {
        self.instance.open(config).map_err(trap)?.map_err(|e| describe_error(&e))
    }
}

/// The CLI's simulator: three authorized orders, ids printed by `entities`.
fn seeded_simulator() -> Simulator {
    let simulator = Simulator::default();
    for amount in [10_000, 25_000, 4_990] {
        simulator.place_order(amount, "EUR", "DE", "de-DE");
    }
    simulator
}

/// The auth kind to use: `--auth`, else the kind of the credential options
/// given, else the API type's first (its manifest order).
fn auth_kind(options: &Options, api_type: &str) -> Result<String, String> {
    if let Some(kind) = &options.auth {
        return Ok(kind.clone());
    }
    let given = [
        (options.api_key.is_some(), "api_key"),
        (options.token.is_some(), "token"),
        (options.client_id.is_some() || options.client_secret.is_some(), "oauth2"),
        (options.username.is_some() || options.password.is_some(), basic_kind(api_type)),
    ];
    if let Some((_, kind)) = given.iter().find(|(given, _)| *given) {
        return Ok(kind.to_string());
    }
    let manifest = klarna_connector::manifest::Manifest::get();
    let first = manifest.api_type(api_type).and_then(|t| t.auth.first());
    Ok(first.map_or("basic", |kind| kind.as_str()).to_string())
}

/// The connection config for `api_type`: the options, then (with `--live`)
/// the environment, then (on the simulator) the simulator's credentials.
fn config(options: &Options, api_type: &str) -> Result<ConnectionConfig, String> {
    let pick = |given: &Option<String>, var: &str, simulator: &str| -> Result<String, String> {
        match given {
            Some(v) => Ok(v.clone()),
            None if options.live => {
                std::env::var(var).map_err(|_| format!("--live needs {var} (or the matching option)"))
            }
            None => Ok(simulator.to_string()),
        }
    };
    let auth = match auth_kind(options, api_type)?.as_str() {
        // An API key is sent as the password of a Basic pair with no username.
        "api_key" => Auth::Basic(BasicAuth {
            username: String::new(),
            password: pick(&options.api_key, "KLARNA_API_KEY", sim::API_KEY)?,
        }),
        "basic" => Auth::Basic(BasicAuth {
            username: pick(&options.username, "KLARNA_API_USERNAME", sim::USERNAME)?,
            password: pick(&options.password, "KLARNA_API_PASSWORD", sim::PASSWORD)?,
        }),
        "oauth2" => Auth::Oauth2(Oauth2Client {
            client_id: pick(&options.client_id, "KLARNA_CLIENT_ID", sim::CLIENT_ID)?,
            client_secret: pick(&options.client_secret, "KLARNA_CLIENT_SECRET", sim::CLIENT_SECRET)?,
            scopes: options.scopes.as_deref().unwrap_or_default().split_whitespace().map(str::to_string).collect(),
        }),
        "token" => Auth::Token(pick(&options.token, "KLARNA_TOKEN", sim::SHIPPING_TOKEN)?),
        "shipping_key" => Auth::Basic(BasicAuth {
            username: pick(&options.username, "KLARNA_SHIPPING_IDENTIFIER", sim::shipping_service::EXAMPLE_IDENTIFIER)?,
            password: pick(&options.password, "KLARNA_SHIPPING_KEY", sim::shipping_service::EXAMPLE_KEY)?,
        }),
        other => {
            return Err(format!("--auth: unknown auth kind {other:?} (api_key, basic, oauth2, token or shipping_key)"))
        }
    };
    let mut settings = options.settings.clone();
    // The shipping assistant's public URL, on the simulator: the mount its Shipping Service calls.
    let offers_public_url = klarna_connector::manifest::Manifest::get()
        .api_type(api_type)
        .is_some_and(|t| t.settings.iter().any(|s| s.key == "public_url"));
    if offers_public_url && !options.live && !settings.iter().any(|(k, _)| k == "public_url") {
        settings.push(("public_url".into(), sim::shipping_service::EXAMPLE_MOUNT.into()));
    }
    Ok(ConnectionConfig {
        api_type: api_type.to_string(),
        environment: options.environment.clone().unwrap_or_else(|| "playground".into()),
        region: options.region.clone().unwrap_or_else(|| "eu".into()),
        auth,
        settings,
    })
}

/// The auth kind a username and password make: the shipping assistant's
/// identifier and key where the API type offers them, else Basic credentials.
fn basic_kind(api_type: &str) -> &'static str {
    let manifest = klarna_connector::manifest::Manifest::get();
    let offers = manifest.api_type(api_type).is_some_and(|t| t.auth.iter().any(|k| k.as_str() == "shipping_key"));
    if offers {
        "shipping_key"
    } else {
        "basic"
    }
}

/// The entity named on the command line, refused with the API type's
/// entities and the closest name when it is not one of them.
fn known_entity(options: &Options, command: &str) -> Result<String, String> {
    let name = options.entity.clone().ok_or(format!("{command} needs an ENTITY"))?;
    let api_type = api_type_of(options);
    let manifest = klarna_connector::manifest::Manifest::get();
    let names: Vec<&str> =
        manifest.entities.iter().filter(|e| e.api_type.as_str() == api_type).map(|e| e.name).collect();
    if names.contains(&name.as_str()) {
        return Ok(name);
    }
    let closest = names.iter().min_by_key(|n| edit_distance(n, &name)).filter(|n| edit_distance(n, &name) <= 3);
    let hint = closest.map(|n| format!(" (did you mean {n}?)")).unwrap_or_default();
    Err(format!("unknown entity {name:?} for API type {api_type}{hint}; its entities: {}", names.join(", ")))
}

/// Levenshtein distance between two names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

fn api_type_of(options: &Options) -> String {
    if let Some(t) = &options.api_type {
        return t.clone();
    }
    let manifest = klarna_connector::manifest::Manifest::get();
    options
        .entity
        .as_deref()
        .and_then(|name| manifest.entity(name))
        .map(|e| e.api_type.to_string())
        .unwrap_or_else(|| "post-purchase".into())
}

fn params(options: &Options) -> Result<Params, String> {
    let Some(text) = &options.params else {
        return Ok(Params { path: vec![], query: vec![], payload: None });
    };
    let value: Value = serde_json::from_str(text).map_err(|e| format!("--params: {e}"))?;
    let Value::Object(object) = &value else {
        return Err("--params: expected a JSON object {\"path\":{..},\"query\":{..},\"payload\":{..}}".into());
    };
    if let Some(unknown) = object.keys().find(|k| !["path", "query", "payload"].contains(&k.as_str())) {
        return Err(format!("--params: unknown key {unknown:?} (expected path, query and payload)"));
    }
    let pairs = |key: &str| -> Result<Vec<(String, String)>, String> {
        match value.get(key) {
            None => Ok(vec![]),
            Some(Value::Object(map)) => Ok(map
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
                .collect()),
            Some(_) => Err(format!("--params: {key} must be an object")),
        }
    };
    Ok(Params { path: pairs("path")?, query: pairs("query")?, payload: value.get("payload").map(Value::to_string) })
}

fn method(options: &Options, default: Method) -> Result<Method, String> {
    Ok(match options.method.as_deref() {
        None => default,
        Some("get") => Method::Get,
        Some("post") => Method::Post,
        Some("put") => Method::Put,
        Some("patch") => Method::Patch,
        Some("delete") => Method::Delete,
        Some(other) => return Err(format!("--method: unknown method {other:?}")),
    })
}

fn entities(options: &Options) -> Result<String, String> {
    let mut session = Session::start(options, None)?;
    let connection = session.open(&config(options, &api_type_of(options))?)?;
    let list = session.instance.entities(connection).map_err(trap)?;
    let mut out = String::new();
    for e in list {
        let ops: Vec<String> =
            e.operations.iter().map(|o| format!("{} {}", crate::backend::method_name(o.method), o.path)).collect();
        let _ = writeln!(out, "{:<40} {}{}", e.name, ops.join(" | "), if e.paginated { "  (paginated)" } else { "" });
    }
    if out.is_empty() {
        out.push_str("(no entities)\n");
    }
    if let (Some(sim), "post-purchase") = (&session.simulator, api_type_of(options).as_str()) {
        let _ = writeln!(out, "\nsimulator orders: {}", seeded_order_ids(sim).join(", "));
    }
    Ok(out)
}

fn seeded_order_ids(sim: &Simulator) -> Vec<String> {
    (1..=3u64).map(|n| sim::clock::uuid(0x0de7, n)).filter(|id| sim.order(id).is_some()).collect()
}

/// `test()` on a connection: what it proved, or the error.
fn test(options: &Options) -> Result<String, String> {
    let mut session = Session::start(options, None)?;
    let connection = session.open(&config(options, &api_type_of(options))?)?;
    session.instance.test(connection).map_err(trap)?.map_err(|e| describe_error(&e))?;
    let said = session.instance.logs().iter().rev().find_map(|l| l.message.strip_prefix("test passed: "));
    Ok(format!("test passed: {}\n", said.unwrap_or("(the component said nothing more)")))
}

/// Reads every page of an incremental entity from the state a previous run
/// left in `--state-file`, then stores the state it ends with there, as a
/// host keeps it between scheduled runs.
fn sync(options: &Options) -> Result<String, String> {
    let entity = known_entity(options, "sync")?;
    let since = match &options.state_file {
        Some(file) if file.exists() => {
            let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
            Some(text.trim().to_string()).filter(|t| !t.is_empty())
        }
        _ => None,
    };
    let mut session = Session::start(options, None)?;
    let connection = session.open(&config(options, &api_type_of(options))?)?;
    let from = if since.is_some() { "the stored state" } else { "the start (a full read)" };
    let request =
        SubscribeRequest { entity, params: params(options)?, cursor: None, page_size: options.page_size, since };
    let entity = request.entity.clone();
    let read = read_to_end(&mut session.instance, connection, request)?;
    let mut out = String::new();
    for record in &read.records {
        let _ = writeln!(out, "{record}");
    }
    let Some(state) = read.state else {
        return Err(format!("{entity} is not read incrementally: it ends with no state"));
    };
    let kept = match &options.state_file {
        Some(file) => {
            std::fs::write(file, format!("{state}\n")).map_err(|e| format!("{}: {e}", file.display()))?;
            format!("state kept in {}", file.display())
        }
        None => format!("state: {state}"),
    };
    let _ = writeln!(out, "# {} records in {} pages, from {from}; {kept}", read.records.len(), read.pages);
    Ok(out)
}

/// What [`read_to_end`] read: every record, the pages, and the state the last page ended with.
struct ReadToEnd {
    records: Vec<String>,
    pages: usize,
    state: Option<String>,
}

/// Every page of `request`, from its cursor (or the first) to the last;
/// `since` goes with the first page only, as the contract says.
fn read_to_end(
    instance: &mut Instance,
    connection: ResourceAny,
    mut request: SubscribeRequest,
) -> Result<ReadToEnd, String> {
    let mut read = ReadToEnd { records: vec![], pages: 0, state: None };
    loop {
        let page = instance.subscribe(connection, &request).map_err(trap)?.map_err(|e| describe_error(&e))?;
        read.pages += 1;
        read.records.extend(page.records);
        request.since = None;
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => {
                read.state = page.state;
                return Ok(read);
            }
        }
    }
}

fn subscribe(options: &Options) -> Result<String, String> {
    let entity = known_entity(options, "subscribe")?;
    let mut session = Session::start(options, None)?;
    let connection = session.open(&config(options, &api_type_of(options))?)?;
    let mut request = SubscribeRequest {
        entity,
        params: params(options)?,
        cursor: options.cursor.clone(),
        page_size: options.page_size,
        since: None,
    };
    let mut out = String::new();
    loop {
        let page = session.instance.subscribe(connection, &request).map_err(trap)?.map_err(|e| describe_error(&e))?;
        for record in &page.records {
            let _ = writeln!(out, "{record}");
        }
        let _ = writeln!(
            out,
            "# {} records; next cursor: {}",
            page.records.len(),
            page.next_cursor.as_deref().unwrap_or("none")
        );
        match page.next_cursor {
            Some(cursor) if options.all => request.cursor = Some(cursor),
            _ => return Ok(out),
        }
    }
}

fn publish(options: &Options) -> Result<String, String> {
    let entity = known_entity(options, "publish")?;
    let mut session = Session::start(options, None)?;
    let connection = session.open(&config(options, &api_type_of(options))?)?;
    let request = PublishRequest {
        entity,
        method: method(options, Method::Post)?,
        params: params(options)?,
        idempotency_key: options.key.clone(),
    };
    let result = session.instance.publish(connection, &request).map_err(trap)?.map_err(|e| describe_error(&e))?;
    Ok(format!(
        "status {}; id {}; data {}\n",
        result.status,
        result.id.as_deref().unwrap_or("-"),
        result.data.as_deref().unwrap_or("-")
    ))
}

/// Serves the simulator until the process is killed; prints the address first.
fn serve(options: &Options) -> Result<String, String> {
    let listener = crate::serve::bind(options.port).map_err(|e| format!("cannot listen: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{address}");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    crate::serve::run(listener, seeded_simulator()).map_err(|e| format!("serving: {e}"))?;
    Ok(String::new())
}

/// One build of the service: the adapters `./x service` built and the file composed from them.
#[derive(Clone, Copy, Debug)]
pub struct ServiceBuild {
    /// The http bridge.
    pub bridge: &'static str,
    /// The service adapter.
    pub service: &'static str,
    /// The composed component.
    pub composed: &'static str,
}

/// The service that reads its deployment's variables from the environment
/// (`wasmtime serve`, Spin, jco serve).
pub const ENV_SERVICE: ServiceBuild = ServiceBuild {
    bridge: "target/adapters/env/ipaas_http_bridge.wasm",
    service: "target/adapters/env/ipaas_http_service.wasm",
    composed: "target/klarna_connector.service.wasm",
};

/// The service that also reads them from `wasi:config/runtime@0.2.0-draft`
/// (wasmCloud's component config; the adapters' `wasi-config` feature).
pub const WASI_CONFIG_SERVICE: ServiceBuild = ServiceBuild {
    bridge: "target/adapters/wasi-config/ipaas_http_bridge.wasm",
    service: "target/adapters/wasi-config/ipaas_http_service.wasm",
    composed: "target/klarna_connector.service.wasi-config.wasm",
};

/// The service that also reads them from `wasi:config/store@0.2.0-draft-2024-09-27`
/// (Spin 3.x variables and secrets, SpinKube; the adapters' `wasi-config-store` feature).
pub const SPIN_SERVICE: ServiceBuild = ServiceBuild {
    bridge: "target/adapters/spin/ipaas_http_bridge.wasm",
    service: "target/adapters/spin/ipaas_http_service.wasm",
    composed: "target/klarna_connector.service.spin.wasm",
};

/// Every build of the service, as `./x service` makes them.
pub const SERVICE_BUILDS: [ServiceBuild; 3] = [ENV_SERVICE, WASI_CONFIG_SERVICE, SPIN_SERVICE];

/// The composed component most commands serve.
pub const COMPOSED_PATH: &str = ENV_SERVICE.composed;

/// Composes the plugin with each build's adapters.
fn compose(options: &Options) -> Result<String, String> {
    let plugin = options.wasm.as_ref().map(Into::into).unwrap_or_else(default_component_path);
    let read =
        |path: &std::path::Path| std::fs::read(path).map_err(|e| format!("{}: {e} (run ./x service)", path.display()));
    let plugin = read(&plugin)?;
    let mut written = Vec::new();
    for build in SERVICE_BUILDS {
        let composed = crate::service::compose(
            &plugin,
            &read(std::path::Path::new(build.bridge))?,
            &read(std::path::Path::new(build.service))?,
        )?;
        std::fs::write(build.composed, &composed).map_err(|e| format!("{}: {e}", build.composed))?;
        written.push(format!("{} ({} bytes)", build.composed, composed.len()));
    }
    Ok(written.join("\n") + "\n")
}

/// Serves the composed component until the process is killed.
fn service(options: &Options) -> Result<String, String> {
    let api_type = options.api_type.clone().unwrap_or_else(|| "post-purchase".into());
    let config = config(options, &api_type)?;
    let given = std::env::var("SERVICE_TOKEN").ok().filter(|t| !t.is_empty());
    let token = given.clone().unwrap_or_else(|| "local-service-token".into());
    let env = crate::service::deployment_env(&config, &token);
    let served = crate::service::serve(
        std::path::Path::new(COMPOSED_PATH),
        seeded_simulator(),
        crate::service::ServeOptions { env, pooling: true, port: options.port, ..Default::default() },
    )?;
    let shown = if given.is_some() { "from the environment".to_string() } else { format!("SERVICE_TOKEN={token}") };
    println!("serving {COMPOSED_PATH} on http://{} for a {api_type} connection ({shown})", served.addr);
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}

/// Serves the reference connection panel until the process is killed.
fn panel(options: &Options) -> Result<String, String> {
    let session = Session::start(options, None)?;
    let listener = crate::serve::bind(options.port).map_err(|e| format!("cannot listen: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let backend = if options.live { "Klarna's API (--live)" } else { "the embedded simulator" };
    println!("panel on http://{address}/ (calls go to {backend})");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    crate::panel::run(listener, session.instance, session._runtime)
}

/// Serves a connection's public endpoint until the process is killed.
fn listen(options: &Options) -> Result<String, String> {
    let api_type = options.api_type.clone().unwrap_or_else(|| "purchase".into());
    let mut session = Session::start(options, None)?;
    let connection = session.open(&config(options, &api_type)?)?;
    let listener = crate::serve::bind(options.port).map_err(|e| format!("cannot listen: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{address} for a {api_type} connection; routes:");
    let manifest: serde_json::Value =
        serde_json::from_str(crate::manifest_text::CONNECTOR_JSON).map_err(|e| e.to_string())?;
    for callback in manifest["callbacks"].as_array().into_iter().flatten() {
        if callback["api_type"] == api_type.as_str() {
            println!(
                "  {} http://{address}{}",
                callback["kind"].as_str().unwrap_or_default(),
                callback["register_url"].as_str().unwrap_or_default()
            );
        }
    }
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let Session { instance, _runtime: runtime, .. } = session;
    crate::listen::run(listener, instance, connection, options.answer.clone()).map_err(|e| format!("serving: {e}"))?;
    drop(runtime);
    Ok(String::new())
}

/// One line for a connector error, as a person reads it.
pub fn describe_error(error: &ConnectorError) -> String {
    let api = |kind: &str, e: &crate::runtime::ApiError| {
        format!(
            "{kind}: HTTP {} {} {}{}",
            e.status,
            e.code.as_deref().unwrap_or("-"),
            e.messages.join("; "),
            e.correlation_id.as_deref().map(|c| format!(" (correlation id {c})")).unwrap_or_default()
        )
    };
    match error {
        ConnectorError::InvalidConfig(m) => format!("invalid-config: {m}"),
        ConnectorError::InvalidInput(m) => format!("invalid-input: {m}"),
        ConnectorError::Unauthorized(e) => api("unauthorized", e),
        ConnectorError::NotFound(e) => api("not-found", e),
        ConnectorError::Rejected(e) => api("rejected", e),
        ConnectorError::RateLimited(r) => {
            format!("{} (retry after {:?} ms)", api("rate-limited", &r.error), r.retry_after_ms)
        }
        ConnectorError::Unavailable(e) => api("unavailable", e),
        ConnectorError::Transport(m) => format!("transport: {m}"),
        ConnectorError::Unexpected(e) => api("unexpected", e),
        ConnectorError::OutcomeUnknown(m) => format!("outcome-unknown: {m}"),
    }
}

/// The demo: every first-slice step on the simulator, printed as it goes.
fn demo(options: &Options) -> Result<String, String> {
    if options.live {
        return Err("demo runs on the embedded simulator only (it places orders there)".into());
    }
    let simulator = Simulator::new(1_234);
    let mut s = Session::start(options, Some(simulator.clone()))?;
    let mut out = String::new();
    let step = |out: &mut String, title: &str, text: String| {
        let _ = writeln!(out, "▸ {title}\n  {}", text.replace('\n', "\n  "));
    };
    let manifest: Value = serde_json::from_str(&s.instance.describe().map_err(trap)?).map_err(|e| e.to_string())?;
    step(
        &mut out,
        "describe()",
        format!(
            "{} {} implementing {}, {} entities",
            manifest["name"],
            manifest["version"],
            manifest["wit"],
            manifest["entities"].as_array().map_or(0, Vec::len)
        ),
    );

    // Purchase: a payment session, authorized by the customer, becomes an order.
    let purchase = s.open(&config(options, "purchase")?)?;
    let order = serde_json::json!({
        "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE", "intent": "buy",
        "order_amount": 10000, "order_tax_amount": 1597,
        "order_lines": [{"type": "physical", "reference": "BAT-1", "name": "Battery pack", "quantity": 2,
            "unit_price": 5500, "total_discount_amount": 1000, "total_amount": 10000, "tax_rate": 1900, "total_tax_amount": 1597}]
    });
    let mut wrong = order.clone();
    wrong["order_lines"][0]["total_amount"] = serde_json::json!(11000);
    let publish = |s: &mut Session, entity: &str, path: Vec<(String, String)>, payload: &Value| {
        let request = PublishRequest {
            entity: entity.into(),
            method: Method::Post,
            params: Params { path, query: vec![], payload: Some(payload.to_string()) },
            idempotency_key: None,
        };
        s.instance.publish(purchase, &request).map_err(trap)
    };
    let refused = publish(&mut s, "payment-sessions", vec![], &wrong)?;
    step(
        &mut out,
        "publish(payment-sessions) with a line total that does not add up",
        match refused {
            Ok(r) => format!("unexpectedly accepted: HTTP {}", r.status),
            Err(e) => format!("refused before sending → {}", describe_error(&e)),
        },
    );
    let session = publish(&mut s, "payment-sessions", vec![], &order)?.map_err(|e| describe_error(&e))?;
    let session_id = session.id.unwrap_or_default();
    let read = SubscribeRequest {
        entity: "payment-session".into(),
        params: Params { path: vec![("session_id".into(), session_id.clone())], query: vec![], payload: None },
        cursor: None,
        page_size: None,
        since: None,
    };
    let page = s.instance.subscribe(purchase, &read).map_err(trap)?.map_err(|e| describe_error(&e))?;
    let record: Value = page.records.first().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
    step(
        &mut out,
        "publish(payment-sessions), then subscribe(payment-session)",
        format!(
            "HTTP {} · session {session_id} · status {} · expires_at {}",
            session.status, record["status"], record["expires_at"]
        ),
    );
    let token = simulator.authorize_session(&session_id).ok_or("the simulator lost the session")?;
    step(&mut out, "the customer authorizes in Klarna's widget (simulated)", format!("authorization token {token}"));
    let placed = publish(&mut s, "payment-authorization-orders", vec![("authorizationToken".into(), token)], &order)?
        .map_err(|e| describe_error(&e))?;
    let order_id = placed.id.unwrap_or_default();
    step(&mut out, "publish(payment-authorization-orders)", format!("HTTP {} · order {order_id}", placed.status));

    let before = simulator.received().len();
    let om = s.open(&config(options, "post-purchase")?)?;
    let sent = simulator.received().len() - before;
    step(&mut out, "open(post-purchase, playground, eu)", format!("configuration valid; {sent} requests sent"));
    s.instance.test(om).map_err(trap)?.map_err(|e| describe_error(&e))?;
    let said = s.instance.logs().iter().rev().find_map(|l| l.message.strip_prefix("test passed: ").map(str::to_string));
    let probe = simulator.received().pop().map(|r| {
        let path = r.url.split_once(".com").map_or(r.url.as_str(), |(_, p)| p).to_string();
        let status = r.response.map_or("no answer".to_string(), |a| format!("HTTP {}", a.status));
        format!("{} {path} → {status}", r.method)
    });
    step(
        &mut out,
        "test()",
        format!(
            "the component: {} · the simulator saw: {}",
            said.as_deref().unwrap_or("(logged nothing)"),
            probe.as_deref().unwrap_or("(no request)")
        ),
    );
    let names: Vec<String> = s.instance.entities(om).map_err(trap)?.into_iter().map(|e| e.name).collect();
    step(&mut out, "entities()", names.join(", "));

    let order_path = vec![("order_id".to_string(), order_id.clone())];
    let read_order = |s: &mut Session| -> Result<Value, String> {
        let request = SubscribeRequest {
            entity: "order".into(),
            params: Params { path: order_path.clone(), query: vec![], payload: None },
            cursor: None,
            page_size: None,
            since: None,
        };
        let page = s.instance.subscribe(om, &request).map_err(trap)?.map_err(|e| describe_error(&e))?;
        let record = page.records.first().ok_or("order read returned no record")?;
        serde_json::from_str(record).map_err(|e| e.to_string())
    };
    let summary = |o: &Value| {
        format!(
            "status {} · order {} · captured {} · refunded {} · remaining {} {}",
            o["status"],
            o["order_amount"],
            o["captured_amount"],
            o["refunded_amount"],
            o["remaining_authorized_amount"],
            o["purchase_currency"]
        )
    };
    let order = read_order(&mut s)?;
    step(&mut out, &format!("subscribe(order {order_id})"), summary(&order));

    let write = |s: &mut Session, entity: &str, payload: Option<&str>| {
        let request = PublishRequest {
            entity: entity.into(),
            method: Method::Post,
            params: Params { path: order_path.clone(), query: vec![], payload: payload.map(str::to_string) },
            idempotency_key: None,
        };
        s.instance.publish(om, &request).map_err(trap)
    };
    let capture = write(&mut s, "order-captures", Some(r#"{"captured_amount":6000,"description":"First shipment"}"#))?
        .map_err(|e| describe_error(&e))?;
    let first_id = capture.id.unwrap_or_default();
    step(&mut out, "publish(order-captures, 60.00 EUR)", format!("HTTP {} · capture id {first_id}", capture.status));
    let again = write(&mut s, "order-captures", Some(r#"{"captured_amount":6000,"description":"First shipment"}"#))?
        .map_err(|e| describe_error(&e))?;
    let again_id = again.id.unwrap_or_default();
    let captures = simulator.order(&order_id).map_or(0, |o| o.captures.len());
    step(
        &mut out,
        "publish(order-captures) again, same record (a host retry after a crash)",
        if again_id == first_id {
            format!(
                "HTTP {} · same capture id; the order has {captures} capture (derived idempotency key: applied once)",
                again.status
            )
        } else {
            format!("HTTP {} · NEW capture id {again_id}: the order has {captures} captures", again.status)
        },
    );
    let refund = write(&mut s, "order-refunds", Some(r#"{"refunded_amount":2000,"description":"Returned item"}"#))?
        .map_err(|e| describe_error(&e))?;
    step(
        &mut out,
        "publish(order-refunds, 20.00 EUR)",
        format!("HTTP {} · refund id {}", refund.status, refund.id.unwrap_or_default()),
    );
    let cancel = write(&mut s, "order-cancel", None)?;
    step(
        &mut out,
        "publish(order-cancel)",
        match cancel {
            Ok(r) => format!("unexpectedly accepted: HTTP {}", r.status),
            Err(e) => format!("refused as Klarna does → {}", describe_error(&e)),
        },
    );
    let release = write(&mut s, "order-release-remaining-authorization", None)?.map_err(|e| describe_error(&e))?;
    step(&mut out, "publish(order-release-remaining-authorization)", format!("HTTP {}", release.status));
    step(&mut out, "subscribe(order) again", summary(&read_order(&mut s)?));

    let settlements = s.open(&config(options, "settlements")?)?;
    let request = SubscribeRequest {
        entity: "transactions".into(),
        params: Params { path: vec![], query: vec![], payload: None },
        cursor: None,
        page_size: Some(500),
        since: None,
    };
    let read = read_to_end(&mut s.instance, settlements, request)?;
    let (pages, records) = (read.pages, read.records.len());
    let total: i64 =
        read.records.iter().filter_map(|r| serde_json::from_str::<Value>(r).ok()?["amount"].as_i64()).sum();
    step(
        &mut out,
        "subscribe(transactions, page size 500, every page)",
        format!(
            "{records} transactions in {pages} pages (simulator holds {}) · net amount {total}",
            simulator.transaction_count()
        ),
    );

    // Incremental: a full read of the payouts ends with a state; a day later
    // Klarna settles one more, and the next read asks only from the state.
    let read_payouts = |s: &mut Session, since: Option<String>| -> Result<(usize, usize, Option<String>), String> {
        let request = SubscribeRequest {
            entity: "payouts".into(),
            params: Params { path: vec![], query: vec![], payload: None },
            cursor: None,
            page_size: Some(20),
            since,
        };
        let sent_before = simulator.received().len();
        let read = read_to_end(&mut s.instance, settlements, request)?;
        Ok((read.records.len(), simulator.received().len() - sent_before, read.state))
    };
    let (all, _, state) = read_payouts(&mut s, None)?;
    simulator.advance(86_400);
    let new = simulator.settle(0, 40);
    let (since, requests, _) = read_payouts(&mut s, state)?;
    let window = simulator.received().last().and_then(|r| {
        let url = url::Url::parse(&r.url).ok()?;
        url.query_pairs().find(|(k, _)| k == "start_date").map(|(_, v)| v.into_owned())
    });
    step(
        &mut out,
        "subscribe(payouts) in full, then again with since after Klarna settled one more",
        format!(
            "first read: {all} payouts and a state · second read: {since} payouts in {requests} request, from start_date {} (the last read's newest payout less the 7-day look-back), the new {new} among them",
            window.unwrap_or_default()
        ),
    );

    let wrong = ConnectionConfig {
        auth: Auth::Basic(BasicAuth { username: sim::USERNAME.into(), password: "wrong".into() }),
        ..config(options, "settlements")?
    };
    let bad = s.instance.open(&wrong).map_err(trap)?.map_err(|e| describe_error(&e))?;
    let answer = s.instance.test(bad).map_err(trap)?;
    step(
        &mut out,
        "test() with a wrong password",
        match answer {
            Ok(()) => "unexpectedly accepted".into(),
            Err(e) => describe_error(&e),
        },
    );
    let push =
        crate::push_demo::run(&mut s.instance, &simulator, config(options, "network")?, config(options, "purchase")?)?;
    let shipping = crate::push_demo::shipping(&mut s.instance, config(options, "shipping-assistant")?)?;
    for (title, text) in push.into_iter().chain(shipping) {
        step(&mut out, &title, text);
    }
    let logs = s.instance.logs().len();
    let _ = writeln!(
        out,
        "\n{logs} log lines from the component; {} requests reached the simulator.",
        simulator.received().len()
    );
    Ok(out)
}
