//! The README's generated tables match connector.json.

#[test]
fn readme_tables_match_connector_json() {
    let readme = include_str!("../../README.md");
    let expected = host_test::docs::tables().expect("tables");
    let start = readme.find(host_test::docs::BEGIN).expect("README has the begin marker");
    let end = readme.find(host_test::docs::END).expect("README has the end marker") + host_test::docs::END.len();
    assert_eq!(
        &readme[start..end],
        expected.trim_end(),
        "README tables are stale: run `cargo run -q -p host-test -- tables README.md`"
    );
}
