//! The `WARDEN_` environment layer of the configuration.
//!
//! `WARDEN_SECTION__KEY=value` sets `section.key`; only variables whose first
//! segment names a config section are read, so other `WARDEN_*` variables of
//! scripts around warden are ignored.
//!
//! Values keep their exact text: a value is read as a number or boolean only
//! when that reads back as the same text (`8080`, `true`), as a list or table
//! when it is one (`[a, b]`, `{k = v}`), and as the string itself otherwise.
//! So `0123`, `1.50` or `'x'` stay strings, and a secret (a
//! [`warden_core::Secret`] field) is always exactly what was set, whatever it
//! looks like: secrets never need quoting. A value in double quotes is the
//! quoted string (`"8080"` is the string `8080`).

use figment::providers::Env;
use figment::value::{Dict, Map, Value};
use figment::{Error, Metadata, Profile, Provider};
use serde::Deserialize;
use warden_core::Secret;

/// The top-level sections a `WARDEN_` variable may set.
const SECTIONS: &[&str] = &[
    "server",
    "resource",
    "auth",
    "providers",
    "tools",
    "log",
    "admin",
    "limits",
    "telemetry",
];

/// Whether an environment variable name (without the `WARDEN_` prefix) addresses a config
/// section. Other `WARDEN_*` variables (`WARDEN_BIN`, `WARDEN_REQUIRE_PROMETHEUS`, …) belong
/// to scripts around warden and are ignored; a typo inside a section is still an error.
pub(crate) fn is_config_env_key(key: &str) -> bool {
    let section = key.split("__").next().unwrap_or_default();
    SECTIONS.iter().any(|s| s.eq_ignore_ascii_case(section))
}

/// The `WARDEN_` environment as a figment provider (see the module docs).
pub(crate) struct EnvLayer {
    env: Env,
}

impl EnvLayer {
    /// The `WARDEN_` variables naming a config section, `__` nesting keys.
    pub(crate) fn new() -> Self {
        Self {
            env: Env::prefixed("WARDEN_")
                .filter(|key| is_config_env_key(key.as_str()))
                .split("__"),
        }
    }
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        self.env.metadata()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        let mut dict = Dict::new();
        for (key, raw) in self.env.iter() {
            if let Value::Dict(_, nested) = figment::util::nest(key.as_str(), value_of(&raw)) {
                merge(&mut dict, nested);
            }
        }
        Ok(Map::from([(Profile::Default, dict)]))
    }
}

/// The value an environment string stands for (see the module docs).
pub(crate) fn value_of(raw: &str) -> Value {
    let parsed: Value = raw.parse().unwrap_or_else(|never| match never {});
    let exact = |v: &Value| {
        Secret::deserialize(v)
            .map(|s| s.expose() == raw.trim())
            .unwrap_or(false)
    };
    match parsed {
        Value::Dict(..) | Value::Array(..) => parsed,
        Value::String(..) if raw.trim_start().starts_with('"') => parsed,
        Value::Num(..) | Value::Bool(..) if exact(&parsed) => parsed,
        _ => Value::from(raw.to_owned()),
    }
}

/// Merges `from` into `into`, tables recursively, later values winning.
fn merge(into: &mut Dict, from: Dict) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Dict(_, existing)), Value::Dict(_, nested)) => merge(existing, nested),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &Value) -> Option<&str> {
        v.as_str()
    }

    #[test]
    fn only_section_variables_are_config() {
        assert!(is_config_env_key("SERVER__BIND"));
        assert!(is_config_env_key("providers__corp__client_secret"));
        assert!(is_config_env_key("LOG__FILTER"));
        assert!(is_config_env_key("TELEMETRY__OTLP_ENDPOINT"));
        assert!(!is_config_env_key("BIN"));
        assert!(!is_config_env_key("REQUIRE_PROMETHEUS"));
        assert!(!is_config_env_key("SERVERS__BIND"));
        assert!(!is_config_env_key(""));
    }

    #[test]
    fn values_keep_their_text() {
        for raw in ["0123", "1.50", "1.0", "'x'", "abc", "12 34", "+5", "1e3"] {
            assert_eq!(text(&value_of(raw)), Some(raw), "{raw}");
        }
        assert_eq!(text(&value_of("\"8080\"")), Some("8080"));
    }

    #[test]
    fn typed_when_the_text_reads_back() {
        assert_eq!(value_of("8080").to_u128(), Some(8080));
        assert_eq!(
            value_of("98765432109876").to_u128(),
            Some(98_765_432_109_876)
        );
        assert_eq!(value_of("-3").to_i128(), Some(-3));
        assert_eq!(value_of("true").to_bool(), Some(true));
        assert_eq!(value_of("1.5").to_f64(), Some(1.5));
        assert!(matches!(value_of("[a, b]"), Value::Array(..)));
        assert!(matches!(value_of("{a = 1}"), Value::Dict(..)));
    }

    #[test]
    fn nested_keys_merge() {
        let mut dict = Dict::new();
        for (k, v) in [("a.b", "1"), ("a.c", "x"), ("d", "y")] {
            if let Value::Dict(_, nested) = figment::util::nest(k, value_of(v)) {
                merge(&mut dict, nested);
            }
        }
        let a = dict["a"].as_dict().unwrap();
        assert_eq!(a["c"].as_str(), Some("x"));
        assert_eq!(a["b"].to_u128(), Some(1));
        assert_eq!(dict["d"].as_str(), Some("y"));
    }
}
