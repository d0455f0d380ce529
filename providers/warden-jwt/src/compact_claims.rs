//! A compact, exact binary form of JWT claims, for the verified-token cache.
//!
//! A `Map<String, Value>` of eight claims takes about 1 KiB of heap (a
//! B-tree node with room for eleven entries, a `String` per key and per string
//! value); the same claims here take a tag byte per value, a varint per length
//! or integer, and the bytes of the strings, in one allocation. Decoding gives
//! back an equal map: integers keep their sign class, floats their bits,
//! strings their bytes.
//!
//! Format: a sequence of entries `key value`. A key is one byte, an index
//! into [`KNOWN_KEYS`], or [`OTHER_KEY`] and a string. A value is a tag byte,
//! then: nothing ([`NULL`], [`FALSE`], [`TRUE`]); a varint ([`UINT`]); a varint
//! of `-1 - n` ([`NEG_INT`]); the eight bytes of an `f64`, little endian
//! ([`FLOAT`]); a string ([`STRING`]); sixteen bytes for a string that is a
//! lowercase hyphenated UUID ([`UUID`], typical of `jti`); a varint count and
//! as many values ([`ARRAY`]); a varint count and as many `string value`
//! pairs ([`OBJECT`]). A string is a varint byte length and the UTF-8 bytes.
//! Varints are LEB128.

use serde_json::{Map, Number, Value};

/// Claim names written as one byte (their index): the per-token claims.
const KNOWN_KEYS: [&str; 7] = ["sub", "exp", "iat", "nbf", "jti", "auth_time", "sid"];
/// A key byte saying the name follows as a string.
const OTHER_KEY: u8 = 0xff;

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const UINT: u8 = 3;
const NEG_INT: u8 = 4;
const FLOAT: u8 = 5;
const STRING: u8 = 6;
const UUID: u8 = 7;
const ARRAY: u8 = 8;
const OBJECT: u8 = 9;

/// Appends the claim `key: value` to `out`.
pub(crate) fn encode_entry(out: &mut Vec<u8>, key: &str, value: &Value) {
    match KNOWN_KEYS.iter().position(|k| *k == key) {
        Some(i) => out.push(i as u8),
        None => {
            out.push(OTHER_KEY);
            put_str(out, key);
        }
    }
    put_value(out, value);
}

/// Inserts every claim of `bytes` (entries written by [`encode_entry`]) into
/// `claims`; `None` if `bytes` is not such a sequence.
pub(crate) fn decode_into(mut bytes: &[u8], claims: &mut Map<String, Value>) -> Option<()> {
    let reader = &mut bytes;
    while !reader.is_empty() {
        let key = match byte(reader)? {
            OTHER_KEY => string(reader)?,
            i => (*KNOWN_KEYS.get(usize::from(i))?).to_owned(),
        };
        let value = value(reader)?;
        claims.insert(key, value);
    }
    Some(())
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => put_number(out, n),
        Value::String(s) => match uuid_bytes(s) {
            Some(uuid) => {
                out.push(UUID);
                out.extend_from_slice(&uuid);
            }
            None => {
                out.push(STRING);
                put_str(out, s);
            }
        },
        Value::Array(items) => {
            out.push(ARRAY);
            put_varint(out, items.len() as u64);
            for item in items {
                put_value(out, item);
            }
        }
        Value::Object(map) => {
            out.push(OBJECT);
            put_varint(out, map.len() as u64);
            for (k, v) in map {
                put_str(out, k);
                put_value(out, v);
            }
        }
    }
}

fn put_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(u) = n.as_u64() {
        out.push(UINT);
        put_varint(out, u);
    } else if let Some(i) = n.as_i64() {
        // Negative (a non-negative i64 is a u64): -1 - i fits a u64.
        out.push(NEG_INT);
        put_varint(out, !(i as u64));
    } else {
        out.push(FLOAT);
        out.extend_from_slice(&n.as_f64().unwrap_or(f64::NAN).to_le_bytes());
    }
}

/// The 16 bytes of `s` if it is a UUID in lowercase hyphenated form
/// (`8-4-4-4-12` hex digits), the form it is rebuilt in.
fn uuid_bytes(s: &str) -> Option<[u8; 16]> {
    let s = s.as_bytes();
    if s.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut digits = 0;
    for (i, &b) in s.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b != b'-' {
                return None;
            }
            continue;
        }
        let v = nibble(b)?;
        out[digits / 2] |= if digits % 2 == 0 { v << 4 } else { v };
        digits += 1;
    }
    Some(out)
}

fn nibble(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

fn uuid_string(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

fn byte(reader: &mut &[u8]) -> Option<u8> {
    let (first, rest) = reader.split_first()?;
    *reader = rest;
    Some(*first)
}

fn take<'a>(reader: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if reader.len() < n {
        return None;
    }
    let (head, rest) = reader.split_at(n);
    *reader = rest;
    Some(head)
}

fn varint(reader: &mut &[u8]) -> Option<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let b = byte(reader)?;
        n |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(n);
        }
    }
    None
}

fn string(reader: &mut &[u8]) -> Option<String> {
    let len = usize::try_from(varint(reader)?).ok()?;
    let bytes = take(reader, len)?;
    std::str::from_utf8(bytes).ok().map(str::to_owned)
}

fn value(reader: &mut &[u8]) -> Option<Value> {
    Some(match byte(reader)? {
        NULL => Value::Null,
        FALSE => Value::Bool(false),
        TRUE => Value::Bool(true),
        UINT => Value::from(varint(reader)?),
        NEG_INT => Value::from(!varint(reader)? as i64),
        FLOAT => {
            let bits = take(reader, 8)?.try_into().ok()?;
            Value::Number(Number::from_f64(f64::from_le_bytes(bits))?)
        }
        STRING => Value::String(string(reader)?),
        UUID => Value::String(uuid_string(take(reader, 16)?)),
        ARRAY => {
            let n = varint(reader)?;
            // Every value takes at least one byte: a count beyond that is corrupt.
            let mut items = Vec::with_capacity(usize::try_from(n).ok()?.min(reader.len()));
            for _ in 0..n {
                items.push(value(reader)?);
            }
            Value::Array(items)
        }
        OBJECT => {
            let n = varint(reader)?;
            let mut map = Map::new();
            for _ in 0..n {
                let k = string(reader)?;
                map.insert(k, value(reader)?);
            }
            Value::Object(map)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn round_trip(claims: &Value) -> (Map<String, Value>, usize) {
        let claims = claims.as_object().unwrap();
        let mut bytes = Vec::new();
        for (k, v) in claims {
            encode_entry(&mut bytes, k, v);
        }
        let mut back = Map::new();
        decode_into(&bytes, &mut back).unwrap();
        assert_eq!(&back, claims);
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            serde_json::to_string(claims).unwrap()
        );
        (back, bytes.len())
    }

    #[test]
    fn claims_come_back_equal() {
        let (_, len) = round_trip(&json!({
            "sub": "user12345",
            "exp": 1_767_000_000,
            "iat": 1_766_990_000,
            "jti": "0b9f6f7e-4a8e-4c1e-9f52-2d0c3f1f6a11",
        }));
        assert_eq!(
            len,
            12 + 7 + 7 + 18,
            "one byte per known key, UUIDs in 16 bytes"
        );
        round_trip(&json!({
            "nbf": -5,
            "min": i64::MIN,
            "max": u64::MAX,
            "zero": 0,
            "f": 1.5,
            "tiny": 5e-324,
            "neg_zero": -0.0,
            "big": 1.7976931348623157e308,
            "t": true,
            "f2": false,
            "n": null,
            "empty": "",
            "uni": "é ✓ \u{0} \"quoted\"",
            "UPPER-UUID": "0B9F6F7E-4A8E-4C1E-9F52-2D0C3F1F6A11",
            "almost": "0b9f6f7e-4a8e-4c1e-9f52-2d0c3f1f6a1g",
            "hyphens": "0b9f6f7e04a8e-4c1e-9f52-2d0c3f1f6a11",
            "aud": ["a", 3, {"k": [null, -1.25]}],
            "nested": {"x": {"y": []}, "": {}},
            "long": "x".repeat(300),
        }));
    }

    #[test]
    fn negative_zero_keeps_its_sign() {
        let (back, _) = round_trip(&json!({"z": -0.0}));
        assert!(back["z"].as_f64().unwrap().is_sign_negative());
    }

    #[test]
    fn corrupt_input_is_refused() {
        let mut bytes = Vec::new();
        encode_entry(&mut bytes, "name", &json!(["a", "b"]));
        for cut in 0..bytes.len() {
            assert!(decode_into(&bytes[..cut], &mut Map::new()).is_none() || cut == 0);
        }
        assert!(decode_into(&[0, 42], &mut Map::new()).is_none());
        assert!(decode_into(&[200, NULL], &mut Map::new()).is_none());
        assert!(decode_into(&[0, ARRAY, 0xff, 0xff, 0xff, 0xff, 0x0f], &mut Map::new()).is_none());
    }
}
