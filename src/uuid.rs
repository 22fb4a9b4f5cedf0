//! Name-based UUIDs (RFC 9562 section 5.5, version 5): the derived
//! idempotency keys and the multipart boundaries of uploads.
//!
//! The SHA-1 of the namespace's 16 bytes followed by the name, cut to 16
//! bytes, with the version (5) and the variant (`10`) bits set. SHA-1 is
//! RustCrypto's, which shares its `digest` core with the SHA-256 the push
//! side uses; the `uuid` crate this replaced carried a SHA-1 of its own. The
//! tests hold it to that crate.

use sha1::{Digest, Sha1};

/// A UUID, as its 16 bytes in network order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uuid([u8; 16]);

impl Uuid {
    /// The UUID whose 128 bits, most significant first, are `bits`.
    pub const fn from_u128(bits: u128) -> Uuid {
        Uuid(bits.to_be_bytes())
    }

    /// The version 5 UUID of `name` in `namespace`.
    pub fn new_v5(namespace: &Uuid, name: &[u8]) -> Uuid {
        let digest = Sha1::new().chain_update(namespace.0).chain_update(name).finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
        bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10 (RFC 9562)
        Uuid(bytes)
    }

    /// The usual form: 32 lower-case hex digits in groups of 8-4-4-4-12.
    pub fn hyphenated(&self) -> String {
        let hex = self.simple();
        [&hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]].join("-")
    }

    /// 32 lower-case hex digits, no hyphens.
    pub fn simple(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(32);
        for byte in self.0 {
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 9562 appendix A.4: "www.example.com" in the DNS namespace.
    #[test]
    fn rfc_9562_example_is_derived() {
        let dns = Uuid::from_u128(0x6ba7_b810_9dad_11d1_80b4_00c0_4fd4_30c8);
        let uuid = Uuid::new_v5(&dns, b"www.example.com");
        assert_eq!(uuid.hyphenated(), "2ed6657d-e927-568b-95e1-2665a8aea6a2");
        assert_eq!(uuid.simple(), "2ed6657de927568b95e12665a8aea6a2");
    }

    proptest! {
        /// Any namespace and name: the same UUID, in both forms, as the
        /// `uuid` crate derives.
        #[test]
        fn v5_is_the_uuid_crates(namespace: u128, name in prop::collection::vec(any::<u8>(), 0..200)) {
            let ours = Uuid::new_v5(&Uuid::from_u128(namespace), &name);
            let theirs = ::uuid::Uuid::new_v5(&::uuid::Uuid::from_u128(namespace), &name);
            prop_assert_eq!(ours.hyphenated(), theirs.hyphenated().to_string());
            prop_assert_eq!(ours.simple(), theirs.simple().to_string());
        }
    }
}
