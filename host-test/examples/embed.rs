//! Embedding the connector in a wasmtime host, in about seventy lines: bindings
//! from the WIT, a linker with the `http` and `log` imports (and WASI), then
//! open, test and one page of payouts. Klarna is the harness's simulator
//! here; a real host sends `http::send` over its own HTTP client instead.
//!
//!     ./x dist && cargo run -q -p host-test --example embed [COMPONENT]

use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

wasmtime::component::bindgen!({ world: "plugin", path: "../wit" });

use ipaas::connector::types::{Auth, BasicAuth, ConnectionConfig, Params, SubscribeRequest};
use ipaas::connector::{http, log, types};

/// What one instance of the connector holds: WASI, and Klarna (the simulator).
struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
    klarna: host_test::sim::Simulator,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl types::Host for Host {}

impl http::Host for Host {
    fn send(&mut self, request: http::Request) -> Result<http::Response, http::HttpError> {
        let method = match request.method {
            types::Method::Get => "GET",
            types::Method::Post => "POST",
            types::Method::Put => "PUT",
            types::Method::Patch => "PATCH",
            types::Method::Delete => "DELETE",
        }
        .to_string();
        let body = request.body.unwrap_or_default();
        let request = host_test::sim::SimRequest { method, url: request.url, headers: request.headers, body };
        let answer = self.klarna.handle(&request).map_err(|e| http::HttpError::Other(format!("{e:?}")))?;
        Ok(http::Response { status: answer.status, headers: answer.headers, body: answer.body })
    }
}

impl log::Host for Host {
    fn log(&mut self, level: log::Level, message: String) {
        eprintln!("[{level:?}] {message}");
    }
}

fn main() -> wasmtime::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "target/klarna_connector.opt.wasm".into());
    let engine = Engine::default();
    let component = Component::from_file(&engine, &path)?;
    let mut linker = Linker::<Host>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |host| host)?;

    let host = Host { wasi: WasiCtx::builder().build(), table: ResourceTable::new(), klarna: Default::default() };
    let mut store = Store::new(&engine, host);
    let plugin = Plugin::instantiate(&mut store, &component, &linker)?;
    let connector = plugin.ipaas_connector_connector();

    let (username, password) = (host_test::sim::USERNAME.into(), host_test::sim::PASSWORD.into());
    let config = ConnectionConfig {
        api_type: "settlements".into(),
        environment: "playground".into(),
        region: "eu".into(),
        auth: Auth::Basic(BasicAuth { username, password }),
        settings: vec![],
    };
    let connection = connector.connection().call_open(&mut store, &config)?.map_err(wasmtime::Error::msg)?;
    connector.connection().call_test(&mut store, connection)?.map_err(wasmtime::Error::msg)?;
    println!("test(): the credentials work");
    let request = SubscribeRequest {
        entity: "payouts".into(),
        params: Params { path: vec![], query: vec![], payload: None },
        cursor: None,
        page_size: Some(5),
        since: None,
    };
    let page =
        connector.connection().call_subscribe(&mut store, connection, &request)?.map_err(wasmtime::Error::msg)?;
    println!("payouts: {} records, next cursor: {}", page.records.len(), page.next_cursor.is_some());
    connection.resource_drop(&mut store)?;
    Ok(())
}
