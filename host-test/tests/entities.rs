//! One test per (entity, method) of connector.json, generated from the
//! manifest by `build.rs`, each running its scenario (`scenarios/`) through
//! the real component against a fresh simulator. An operation without a
//! scenario is a failing test, so a new entity cannot land untested. Run one
//! alone with `cargo test -p host-test --test main -- entities::order_captures_post`.

use host_test::runtime::Method;

/// Runs the scenario of `entity`'s `method`; fails the test when it has none.
fn run(entity: &str, method_name: &str, method: Method) {
    let spec =
        klarna_connector::manifest::Manifest::get().entity(entity).expect("build.rs read it from connector.json");
    let operation =
        spec.operations.iter().find(|o| o.method.as_str().eq_ignore_ascii_case(method_name)).expect("the operation");
    let mut h = crate::common::Harness::new();
    assert!(
        crate::scenarios::run(&mut h, entity, operation.path, method),
        "{entity} {method:?} is in connector.json but has no scenario in host-test/tests/scenarios"
    );
}

include!(concat!(env!("OUT_DIR"), "/entity_tests.rs"));
