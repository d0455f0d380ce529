//! [`Secret`]: a configuration value that is never shown.
//!
//! Redaction is driven by this type, not by key names: a field typed `Secret`
//! prints, logs and serializes as `"***"` wherever it goes (`Debug`, `Display`,
//! `Serialize`), while every other field shows its real value.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// What a [`Secret`] shows instead of its value.
pub const REDACTED: &str = "***";

/// A secret string (admin token, client secret, API key).
///
/// * `Debug`, `Display` and `Serialize` show [`REDACTED`], never the value;
/// * reading it accepts any scalar and keeps its text exactly: an all-digit
///   token written as `token = 98765432109876` in TOML, or set through an
///   environment variable, is the string `"98765432109876"` (never a number,
///   never an error that repeats the value);
/// * [`Secret::expose`] is the one way to the value, for the code that sends it.
///
/// ```
/// use warden_core::Secret;
///
/// let s: Secret = serde_json::from_value(serde_json::json!(98765432109876u64)).unwrap();
/// assert_eq!(s.expose(), "98765432109876");
/// assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
/// assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SecretVisitor)
    }
}

/// Accepts strings and scalars; every error names the expected shape, never the value.
struct SecretVisitor;

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a secret string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Secret, E> {
        Ok(Secret(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Secret, E> {
        Ok(Secret(v))
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<Secret, E> {
        Ok(Secret(v.to_string()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Secret, E> {
        Ok(Secret(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Secret, E> {
        Ok(Secret(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Secret, E> {
        Ok(Secret(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Secret, E> {
        Ok(Secret(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Secret, E> {
        Ok(Secret(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Secret, E> {
        // Shortest text that reads back as the same number; configuration
        // loaders keep a scalar typed only when this is its exact text.
        Ok(Secret(v.to_string()))
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Secret, E> {
        Err(E::invalid_type(de::Unexpected::Other("bytes"), &self))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
        Err(de::Error::invalid_type(de::Unexpected::Seq, &self))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
        Err(de::Error::invalid_type(de::Unexpected::Map, &self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_become_their_text() {
        for (value, text) in [
            (json!("s3cr3t"), "s3cr3t"),
            (json!(98765432109876u64), "98765432109876"),
            (json!(-12), "-12"),
            (json!(1.5), "1.5"),
            (json!(true), "true"),
        ] {
            let s: Secret = serde_json::from_value(value).unwrap();
            assert_eq!(s.expose(), text);
        }
    }

    #[test]
    fn never_shown() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(serde_json::to_value(&s).unwrap(), json!("***"));
        assert_eq!(
            serde_json::to_value(Some(&s)).unwrap(),
            json!("***"),
            "inside an Option too"
        );
    }

    #[test]
    fn wrong_shapes_do_not_echo_the_value() {
        let e = serde_json::from_value::<Secret>(json!(["hunter2"]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("a secret string") && !e.contains("hunter2"),
            "{e}"
        );
        let e = serde_json::from_value::<Secret>(json!({"v": "hunter2"}))
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
