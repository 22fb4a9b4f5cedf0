//! One test per (entity, method) of connector.json, generated from the
//! manifest, each running its scenario (`scenarios/`) through the real
//! component against a fresh simulator. An operation without a scenario is a
//! failing test, so a new entity cannot land untested. Run one alone with
//! `cargo test -p host-test --test entities -- 'order-captures post'`.

mod common;
mod scenarios;

use host_test::runtime::Method;
use klarna_connector::manifest::Manifest;
use libtest_mimic::{Arguments, Failed, Trial};

/// The WIT method of a manifest method (the manifest only has these five).
fn wit_method(method: &http::Method) -> Method {
    match *method {
        http::Method::GET => Method::Get,
        http::Method::POST => Method::Post,
        http::Method::PUT => Method::Put,
        http::Method::PATCH => Method::Patch,
        http::Method::DELETE => Method::Delete,
        ref other => panic!("connector.json has {other}, which ipaas:connector cannot carry"),
    }
}

fn main() {
    let trials = Manifest::get()
        .entities
        .iter()
        .flat_map(|entity| {
            entity.operations.iter().map(move |operation| {
                let method = wit_method(&operation.method);
                let name = format!("{} {}", entity.name, operation.method.as_str().to_ascii_lowercase());
                Trial::test(name, move || {
                    let mut h = common::Harness::new();
                    if scenarios::run(&mut h, &entity.name, &operation.path, method) {
                        Ok(())
                    } else {
                        Err(Failed::from(format!(
                            "{} {method:?} is in connector.json but has no scenario in host-test/tests/scenarios",
                            entity.name
                        )))
                    }
                })
            })
        })
        .collect();
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}
