//! Loading and running the connector component with wasmtime 48: compile
//! once, pre-instantiate once, one `Store` per connection with a memory cap
//! and an epoch deadline; a trapped instance is thrown away and replaced.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker, ResourceAny, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

wasmtime::component::bindgen!({ world: "plugin", path: "../wit", additional_derives: [PartialEq] });

pub use exports::ipaas::connector::connector::{Connection, Guest};
pub use ipaas::connector::http::{HttpError, Request, Response};
pub use ipaas::connector::log::Level;
pub use ipaas::connector::types::{
    ApiError, Auth, BasicAuth, ConnectionConfig, ConnectorError, Delivery, Entity, Event, IncomingRequest, Method,
    Oauth2Client, Operation, Page, Params, PublishRequest, PublishResult, RateLimit, Reply, SubscribeRequest,
};

/// Limits a host should set on each connector instance.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Linear memory cap per instance.
    pub memory_bytes: usize,
    /// Epoch ticks (of [`EPOCH_TICK`]) one call may spend on the component's
    /// own work. Each call's deadline adds the waits its connection's timing
    /// settings allow ([`longest_wait_ms`]), since the epoch also advances
    /// while the guest waits in a host import (an HTTP exchange, a sleep).
    pub compute_ticks: u64,
}

impl Default for Limits {
    fn default() -> Self {
        // 64 MiB is far above what paging needs; 300 ticks of 10 ms = 3 s.
        Self { memory_bytes: 64 << 20, compute_ticks: 300 }
    }
}

/// The longest one call on a connection with `config` may wait on the host,
/// read from the connection's settings and connector.json's defaults, as any
/// host can: each request may run `max_attempts` times to `timeout_ms` and
/// wait up to `retry_budget_ms` between attempts; with OAuth 2.0 a token
/// request precedes it, and a refused token repeats both once.
pub fn longest_wait_ms(config: &ConnectionConfig) -> u64 {
    let common = klarna_connector::manifest::Manifest::get().panel.common_settings;
    let setting = |key: &str| -> u64 {
        let given = config.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
        let default = common.iter().find(|s| s.key == key).and_then(|s| s.default);
        given.or(default).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    let per_request =
        setting("timeout_ms").saturating_mul(setting("max_attempts")).saturating_add(setting("retry_budget_ms"));
    let requests = if matches!(config.auth, Auth::Oauth2(_)) { 4 } else { 1 };
    per_request.saturating_mul(requests)
}

/// How often the engine's epoch advances.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Where `./x build` puts the release component.
pub fn default_component_path() -> PathBuf {
    if let Some(path) = std::env::var_os("KLARNA_CONNECTOR_WASM") {
        return PathBuf::from(path);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/release/klarna_connector.wasm")
}

/// The host's HTTP: the embedded simulator, real HTTPS, or anything else.
pub trait HttpBackend: Send {
    /// Sends one request.
    fn send(&mut self, request: Request) -> Result<Response, HttpError>;
}

/// One log line the component wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Its severity.
    pub level: Level,
    /// The message, as the component wrote it.
    pub message: String,
}

/// `StoreLimits`, plus the largest linear memory the instance asked for.
pub struct PeakLimiter {
    limits: StoreLimits,
    peak_memory: usize,
}

impl ResourceLimiter for PeakLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.peak_memory = self.peak_memory.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

/// What one store holds: WASI, the resource table, limits, the HTTP backend and the log.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: PeakLimiter,
    backend: Box<dyn HttpBackend>,
    allowed_hosts: Vec<String>,
    /// Every log line, in order.
    pub logs: Vec<LogLine>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl ipaas::connector::types::Host for HostState {}

impl ipaas::connector::http::Host for HostState {
    fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        let url = request.url.parse::<http::Uri>().ok().filter(|u| u.scheme_str() == Some("https"));
        let host = url.as_ref().and_then(http::Uri::host).unwrap_or("");
        if !self.allowed_hosts.iter().any(|h| h == host) {
            return Err(HttpError::Denied(format!("{host:?} is not in the connector's host allow-list")));
        }
        self.backend.send(request)
    }
}

impl ipaas::connector::log::Host for HostState {
    fn log(&mut self, level: Level, message: String) {
        self.logs.push(LogLine { level, message });
    }
}

/// The system wall clock moved forward by a shared offset, so a test can let
/// time pass for one instance (the expiry of the tokens it issued).
struct ShiftedClock(Arc<AtomicU64>);

impl wasmtime_wasi::HostWallClock for ShiftedClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        let system = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        system + Duration::from_secs(self.0.load(Ordering::Relaxed))
    }
}

/// The compiled component, ready to instantiate many times.
pub struct Runtime {
    engine: Engine,
    pre: PluginPre<HostState>,
    limits: Limits,
    allowed_hosts: Vec<String>,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// The engine configuration the harness uses (epochs on).
pub fn engine_config() -> Config {
    engine_config_with_epochs(true)
}

/// The harness's engine configuration, with or without epoch interruption
/// (the deadline checks Cranelift puts at every function entry and loop
/// header; without them a call cannot be stopped, so only the benchmark
/// turns them off, to report what they cost).
pub fn engine_config_with_epochs(epochs: bool) -> Config {
    let mut config = Config::new();
    config.epoch_interruption(epochs);
    if std::env::var_os("WASMTIME_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config
}

impl Runtime {
    /// Compiles the component at `path`.
    pub fn load(path: &Path, limits: Limits) -> wasmtime::Result<Self> {
        let engine = Engine::new(&engine_config())?;
        let component = Component::from_file(&engine, path)
            .map_err(|e| e.context(format!("loading {} (build it with `./x build`)", path.display())))?;
        Self::from_component(engine, &component, limits)
    }

    /// Pre-instantiates an already compiled component.
    pub fn from_component(engine: Engine, component: &Component, limits: Limits) -> wasmtime::Result<Self> {
        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        let pre = PluginPre::new(linker.instantiate_pre(component)?)?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (ticker_engine, stop) = (engine.clone(), ticker_stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                ticker_engine.increment_epoch();
            }
        });
        Ok(Self { engine, pre, limits, allowed_hosts: allowed_hosts(), ticker_stop })
    }

    /// A fresh instance whose HTTP goes to `backend`.
    pub fn instantiate(&self, backend: Box<dyn HttpBackend>) -> wasmtime::Result<Instance> {
        let clock_offset = Arc::new(AtomicU64::new(0));
        let state = HostState {
            wasi: WasiCtx::builder().wall_clock(ShiftedClock(clock_offset.clone())).build(),
            table: ResourceTable::new(),
            limits: PeakLimiter {
                peak_memory: 0,
                limits: StoreLimitsBuilder::new().memory_size(self.limits.memory_bytes).instances(8).build(),
            },
            backend,
            allowed_hosts: self.allowed_hosts.clone(),
            logs: Vec::new(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(self.limits.compute_ticks);
        let plugin = self.pre.instantiate(&mut store)?;
        Ok(Instance { store, plugin, compute_ticks: self.limits.compute_ticks, wait_ticks: 0, clock_offset })
    }
}

/// The manifest's host allow-list (from the connector crate's copy of connector.json).
fn allowed_hosts() -> Vec<String> {
    klarna_connector::manifest::Manifest::get().hosts.allowed.iter().map(|h| h.to_string()).collect()
}

/// One instance of the component in its own store.
pub struct Instance {
    store: Store<HostState>,
    plugin: Plugin,
    compute_ticks: u64,
    /// The longest wait of any connection opened on this instance, in ticks.
    wait_ticks: u64,
    /// Seconds the instance's wall clock runs ahead of the system's.
    clock_offset: Arc<AtomicU64>,
}

impl Instance {
    /// Gives the next call its full epoch deadline.
    fn arm(&mut self) {
        self.store.set_epoch_deadline(self.compute_ticks.saturating_add(self.wait_ticks));
    }

    /// `describe()`.
    pub fn describe(&mut self) -> wasmtime::Result<String> {
        self.arm();
        let guest = self.plugin.ipaas_connector_connector();
        guest.call_describe(&mut self.store)
    }

    /// `connection.open(config)`; the handle must be closed with [`Instance::close`].
    pub fn open(&mut self, config: &ConnectionConfig) -> wasmtime::Result<Result<ResourceAny, ConnectorError>> {
        self.arm();
        let guest = self.plugin.ipaas_connector_connector();
        let opened = guest.connection().call_open(&mut self.store, config)?;
        if opened.is_ok() {
            let ticks = longest_wait_ms(config).div_ceil(EPOCH_TICK.as_millis() as u64);
            self.wait_ticks = self.wait_ticks.max(ticks);
        }
        Ok(opened)
    }

    /// Moves this instance's wall clock (`wasi:clocks/wall-clock`) forward.
    pub fn advance_wall_clock(&self, by: Duration) {
        self.clock_offset.fetch_add(by.as_secs(), Ordering::Relaxed);
    }

    /// `connection.test()`.
    pub fn test(&mut self, connection: ResourceAny) -> wasmtime::Result<Result<(), ConnectorError>> {
        self.arm();
        let guest = self.plugin.ipaas_connector_connector();
        guest.connection().call_test(&mut self.store, connection)
    }

    /// `connection.entities()`.
    pub fn entities(&mut self, connection: ResourceAny) -> wasmtime::Result<Vec<Entity>> {
        self.arm();
        let guest = self.plugin.ipaas_connector_connector();
        guest.connection().call_entities(&mut self.store, connection)
    }

    /// `connection.subscribe(request)`.
    pub fn subscribe(
        &mut self,
        connection: ResourceAny,
        request: &SubscribeRequest,
    ) -> wasmtime::Result<Result<Page, ConnectorError>> {
        self.arm();
        let guest = self.plugin.ipaas_connector_connector();
        guest.connection().call_subscribe(&mut self.store, connection, request)
    }

    /// `connection.publish(request)`.
    pub fn publish(
        &mut self,
        connection: ResourceAny,
        request: &PublishRequest,
    ) -> wasmtime::Result<Result<PublishResult, ConnectorError>> {
        self.arm();
        let guest = self.plugin.ipaas_connector_connector();
        guest.connection().call_publish(&mut self.store, connection, request)
    }

    /// `connection.receive(request)`: one delivery from Klarna.
    pub fn receive(
        &mut self,
        connection: ResourceAny,
        request: &IncomingRequest,
    ) -> wasmtime::Result<Result<Delivery, ConnectorError>> {
        self.arm();
        let guest = self.plugin.ipaas_connector_connector();
        guest.connection().call_receive(&mut self.store, connection, request)
    }

    /// `connection.respond(kind, answer)`: the flow's answer to a callback.
    pub fn respond(
        &mut self,
        connection: ResourceAny,
        kind: &str,
        answer: &str,
    ) -> wasmtime::Result<Result<Reply, ConnectorError>> {
        self.arm();
        let guest = self.plugin.ipaas_connector_connector();
        guest.connection().call_respond(&mut self.store, connection, kind, answer)
    }

    /// Drops a connection handle (runs the guest destructor).
    pub fn close(&mut self, connection: ResourceAny) -> wasmtime::Result<()> {
        connection.resource_drop(&mut self.store)
    }

    /// Log lines written so far.
    pub fn logs(&self) -> &[LogLine] {
        &self.store.data().logs
    }

    /// The largest linear memory this instance has grown to, in bytes.
    pub fn peak_memory(&self) -> usize {
        self.store.data().limits.peak_memory
    }
}

/// One connection that survives guest traps: a call that traps (a bug, an
/// exhausted memory cap, a passed epoch deadline) poisons its instance, so the
/// instance is dropped and the next call instantiates afresh from the
/// `InstancePre` and re-opens the connection.
pub struct Sandbox<'r> {
    runtime: &'r Runtime,
    config: ConnectionConfig,
    make_backend: Box<dyn Fn() -> Box<dyn HttpBackend> + 'r>,
    live: Option<(Instance, ResourceAny)>,
    /// How many instances were thrown away after a trap.
    pub restarts: u32,
}

/// A call that trapped; its instance is gone.
#[derive(Debug)]
pub struct Trapped(pub wasmtime::Error);

impl<'r> Sandbox<'r> {
    /// A connection with `config`; each instance gets a backend from `make_backend`.
    pub fn new(
        runtime: &'r Runtime,
        config: ConnectionConfig,
        make_backend: impl Fn() -> Box<dyn HttpBackend> + 'r,
    ) -> Self {
        Self { runtime, config, make_backend: Box::new(make_backend), live: None, restarts: 0 }
    }

    fn live(&mut self) -> Result<Result<(&mut Instance, ResourceAny), ConnectorError>, Trapped> {
        if self.live.is_none() {
            let mut instance = self.runtime.instantiate((self.make_backend)()).map_err(Trapped)?;
            match instance.open(&self.config).map_err(Trapped)? {
                Ok(connection) => self.live = Some((instance, connection)),
                Err(e) => return Ok(Err(e)),
            }
        }
        match self.live.as_mut() {
            Some((instance, connection)) => Ok(Ok((instance, *connection))),
            None => Err(Trapped(wasmtime::format_err!("no live instance"))),
        }
    }

    fn call<T>(
        &mut self,
        f: impl FnOnce(&mut Instance, ResourceAny) -> wasmtime::Result<Result<T, ConnectorError>>,
    ) -> Result<Result<T, ConnectorError>, Trapped> {
        let (instance, connection) = match self.live()? {
            Ok(live) => live,
            Err(e) => return Ok(Err(e)),
        };
        match f(instance, connection) {
            Ok(result) => Ok(result),
            Err(trap) => {
                self.live = None;
                self.restarts += 1;
                Err(Trapped(trap))
            }
        }
    }

    /// `subscribe`, on a live instance.
    pub fn subscribe(&mut self, request: &SubscribeRequest) -> Result<Result<Page, ConnectorError>, Trapped> {
        self.call(|instance, connection| instance.subscribe(connection, request))
    }

    /// `publish`, on a live instance.
    pub fn publish(&mut self, request: &PublishRequest) -> Result<Result<PublishResult, ConnectorError>, Trapped> {
        self.call(|instance, connection| instance.publish(connection, request))
    }

    /// `receive`, on a live instance.
    pub fn receive(&mut self, request: &IncomingRequest) -> Result<Result<Delivery, ConnectorError>, Trapped> {
        self.call(|instance, connection| instance.receive(connection, request))
    }

    /// `respond`, on a live instance.
    pub fn respond(&mut self, kind: &str, answer: &str) -> Result<Result<Reply, ConnectorError>, Trapped> {
        self.call(|instance, connection| instance.respond(connection, kind, answer))
    }
}
