//! Label bounding: every label value is checked before it reaches a series.
//!
//! Provider, tool, upstream and route names come from config, but a bug or an
//! attacker-influenced string must never create unbounded series or leak a
//! value. Each dimension is a [`LabelSet`]: an allow-list when the host names
//! the known values, otherwise the first [`DYNAMIC_CAP`] distinct well-formed
//! values; everything else is reported as [`OTHER`].

use std::collections::HashSet;
use std::sync::RwLock;

/// The label value used for anything outside the known set.
pub const OTHER: &str = "other";

/// Longest label value kept; longer values become [`OTHER`].
pub const MAX_LABEL_LEN: usize = 64;

/// Distinct values a dimension without an allow-list accepts before answering [`OTHER`].
pub const DYNAMIC_CAP: usize = 32;

/// Whether `value` is short and made of name characters only
/// (ASCII letters, digits, `_ - . : /`).
pub fn well_formed(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_LABEL_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'/'))
}

/// A fixed-vocabulary label: `value` if it is in `allowed`, else [`OTHER`].
pub fn fixed<'a>(value: &'a str, allowed: &[&str]) -> &'a str {
    if allowed.contains(&value) {
        value
    } else {
        OTHER
    }
}

/// A code-defined label (`&'static str` from an event): kept when well formed.
pub fn static_label(value: &'static str) -> &'static str {
    if well_formed(value) {
        value
    } else {
        OTHER
    }
}

/// One bounded label dimension (provider, tool, upstream).
#[derive(Debug)]
pub struct LabelSet {
    allowed: Option<Vec<String>>,
    extra: &'static [&'static str],
    seen: RwLock<HashSet<String>>,
}

impl LabelSet {
    /// A dimension accepting the first [`DYNAMIC_CAP`] well-formed values.
    pub fn dynamic(extra: &'static [&'static str]) -> Self {
        Self {
            allowed: None,
            extra,
            seen: RwLock::new(HashSet::new()),
        }
    }

    /// A dimension accepting exactly `allowed` (plus `extra`, e.g. `none`).
    pub fn known(allowed: Vec<String>, extra: &'static [&'static str]) -> Self {
        Self {
            allowed: Some(allowed.into_iter().filter(|v| well_formed(v)).collect()),
            extra,
            seen: RwLock::new(HashSet::new()),
        }
    }

    /// The known values (empty for a dynamic set).
    pub fn known_values(&self) -> &[String] {
        self.allowed.as_deref().unwrap_or(&[])
    }

    /// How many values [`index`](Self::index) can answer: the known values
    /// then `extra` (zero for a dynamic set).
    pub fn indexed_len(&self) -> usize {
        self.allowed
            .as_ref()
            .map_or(0, |allowed| allowed.len() + self.extra.len())
    }

    /// The position of `value` among the known values then `extra`, for a
    /// set with an allow-list; `None` for anything else (and always for a
    /// dynamic set). A value with a position is its own [`label`](Self::label).
    pub fn index(&self, value: &str) -> Option<usize> {
        let allowed = self.allowed.as_ref()?;
        if let Some(i) = allowed.iter().position(|a| a == value) {
            return Some(i);
        }
        self.extra
            .iter()
            .position(|e| *e == value)
            .map(|i| allowed.len() + i)
    }

    /// The label to record for `value`.
    pub fn label<'a>(&self, value: &'a str) -> &'a str {
        if self.extra.contains(&value) {
            return value;
        }
        if !well_formed(value) {
            return OTHER;
        }
        if let Some(allowed) = &self.allowed {
            return if allowed.iter().any(|a| a == value) {
                value
            } else {
                OTHER
            };
        }
        if let Ok(seen) = self.seen.read() {
            if seen.contains(value) {
                return value;
            }
            if seen.len() >= DYNAMIC_CAP {
                return OTHER;
            }
        }
        match self.seen.write() {
            Ok(mut seen) if seen.len() < DYNAMIC_CAP || seen.contains(value) => {
                seen.insert(value.to_owned());
                value
            }
            _ => OTHER,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_rejects_long_and_odd_values() {
        assert!(well_formed("idp:corp"));
        assert!(well_formed("/.well-known/oauth-protected-resource"));
        assert!(!well_formed(""));
        assert!(!well_formed("has space"));
        assert!(!well_formed("quote\""));
        assert!(!well_formed(&"a".repeat(MAX_LABEL_LEN + 1)));
    }

    #[test]
    fn known_set_maps_unknown_to_other() {
        let set = LabelSet::known(vec!["dev".into(), "corp".into()], &["none"]);
        assert_eq!(set.label("dev"), "dev");
        assert_eq!(set.label("none"), "none");
        assert_eq!(set.label("eyJhbGciOiJSUzI1NiJ9"), OTHER);
    }

    #[test]
    fn index_covers_known_values_then_extra() {
        let set = LabelSet::known(vec!["dev".into(), "corp".into()], &["none"]);
        assert_eq!(set.indexed_len(), 3);
        assert_eq!(set.index("dev"), Some(0));
        assert_eq!(set.index("corp"), Some(1));
        assert_eq!(set.index("none"), Some(2));
        assert_eq!(set.index("other-idp"), None);
        for v in ["dev", "corp", "none"] {
            assert_eq!(set.label(v), v);
        }
        let dynamic = LabelSet::dynamic(&["none"]);
        assert_eq!(dynamic.indexed_len(), 0);
        assert_eq!(dynamic.index("none"), None);
    }

    #[test]
    fn dynamic_set_is_capped() {
        let set = LabelSet::dynamic(&[]);
        for i in 0..DYNAMIC_CAP {
            let v = format!("p{i}");
            assert_eq!(set.label(&v), v);
        }
        assert_eq!(set.label("one-too-many"), OTHER);
        assert_eq!(set.label("p0"), "p0");
    }

    #[test]
    fn fixed_vocabulary() {
        assert_eq!(fixed("GET", &["GET", "POST"]), "GET");
        assert_eq!(fixed("BREW", &["GET", "POST"]), OTHER);
    }
}
