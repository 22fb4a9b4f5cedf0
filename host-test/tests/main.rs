//! The harness's integration tests, in one binary: each links wasmtime, so
//! one binary instead of one per file saves a link and ~60 MB each.
//! Run one module with `cargo test -p host-test --test main -- push_network::`.

mod common;
mod openapi;
mod scenarios;

mod auth;
mod catalog;
mod cli;
mod connection;
mod entities;
mod fault_schedules;
mod faults;
mod harness;
mod incremental;
mod manifest_schema;
mod openapi_conformance;
mod push_callbacks;
mod push_network;
mod push_random;
mod push_shipping;
mod retry_safety;
mod sandbox;
mod service;
