//! The connector as a `wasi:http` service: the plugin composed with the two
//! generic adapters (`adapters/`), and served the way `wasmtime serve` serves
//! any `wasi:http/proxy` component (wasmtime-wasi-http on hyper), with the
//! outgoing requests to Klarna's hosts answered by the embedded simulator.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use tokio::sync::oneshot;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

use crate::runtime::{Auth, ConnectionConfig};
use crate::sim::{NetworkFailure, SimRequest, Simulator};

/// The interfaces the plugin imports and the bridge exports.
const PLUGIN_IMPORTS: [&str; 3] =
    ["ipaas:connector/types@0.3.0", "ipaas:connector/http@0.3.0", "ipaas:connector/log@0.3.0"];

/// The plugin's export the service imports.
const CONNECTOR: &str = "ipaas:connector/connector@0.3.0";

/// The service's export.
const INCOMING_HANDLER: &str = "wasi:http/incoming-handler@0.2.4";

/// Composes `plugin` with the http bridge and the service: the bridge
/// satisfies the plugin's imports, the plugin's `connector` and the bridge's
/// `types` the service's; what remains imported is WASI only.
pub fn compose(plugin: &[u8], bridge: &[u8], service: &[u8]) -> Result<Vec<u8>, String> {
    let mut graph = CompositionGraph::new();
    let mut register = |name: &str, bytes: &[u8]| {
        let package =
            Package::from_bytes(name, None, bytes.to_vec(), graph.types_mut()).map_err(|e| format!("{name}: {e:#}"))?;
        graph.register_package(package).map_err(|e| format!("{name}: {e:#}"))
    };
    let (plugin, bridge, service) = (
        register("ipaas:plugin", plugin)?,
        register("ipaas:http-bridge", bridge)?,
        register("ipaas:service", service)?,
    );
    let bridge = graph.instantiate(bridge);
    let plugin = graph.instantiate(plugin);
    let service = graph.instantiate(service);
    fn fail(what: &'static str) -> impl Fn(wac_graph::InstantiationArgumentError) -> String {
        move |e| format!("{what}: {e:#}")
    }
    for name in PLUGIN_IMPORTS {
        let export = graph.alias_instance_export(bridge, name).map_err(|e| format!("the bridge's {name}: {e:#}"))?;
        graph.set_instantiation_argument(plugin, name, export).map_err(fail(name))?;
        if name == PLUGIN_IMPORTS[0] {
            graph.set_instantiation_argument(service, name, export).map_err(fail(name))?;
        }
    }
    let connector =
        graph.alias_instance_export(plugin, CONNECTOR).map_err(|e| format!("the plugin's {CONNECTOR}: {e:#}"))?;
    graph.set_instantiation_argument(service, CONNECTOR, connector).map_err(fail(CONNECTOR))?;
    let handler =
        graph.alias_instance_export(service, INCOMING_HANDLER).map_err(|e| format!("{INCOMING_HANDLER}: {e:#}"))?;
    graph.export(handler, INCOMING_HANDLER).map_err(|e| format!("exporting {INCOMING_HANDLER}: {e:#}"))?;
    graph.encode(EncodeOptions::default()).map_err(|e| format!("encoding: {e:#}"))
}

/// The deployment's environment for `config`, as docs/service.md documents it:
/// the connection, the bridge's allow-list (connector.json's) and the service token.
pub fn deployment_env(config: &ConnectionConfig, service_token: &str) -> Vec<(String, String)> {
    let mut env = vec![
        ("CONNECTOR_API_TYPE".to_string(), config.api_type.clone()),
        ("CONNECTOR_ENVIRONMENT".into(), config.environment.clone()),
        ("CONNECTOR_REGION".into(), config.region.clone()),
        ("SERVICE_TOKEN".into(), service_token.into()),
        ("CONNECTOR_ALLOWED_HOSTS".into(), klarna_connector::manifest::Manifest::get().hosts.allowed_list()),
    ];
    match &config.auth {
        Auth::Basic(b) => env.extend([
            ("CONNECTOR_USERNAME".into(), b.username.clone()),
            ("CONNECTOR_PASSWORD".into(), b.password.clone()),
        ]),
        Auth::Oauth2(o) => env.extend([
            ("CONNECTOR_AUTH".into(), "oauth2".into()),
            ("CONNECTOR_CLIENT_ID".into(), o.client_id.clone()),
            ("CONNECTOR_CLIENT_SECRET".into(), o.client_secret.clone()),
            ("CONNECTOR_SCOPES".into(), o.scopes.join(" ")),
        ]),
        Auth::Token(t) => {
            env.extend([("CONNECTOR_AUTH".into(), "token".into()), ("CONNECTOR_TOKEN".into(), t.clone())])
        }
    }
    let settings =
        config.settings.iter().map(|(k, v)| (format!("CONNECTOR_SETTING_{}", k.to_ascii_uppercase()), v.clone()));
    env.extend(settings);
    env
}

/// A composed service served on 127.0.0.1 until dropped.
pub struct ServedService {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What the component wrote to stderr (the bridge's log lines, the service's events), per request.
    pub stderr: Arc<Mutex<Vec<String>>>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for ServedService {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How to serve.
#[derive(Default)]
pub struct ServeOptions {
    /// The deployment's environment (the connection, `SERVICE_TOKEN`, `CONNECTOR_ALLOWED_HOSTS`).
    pub env: Vec<(String, String)>,
    /// What the engine's configuration interface answers, to the build that
    /// imports one: `wasi:config/runtime@0.2.0-draft` (wasmCloud's wadm
    /// `config`) or `wasi:config/store@0.2.0-draft-2024-09-27` (Spin's
    /// variables). Empty: the interface has no keys.
    pub config: Vec<(String, String)>,
    /// Response header names the engine refuses besides wasmtime's own
    /// (`WasiHttpHooks::is_forbidden_header`), as another engine may.
    pub forbidden_headers: Vec<http::HeaderName>,
    /// The pooling instance allocator (as `wasmtime serve` uses under load) instead of on-demand.
    pub pooling: bool,
    /// The port (0: any free one).
    pub port: u16,
}

/// Serves the composed component at `path` on 127.0.0.1, its outgoing
/// requests answered by `simulator`.
pub fn serve(path: &Path, simulator: Simulator, options: ServeOptions) -> Result<ServedService, String> {
    let mut config = Config::new();
    if options.pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(256).total_memories(1024).total_tables(1024).max_memory_size(64 << 20);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    let engine = Engine::new(&config).map_err(|e| format!("{e:#}"))?;
    let component = Component::from_file(&engine, path).map_err(|e| format!("loading {}: {e:#}", path.display()))?;
    let mut linker = Linker::<ServiceState>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| format!("{e:#}"))?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(|e| format!("{e:#}"))?;
    wasi_config::wasi::config::runtime::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| &mut state.config)
        .map_err(|e| format!("{e:#}"))?;
    wasi_config_store::wasi::config::store::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| &mut state.config)
        .map_err(|e| format!("{e:#}"))?;
    let pre = ProxyPre::new(linker.instantiate_pre(&component).map_err(|e| format!("{e:#}"))?)
        .map_err(|e| format!("{e:#}"))?;
    let listener = std::net::TcpListener::bind(("127.0.0.1", options.port)).map_err(|e| format!("binding: {e}"))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let server = Arc::new(Server {
        pre,
        env: options.env,
        config: options.config,
        forbidden: Arc::new(options.forbidden_headers),
        simulator,
        stderr: stderr.clone(),
    });
    let (shutdown, mut stop) = oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_multi_thread().enable_all().build() else { return };
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
            loop {
                let accepted = tokio::select! {
                    _ = &mut stop => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((client, _)) = accepted else { continue };
                let server = server.clone();
                tokio::task::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let server = server.clone();
                        async move { server.handle(request).await }
                    });
                    let _ =
                        http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(client), service).await;
                });
            }
        });
    });
    Ok(ServedService { addr, stderr, shutdown: Some(shutdown), thread: Some(thread) })
}

struct Server {
    pre: ProxyPre<ServiceState>,
    env: Vec<(String, String)>,
    config: Vec<(String, String)>,
    forbidden: Arc<Vec<http::HeaderName>>,
    simulator: Simulator,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// One request in a fresh store, as `wasmtime serve` does.
    async fn handle(
        &self,
        request: hyper::Request<hyper::body::Incoming>,
    ) -> wasmtime::Result<hyper::Response<HyperOutgoingBody>> {
        let pipe = MemoryOutputPipe::new(1 << 20);
        let mut wasi = WasiCtx::builder();
        wasi.envs(&self.env).stderr(pipe.clone());
        let state = ServiceState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            hooks: SimulatorHooks { simulator: self.simulator.clone(), forbidden: self.forbidden.clone() },
            config: ConfigValues(self.config.clone()),
        };
        let mut store = Store::new(self.pre.engine(), state);
        let (sender, receiver) = oneshot::channel();
        let incoming = store.data_mut().http().new_incoming_request(Scheme::Http, request)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = self.pre.clone();
        let stderr = self.stderr.clone();
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            let result = proxy.wasi_http_incoming_handler().call_handle(&mut store, incoming, out).await;
            let text = String::from_utf8_lossy(&pipe.contents()).into_owned();
            if let Ok(mut lines) = stderr.lock() {
                lines.extend(text.lines().map(str::to_string));
            }
            result
        });
        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(code)) => Err(code.into()),
            Err(_) => match task.await {
                Ok(Ok(())) => Err(wasmtime::format_err!("the service never answered")),
                Ok(Err(e)) => Err(e.context("the service trapped before answering")),
                Err(e) => Err(e.into()),
            },
        }
    }
}

struct ServiceState {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    hooks: SimulatorHooks,
    config: ConfigValues,
}

/// The host side of `wasi:config/runtime@0.2.0-draft` (the draft wasmCloud
/// implements; wasmtime-wasi-config 48 serves a later, incompatible version).
mod wasi_config {
    wasmtime::component::bindgen!({
        inline: "package ipaas:harness; world config-host { import wasi:config/runtime@0.2.0-draft; }",
        path: "../adapters/wit/deps/wasi-config",
    });
}

/// The host side of `wasi:config/store@0.2.0-draft-2024-09-27` (the draft
/// Spin 3.x implements for its variables).
mod wasi_config_store {
    wasmtime::component::bindgen!({
        inline: "package ipaas:harness-store; world store-host { import wasi:config/store@0.2.0-draft-2024-09-27; }",
        path: "../adapters/wit/deps/wasi-config-store",
    });
}

/// The config entries of one deployment.
struct ConfigValues(Vec<(String, String)>);

impl wasi_config_store::wasi::config::store::Host for ConfigValues {
    fn get(&mut self, key: String) -> Result<Option<String>, wasi_config_store::wasi::config::store::Error> {
        Ok(self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()))
    }

    fn get_all(&mut self) -> Result<Vec<(String, String)>, wasi_config_store::wasi::config::store::Error> {
        Ok(self.0.clone())
    }
}

impl wasi_config::wasi::config::runtime::Host for ConfigValues {
    fn get(&mut self, key: String) -> Result<Option<String>, wasi_config::wasi::config::runtime::ConfigError> {
        Ok(self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()))
    }

    fn get_all(&mut self) -> Result<Vec<(String, String)>, wasi_config::wasi::config::runtime::ConfigError> {
        Ok(self.0.clone())
    }
}

impl WasiView for ServiceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for ServiceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

/// `send_request`: Klarna's hosts are the embedded simulator (the engine's
/// own hook; what the bridge sends is exactly what would go out).
struct SimulatorHooks {
    simulator: Simulator,
    forbidden: Arc<Vec<http::HeaderName>>,
}

type Sent =
    Result<(http::Response<WasiBody>, Box<dyn std::future::Future<Output = Result<(), HttpError>> + Send>), HttpError>;

impl WasiHttpHooks for SimulatorHooks {
    fn forbidden_header_filter(&mut self) -> wasmtime_wasi_http::ForbiddenHeaderFilter {
        let extra = self.forbidden.clone();
        Arc::new(move |name| wasmtime_wasi_http::DEFAULT_FORBIDDEN_HEADERS.contains(name) || extra.contains(name))
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn std::future::Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<dyn std::future::Future<Output = Sent> + Send> {
        let simulator = self.simulator.clone();
        Box::new(async move {
            let (parts, body) = request.into_parts();
            let body = body.collect().await?.to_bytes().to_vec();
            let headers = parts
                .headers
                .iter()
                .filter(|(name, _)| *name != http::header::HOST)
                .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            let request = SimRequest { method: parts.method.to_string(), url: parts.uri.to_string(), headers, body };
            let answer = simulator.handle(&request).map_err(|failure| match failure {
                NetworkFailure::Timeout => HttpError::ConnectionReadTimeout,
                NetworkFailure::Connection(_) => HttpError::ConnectionTerminated,
                NetworkFailure::NotSent(_) => HttpError::ConnectionRefused,
            })?;
            let mut response = http::Response::builder().status(answer.status);
            for (name, value) in &answer.headers {
                response = response.header(name, value);
            }
            let body = Full::new(Bytes::from(answer.body)).map_err(|never| match never {}).boxed_unsync();
            let response = response.body(body).map_err(|_| HttpError::HttpResponseIncomplete)?;
            Ok((response, Box::new(async { Ok(()) }) as Box<dyn std::future::Future<Output = _> + Send>))
        })
    }
}
