//! docs/catalog.md's generated tables match connector.json.

#[test]
fn tables_match_connector_json() {
    let catalog = include_str!("../../docs/catalog.md");
    let expected = host_test::docs::tables().expect("tables");
    let start = catalog.find(host_test::docs::BEGIN).expect("docs/catalog.md has the begin marker");
    let end =
        catalog.find(host_test::docs::END).expect("docs/catalog.md has the end marker") + host_test::docs::END.len();
    assert_eq!(
        &catalog[start..end],
        expected.trim_end(),
        "docs/catalog.md is stale: run `cargo run -q -p host-test -- tables docs/catalog.md`"
    );
}
