//! One test per (entity, method) of connector.json, generated from the
//! manifest, each running its scenario (`scenarios/`) through the real
//! component against a fresh simulator. An operation without a scenario is a
//! failing test, so a new entity cannot land untested. Run one alone with
//! `cargo test -p host-test --test entities -- 'order-captures post'`.

mod common;
mod scenarios;

use host_test::runtime::Method;
use klarna_connector::manifest::Manifest;
use klarna_connector::model;
use libtest_mimic::{Arguments, Failed, Trial};

/// The WIT method of a manifest method (the two enums have the same five cases).
fn wit_method(method: &model::Method) -> Method {
    match *method {
        model::Method::Get => Method::Get,
        model::Method::Post => Method::Post,
        model::Method::Put => Method::Put,
        model::Method::Patch => Method::Patch,
        model::Method::Delete => Method::Delete,
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
