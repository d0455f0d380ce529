//! Small helpers for validating tool arguments.

use serde_json::{Map, Value};
use warden_core::ToolError;

/// Rejects arguments not named in `allowed` (the schemas say
/// `additionalProperties: false`).
pub(crate) fn reject_unknown(args: &Map<String, Value>, allowed: &[&str]) -> Result<(), ToolError> {
    let mut unknown: Vec<&str> = args
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort_unstable();
    let shown: Vec<String> = unknown.iter().take(5).map(|k| shorten(k)).collect();
    Err(ToolError::InvalidParams(format!(
        "unknown argument(s): {}",
        shown.join(", ")
    )))
}

/// An optional integer argument in `min..=max`; `null` counts as absent.
pub(crate) fn int_in_range(
    args: &Map<String, Value>,
    name: &str,
    min: i64,
    max: i64,
    default: i64,
) -> Result<i64, ToolError> {
    let value = match args.get(name) {
        None | Some(Value::Null) => return Ok(default),
        Some(v) => v,
    };
    let n = match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        _ => None,
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ToolError::InvalidParams(format!(
            "`{name}` must be an integer from {min} to {max}, got {}",
            shorten(&value.to_string())
        ))),
    }
}

/// Caps a caller-supplied value for echoing in an error message.
pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 32;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn integers_in_range() {
        assert_eq!(
            int_in_range(&args(json!({})), "limit", 1, 10, 3).unwrap(),
            3
        );
        assert_eq!(
            int_in_range(&args(json!({"limit": null})), "limit", 1, 10, 3).unwrap(),
            3
        );
        assert_eq!(
            int_in_range(&args(json!({"limit": 10})), "limit", 1, 10, 3).unwrap(),
            10
        );
        assert_eq!(
            int_in_range(&args(json!({"limit": 2.0})), "limit", 1, 10, 3).unwrap(),
            2
        );
        for bad in [
            json!(0),
            json!(11),
            json!(-1),
            json!(2.5),
            json!("3"),
            json!(true),
            json!(1e300),
        ] {
            let err = int_in_range(&args(json!({ "limit": bad })), "limit", 1, 10, 3).unwrap_err();
            assert!(
                matches!(err, ToolError::InvalidParams(ref m) if m.contains("limit")),
                "{err:?}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_shortening() {
        assert!(reject_unknown(&args(json!({"a": 1})), &["a"]).is_ok());
        let err = reject_unknown(&args(json!({"b": 1, "a": 1})), &["a"]).unwrap_err();
        assert_eq!(
            err,
            ToolError::InvalidParams("unknown argument(s): b".into())
        );
        assert_eq!(shorten(&"x".repeat(40)).chars().count(), 33);
    }
}
