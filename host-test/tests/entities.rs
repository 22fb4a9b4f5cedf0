//! One test per (entity, method) of connector.json, generated from the
//! manifest, each running its scenario (`scenarios/`) through the real
//! component against a fresh simulator. An operation without a scenario is a
//! failing test, so a new entity cannot land untested. Run one alone with
//! `cargo test -p host-test --test entities -- 'order-captures post'`.

mod common;
mod scenarios;

use host_test::runtime::Method;
use klarna_connector::manifest::{Manifest, MethodName};
use libtest_mimic::{Arguments, Failed, Trial};

/// The WIT method of a manifest method.
fn wit_method(method: MethodName) -> Method {
    match method {
        MethodName::Get => Method::Get,
        MethodName::Post => Method::Post,
        MethodName::Put => Method::Put,
        MethodName::Patch => Method::Patch,
        MethodName::Delete => Method::Delete,
    }
}

fn main() {
    let trials = Manifest::get()
        .entities
        .iter()
        .flat_map(|entity| {
            entity.operations.iter().map(move |operation| {
                let method = wit_method(operation.method);
                let name = format!("{} {}", entity.name, operation.method.to_method().as_str().to_ascii_lowercase());
                Trial::test(name, move || {
                    let mut h = common::Harness::new();
                    if scenarios::run(&mut h, entity.name, operation.path, method) {
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
