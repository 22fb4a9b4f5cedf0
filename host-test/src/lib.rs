//! Test harness for the Klarna connector component: a wasmtime host
//! ([`runtime`]), an embedded stateful Klarna simulator ([`sim`]), HTTP
//! backends ([`backend`]), the simulator over loopback HTTP ([`serve`]), a
//! connection's public endpoint on loopback ([`listen`]) and the pieces of the
//! `host-test` CLI ([`cli`]).

pub mod backend;
pub mod bench;
pub mod cli;
pub mod docs;
pub mod http_server;
pub mod listen;
pub mod manifest_text;
pub mod panel;
pub mod push_demo;
pub mod runtime;
pub mod serve;
pub mod service;
pub mod service_bench;
pub mod service_check;
pub mod sim;
pub mod strip;
