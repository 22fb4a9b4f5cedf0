//! Deterministic time and ids, so simulator runs are reproducible.

/// 2026-01-15T10:00:00Z, the simulator's "now" when it starts.
pub const EPOCH_START: i64 = 1_768_471_200;

/// RFC 3339 UTC timestamp of unix `seconds` (the `time` crate).
pub fn rfc3339(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// The namespace of the simulator's ids.
const IDS: uuid::Uuid = uuid::Uuid::from_u128(0x2b1e_5f0c_7d3a_4e86_9c41_a5d2_e0f7_1b93);

/// A UUID (v5, the uuid crate), unique per `(kind, n)`.
pub fn uuid(kind: u16, n: u64) -> String {
    let mut name = kind.to_be_bytes().to_vec();
    name.extend_from_slice(&n.to_be_bytes());
    uuid::Uuid::new_v5(&IDS, &name).to_string()
}
