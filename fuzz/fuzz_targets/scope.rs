//! Scope parsing (the claim zoo) and matching, wildcards on and off.
//!
//! Oracle: exact scopes always cover themselves; without wildcards covering
//! is equality; a wildcard match is a `prefix:*` whose prefix starts the
//! required scope (and is shorter than it); `missing_scopes` is exactly the
//! uncovered subset; split scopes are non-empty and whitespace-free.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use warden_core::scope::{missing_scopes, scope_covers, scopes_from_claims, split_scopes};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (granted_text, required_text) = text.split_once('|').unwrap_or((&text, ""));
    let granted = split_scopes(granted_text);
    let required = split_scopes(required_text);
    for s in granted.iter().chain(&required) {
        assert!(!s.is_empty() && !s.contains(|c: char| c.is_ascii_whitespace()));
    }
    for wildcards in [false, true] {
        let missing = missing_scopes(&granted, &required, wildcards);
        for r in &required {
            let covered = granted.iter().any(|g| scope_covers(g, r, wildcards));
            assert_eq!(covered, !missing.contains(&r.as_str()), "{r:?}");
        }
        for g in &granted {
            assert!(scope_covers(g, g, wildcards));
            for r in &required {
                let covers = scope_covers(g, r, wildcards);
                if !wildcards {
                    assert_eq!(covers, g == r);
                } else if covers && g != r {
                    let prefix = g.strip_suffix('*').expect("wildcard ends in *");
                    assert!(prefix.ends_with(':'), "{g:?} covers {r:?}");
                    assert!(r.starts_with(prefix) && r.len() > prefix.len());
                }
            }
        }
    }
    // The claim zoo: any JSON object.
    if let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(data) {
        let scopes = scopes_from_claims(&claims);
        for (i, s) in scopes.iter().enumerate() {
            assert!(!s.is_empty() && !s.contains(|c: char| c.is_ascii_whitespace()));
            assert!(!scopes[..i].contains(s), "duplicate {s:?}");
        }
    }
});
