//! Helpers for the provider tables (`[providers.NAME]`), shared by every
//! provider crate so that a table reads — and fails — the same way whatever
//! its kind:
//!
//! * parsing that names the offending key: [`parse_table`] (by serde's path)
//!   and [`parse_table_by_key`] (by checking each key on its own);
//! * [`OneOrMany`] / [`one_or_many`]: a value given as a string or a list;
//! * [`check_base_url`] and [`carries_credentials`]: issuer and base URL checks;
//! * [`table_json`]: a parsed table as JSON for display (secrets redacted by
//!   their type, [`Secret`](warden_core::Secret)).
//!
//! ```
//! use serde::Deserialize;
//! use warden_upstream::config::{parse_table, OneOrMany};
//!
//! #[derive(Debug, Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Table {
//!     issuer: String,
//!     #[serde(default)]
//!     audience: Option<OneOrMany>,
//! }
//!
//! let t: Table = parse_table("corp", serde_json::json!({"issuer": "https://i", "audience": "a"})).unwrap();
//! assert_eq!(t.audience.unwrap().0, ["a"]);
//! let err = parse_table::<Table>("corp", serde_json::json!({"issuer": 5})).unwrap_err();
//! assert_eq!(err.to_string(), "providers.corp: issuer: invalid type: integer `5`, expected a string");
//! ```

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;
use warden_core::BuildError;

/// Parses the table of provider `provider` (without `kind`); an error names
/// the key at fault (`providers.NAME: key: what is wrong`), or is serde's
/// message alone when it concerns the whole table (a missing or unknown key).
pub fn parse_table<T: DeserializeOwned>(provider: &str, table: Value) -> Result<T, BuildError> {
    serde_path_to_error::deserialize(table).map_err(|e| {
        let path = e.path().to_string();
        let message = if path == "." {
            e.inner().to_string()
        } else {
            format!("{path}: {}", e.inner())
        };
        BuildError::invalid(provider, message)
    })
}

/// Parses the table of provider `provider` (without `kind`); when it does
/// not parse, the error names the first key (in key order) that
/// `check_key(key, value)` refuses — `providers.NAME: key: what is wrong`,
/// `unknown key` for a key the table does not have — and is serde's message
/// when every key passes on its own (a missing key).
///
/// ```
/// use std::time::Duration;
/// use serde::Deserialize;
/// use warden_upstream::config::{parse_table_by_key, value_fits};
///
/// #[derive(Debug, Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct Table {
///     #[serde(with = "humantime_serde")]
///     ttl: Duration,
/// }
/// let check = |key: &str, value: &serde_json::Value| match key {
///     "ttl" => value_fits::<humantime_serde::Serde<Duration>>(value),
///     _ => Err("unknown key".to_owned()),
/// };
/// let err = parse_table_by_key::<Table>("dev", serde_json::json!({"tll": "1h"}), check).unwrap_err();
/// assert_eq!(err.to_string(), "providers.dev: tll: unknown key");
/// ```
pub fn parse_table_by_key<T: DeserializeOwned>(
    provider: &str,
    table: Value,
    check_key: impl Fn(&str, &Value) -> Result<(), String>,
) -> Result<T, BuildError> {
    serde_json::from_value::<T>(table.clone()).map_err(|e| {
        let culprit = table.as_object().and_then(|map| {
            map.iter()
                .find_map(|(k, v)| check_key(k, v).err().map(|m| format!("{k}: {m}")))
        });
        BuildError::invalid(provider, culprit.unwrap_or_else(|| e.to_string()))
    })
}

/// `Ok` when `value` reads as a `T`, else serde's message: the check of one
/// key for [`parse_table_by_key`].
pub fn value_fits<T: DeserializeOwned>(value: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(value.clone())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A parsed table as JSON, for display (`describe`): every
/// [`Secret`](warden_core::Secret) shows as `"***"`.
pub fn table_json<T: Serialize>(provider: &str, table: &T) -> Result<Value, BuildError> {
    serde_json::to_value(table).map_err(|e| BuildError::invalid(provider, e.to_string()))
}

/// A config value given as one string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    out.push(item);
                }
                Ok(OneOrMany(out))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// [`OneOrMany`] into a plain list, for `#[serde(deserialize_with = "…")]`
/// on a `Vec<String>` field.
pub fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    OneOrMany::deserialize(deserializer).map(|list| list.0)
}

/// Checks a base URL (an issuer, an environment URL): an absolute `http(s)`
/// URL with a host, without query or fragment. Whether it may carry user
/// info is the caller's rule ([`carries_credentials`]).
///
/// ```
/// use warden_upstream::config::check_base_url;
///
/// assert!(check_base_url("https://t.logto.app/oidc").is_ok());
/// assert_eq!(check_base_url("ftp://x").unwrap_err(), "\"ftp://x\" is not an http(s) URL with a host");
/// assert_eq!(check_base_url("https://x/?a=1").unwrap_err(), "\"https://x/?a=1\" must not have a query or fragment");
/// assert!(check_base_url("t.logto.app").unwrap_err().starts_with("\"t.logto.app\": "));
/// ```
pub fn check_base_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("{url:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!("{url:?} is not an http(s) URL with a host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("{url:?} must not have a query or fragment"));
    }
    Ok(parsed)
}

/// Whether `url` holds a user name or a password.
pub fn carries_credentials(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    struct Table {
        issuer: String,
        #[serde(default, deserialize_with = "one_or_many")]
        audience: Vec<String>,
        #[serde(default, with = "humantime_serde")]
        ttl: Option<Duration>,
    }

    fn check(key: &str, value: &Value) -> Result<(), String> {
        match key {
            "issuer" => value_fits::<String>(value),
            "audience" => value_fits::<OneOrMany>(value),
            "ttl" => value_fits::<humantime_serde::Serde<Duration>>(value),
            _ => Err("unknown key".into()),
        }
    }

    #[test]
    fn errors_name_the_key_by_path() {
        let err = |v| parse_table::<Table>("corp", v).unwrap_err().to_string();
        assert_eq!(
            err(json!({"issuer": "i", "ttl": "soon"})),
            "providers.corp: ttl: invalid value: string \"soon\", expected a duration"
        );
        assert!(err(json!({})).starts_with("providers.corp: missing field `issuer`"));
        assert!(err(json!({"issuer": "i", "isuer": 1})).contains("unknown field `isuer`"));
        assert_eq!(
            err(json!({"issuer": "i", "audience": 5})),
            "providers.corp: audience: invalid type: integer `5`, expected a string or a list of strings"
        );
        let t: Table = parse_table("corp", json!({"issuer": "i", "audience": ["a", "b"]})).unwrap();
        assert_eq!(t.audience, ["a", "b"]);
        assert_eq!(
            table_json("corp", &t).unwrap()["audience"],
            json!(["a", "b"])
        );
    }

    #[test]
    fn errors_name_the_key_by_check() {
        let err = |v| {
            parse_table_by_key::<Table>("corp", v, check)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(json!({"issuer": "i", "ttl": "soon"})),
            "providers.corp: ttl: invalid value: string \"soon\", expected a duration"
        );
        assert_eq!(
            err(json!({"issuer": "i", "isuer": 1})),
            "providers.corp: isuer: unknown key"
        );
        assert!(err(json!({})).contains("missing field `issuer`"));
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            check_base_url("https://u:p@idp.example/t")
                .unwrap()
                .host_str(),
            Some("idp.example")
        );
        assert!(carries_credentials(
            &check_base_url("https://u:p@idp.example").unwrap()
        ));
        assert!(carries_credentials(
            &check_base_url("https://u@idp.example").unwrap()
        ));
        assert!(!carries_credentials(
            &check_base_url("https://idp.example").unwrap()
        ));
        assert!(check_base_url("https://idp.example#f").is_err());
        assert!(check_base_url("unix:/run/x").is_err());
    }
}
