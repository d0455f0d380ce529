//! Scope parsing (the claim zoo) and matching (including `prefix:*` wildcards).

use serde_json::{Map, Value};

/// Splits a space-delimited scope string (RFC 6749 §3.3) into scopes.
pub fn split_scopes(scope: &str) -> Vec<String> {
    scope.split_ascii_whitespace().map(str::to_owned).collect()
}

/// Collects granted scopes from every claim IdPs use for them.
///
/// Reads `scope` (space-delimited string or array), `scp` (string or array),
/// `scopes` (array or string) and `permissions` (array), de-duplicating while
/// keeping first-seen order.
pub fn scopes_from_claims(claims: &Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for key in ["scope", "scp", "scopes", "permissions"] {
        match claims.get(key) {
            Some(Value::String(s)) => push_all(&mut out, split_scopes(s)),
            Some(Value::Array(items)) => push_all(
                &mut out,
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .flat_map(|s| split_scopes(s).into_iter()),
            ),
            _ => {}
        }
    }
    out
}

fn push_all(out: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
}

/// Whether one granted scope covers one required scope.
///
/// Exact, case-sensitive equality always matches. With `wildcards` on, a
/// granted scope ending in `:*` covers every scope starting with the text
/// before the `*` (`mcp:resources:*` covers `mcp:resources:customer-insights:read`,
/// but not `mcp:resources` itself nor `mcp:resourcesX`).
pub fn scope_covers(granted: &str, required: &str, wildcards: bool) -> bool {
    if granted == required {
        return true;
    }
    if !wildcards {
        return false;
    }
    match granted.strip_suffix('*') {
        Some(prefix) if prefix.ends_with(':') => {
            required.len() > prefix.len() && required.starts_with(prefix)
        }
        _ => false,
    }
}

/// The required scopes that none of the granted scopes covers.
pub fn missing_scopes<'a>(
    granted: &[String],
    required: &'a [String],
    wildcards: bool,
) -> Vec<&'a str> {
    required
        .iter()
        .filter(|req| !granted.iter().any(|g| scope_covers(g, req, wildcards)))
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn claim_zoo() {
        assert_eq!(
            scopes_from_claims(&claims(json!({"scope": "a b  c"}))),
            ["a", "b", "c"]
        );
        assert_eq!(
            scopes_from_claims(&claims(json!({"scope": ["a", "b"]}))),
            ["a", "b"]
        );
        assert_eq!(
            scopes_from_claims(&claims(json!({"scp": "a b"}))),
            ["a", "b"]
        );
        assert_eq!(scopes_from_claims(&claims(json!({"scp": ["a"]}))), ["a"]);
        assert_eq!(
            scopes_from_claims(&claims(json!({"scopes": ["x", "y"]}))),
            ["x", "y"]
        );
        assert_eq!(
            scopes_from_claims(&claims(json!({"permissions": ["p"]}))),
            ["p"]
        );
        assert_eq!(
            scopes_from_claims(&claims(json!({"scope": "a b", "scopes": ["b", "c"]}))),
            ["a", "b", "c"]
        );
        assert!(scopes_from_claims(&claims(json!({"scope": 5}))).is_empty());
    }

    #[test]
    fn wildcards() {
        assert!(scope_covers(
            "mcp:resources:*",
            "mcp:resources:customer-insights:read",
            true
        ));
        assert!(!scope_covers(
            "mcp:resources:*",
            "mcp:resources:customer-insights:read",
            false
        ));
        assert!(!scope_covers("mcp:resources:*", "mcp:resources:", true));
        assert!(!scope_covers("mcp:resources:*", "mcp:resourcesX", true));
        assert!(!scope_covers("news:read", "news:read2", true));
        assert!(!scope_covers("news:read2", "news:read", true));
        assert!(!scope_covers("NEWS:READ", "news:read", true));
        assert!(!scope_covers("*", "news:read", true));
        assert!(!scope_covers("news*", "news:read", true));
    }

    #[test]
    fn missing() {
        let granted = vec!["news:*".to_owned(), "profile".to_owned()];
        let required = vec!["news:read".to_owned(), "admin".to_owned()];
        assert_eq!(missing_scopes(&granted, &required, true), ["admin"]);
        assert_eq!(
            missing_scopes(&granted, &required, false),
            ["news:read", "admin"]
        );
    }

    proptest! {
        #[test]
        fn exact_always_matches(s in "\\PC{0,40}") {
            prop_assert!(scope_covers(&s, &s, false));
            prop_assert!(scope_covers(&s, &s, true));
        }

        #[test]
        fn no_wildcard_means_equality(g in "[a-z:*]{0,12}", r in "[a-z:*]{0,12}") {
            prop_assert_eq!(scope_covers(&g, &r, false), g == r);
        }

        #[test]
        fn wildcard_match_implies_prefix(g in "[a-z:]{0,8}\\*", r in "[a-z:*]{0,12}") {
            if scope_covers(&g, &r, true) && g != r {
                prop_assert!(r.starts_with(g.trim_end_matches('*')));
                prop_assert!(g.ends_with(":*"));
            }
        }

        #[test]
        fn split_never_yields_whitespace(s in "\\PC{0,60}") {
            for part in split_scopes(&s) {
                prop_assert!(!part.is_empty());
                prop_assert!(!part.contains(|c: char| c.is_ascii_whitespace()));
            }
        }
    }
}
