//! Base64 (RFC 4648) in the two forms the connector speaks:
//!
//! - [`STANDARD`]: the `+/` alphabet with `=` padding: HTTP Basic
//!   credentials, and the files uploaded to and downloaded from Disputes;
//! - [`URL_SAFE_NO_PAD`]: the `-_` alphabet without padding: the parts of the
//!   JWTs the push side issues and checks (RFC 7515).
//!
//! Decoding is strict, as the `base64` crate's engines of the same names are
//! (the crate this replaced, about 6.5 KB of generic code in the component):
//! the padding exactly as encoding writes it (none at all without padding),
//! no byte outside the alphabet, and no bits set past the last whole byte,
//! so that each byte string has one encoding. `tests/base64.rs` holds both
//! directions to that crate.

use std::fmt;

/// One base64 form: its alphabet, and whether it pads to whole quads.
#[derive(Clone, Copy, Debug)]
pub struct Base64 {
    alphabet: &'static [u8; 64],
    padded: bool,
}

/// The standard alphabet (`A–Z a–z 0–9 + /`), padded with `=`.
pub const STANDARD: Base64 =
    Base64 { alphabet: b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", padded: true };

/// The URL- and file-name-safe alphabet (`A–Z a–z 0–9 - _`), unpadded.
pub const URL_SAFE_NO_PAD: Base64 =
    Base64 { alphabet: b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", padded: false };

/// Why a text is not base64 of the form asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// A byte outside the alphabet (or `=` where no padding may be).
    InvalidByte {
        /// Where the byte is, from 0.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// A length no encoding has (one symbol past a whole quad).
    InvalidLength,
    /// Padding missing, misplaced or where the form has none.
    InvalidPadding,
    /// The last symbol has bits set past the last whole byte.
    InvalidLastSymbol {
        /// Where the symbol is, from 0.
        offset: usize,
        /// The symbol.
        byte: u8,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::InvalidByte { offset, byte } => {
                write!(f, "byte {byte:#04x} at offset {offset} is not in the alphabet")
            }
            DecodeError::InvalidLength => f.write_str("the length is not that of any encoding"),
            DecodeError::InvalidPadding => f.write_str("the padding is not as encoding writes it"),
            DecodeError::InvalidLastSymbol { offset, byte } => {
                write!(f, "the last symbol {:?} at offset {offset} has bits past the last byte", char::from(byte))
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Marks a byte outside the alphabet in [`Base64::decode`]'s table.
const INVALID: u8 = 0xff;

impl Base64 {
    /// `input` in base64.
    pub fn encode(self, input: impl AsRef<[u8]>) -> String {
        let input = input.as_ref();
        let mut out = Vec::with_capacity(input.len().div_ceil(3) * 4);
        let symbol = |sextet: u32| self.alphabet[(sextet & 0x3f) as usize];
        let mut chunks = input.chunks_exact(3);
        for chunk in &mut chunks {
            let n = u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8 | u32::from(chunk[2]);
            out.extend_from_slice(&[symbol(n >> 18), symbol(n >> 12), symbol(n >> 6), symbol(n)]);
        }
        match *chunks.remainder() {
            [a] => {
                let n = u32::from(a) << 16;
                out.extend_from_slice(&[symbol(n >> 18), symbol(n >> 12)]);
                if self.padded {
                    out.extend_from_slice(b"==");
                }
            }
            [a, b] => {
                let n = u32::from(a) << 16 | u32::from(b) << 8;
                out.extend_from_slice(&[symbol(n >> 18), symbol(n >> 12), symbol(n >> 6)]);
                if self.padded {
                    out.push(b'=');
                }
            }
            _ => {}
        }
        // Every byte pushed is from the alphabet or `=`: ASCII.
        out.into_iter().map(char::from).collect()
    }

    /// The bytes `input` encodes, when it is base64 of this form exactly.
    pub fn decode(self, input: impl AsRef<[u8]>) -> Result<Vec<u8>, DecodeError> {
        let input = input.as_ref();
        let symbols = self.unpadded(input)?;
        if symbols.len() % 4 == 1 {
            return Err(DecodeError::InvalidLength);
        }
        let table = self.table();
        let sextet = |offset: usize| {
            let byte = symbols[offset];
            match table[usize::from(byte)] {
                INVALID => Err(DecodeError::InvalidByte { offset, byte }),
                value => Ok(u32::from(value)),
            }
        };
        let mut out = Vec::with_capacity(symbols.len() / 4 * 3 + 2);
        let whole = symbols.len() - symbols.len() % 4;
        for at in (0..whole).step_by(4) {
            let n = sextet(at)? << 18 | sextet(at + 1)? << 12 | sextet(at + 2)? << 6 | sextet(at + 3)?;
            out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        }
        let tail = symbols.len() - whole;
        if tail > 0 {
            let mut n = 0;
            for i in 0..tail {
                n |= sextet(whole + i)? << (18 - 6 * i);
            }
            // 2 symbols carry 1 byte (12 bits, 4 spare), 3 carry 2 (18 bits, 2 spare).
            let bytes = tail - 1;
            if n & (0x00ff_ffff >> (8 * bytes)) != 0 {
                let offset = symbols.len() - 1;
                return Err(DecodeError::InvalidLastSymbol { offset, byte: symbols[offset] });
            }
            out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8][..bytes]);
        }
        Ok(out)
    }

    /// The symbols of `input`, its padding checked and taken off.
    fn unpadded(self, input: &[u8]) -> Result<&[u8], DecodeError> {
        if !self.padded {
            return Ok(input);
        }
        if !input.len().is_multiple_of(4) {
            return Err(DecodeError::InvalidPadding);
        }
        let pads = input.iter().rev().take(2).take_while(|&&b| b == b'=').count();
        let symbols = &input[..input.len() - pads];
        // Padding fills the last quad: 1 `=` after 3 symbols, 2 after 2.
        if pads > 0 && symbols.len() % 4 != 4 - pads {
            return Err(DecodeError::InvalidPadding);
        }
        Ok(symbols)
    }

    /// The value of each byte in the alphabet, [`INVALID`] for the others.
    fn table(self) -> [u8; 256] {
        let mut table = [INVALID; 256];
        for (value, &symbol) in (0u8..).zip(self.alphabet.iter()) {
            table[usize::from(symbol)] = value;
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 section 10's test vectors.
    #[test]
    fn rfc_4648_vectors_encode_and_decode() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (bytes, text) in vectors {
            assert_eq!(STANDARD.encode(bytes), text);
            assert_eq!(STANDARD.decode(text).as_deref(), Ok(bytes.as_bytes()));
            let unpadded = text.trim_end_matches('=');
            assert_eq!(URL_SAFE_NO_PAD.encode(bytes), unpadded);
            assert_eq!(URL_SAFE_NO_PAD.decode(unpadded).as_deref(), Ok(bytes.as_bytes()));
        }
    }

    #[test]
    fn the_two_alphabets_differ_in_their_last_two_symbols() {
        assert_eq!(STANDARD.encode([0xfb, 0xff]), "+/8=");
        assert_eq!(URL_SAFE_NO_PAD.encode([0xfb, 0xff]), "-_8");
        assert_eq!(STANDARD.decode("-_8="), Err(DecodeError::InvalidByte { offset: 0, byte: b'-' }));
        assert_eq!(URL_SAFE_NO_PAD.decode("+/8"), Err(DecodeError::InvalidByte { offset: 0, byte: b'+' }));
    }

    #[test]
    fn texts_no_encoding_writes_are_refused() {
        assert_eq!(STANDARD.decode("Zg"), Err(DecodeError::InvalidPadding));
        assert_eq!(STANDARD.decode("Zg="), Err(DecodeError::InvalidPadding));
        assert_eq!(STANDARD.decode("Zm8=="), Err(DecodeError::InvalidPadding));
        assert_eq!(STANDARD.decode("Zm9v===="), Err(DecodeError::InvalidByte { offset: 4, byte: b'=' }));
        assert_eq!(STANDARD.decode("Z==="), Err(DecodeError::InvalidByte { offset: 1, byte: b'=' }));
        assert_eq!(STANDARD.decode("Zh=="), Err(DecodeError::InvalidLastSymbol { offset: 1, byte: b'h' }));
        assert_eq!(URL_SAFE_NO_PAD.decode("Zg=="), Err(DecodeError::InvalidByte { offset: 2, byte: b'=' }));
        assert_eq!(URL_SAFE_NO_PAD.decode("Zm9vY"), Err(DecodeError::InvalidLength));
        assert_eq!(URL_SAFE_NO_PAD.decode("Zm9"), Err(DecodeError::InvalidLastSymbol { offset: 2, byte: b'9' }));
    }
}
