//! The userinfo cache's rules: its name and how long a verdict may be
//! reused (positive ≤ `exp`, negative fixed). The cache itself is a
//! [`warden_upstream::TokenCache`]: keyed by SHA-256 of the token, bounded,
//! single-flight.

use std::time::Duration;

use crate::userinfo::Verdict;
use crate::OpaqueCacheSettings;

/// The cache name in [`CacheStats`](warden_core::CacheStats) and `Event::CacheLookup`.
pub(crate) const CACHE_NAME: &str = "userinfo";

/// How long `verdict` may be reused.
pub(crate) fn entry_ttl(verdict: &Verdict, settings: &OpaqueCacheSettings, now: i64) -> Duration {
    match verdict {
        Verdict::Rejected { .. } => settings.negative_ttl,
        Verdict::Accepted(info) => match info.expires_at {
            None => settings.ttl,
            Some(exp) => settings
                .ttl
                .min(Duration::from_secs(exp.saturating_sub(now).max(0) as u64)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use warden_core::AuthInfo;

    fn accepted(exp: Option<i64>) -> Verdict {
        Verdict::Accepted(Arc::new(AuthInfo {
            expires_at: exp,
            ..Default::default()
        }))
    }

    #[test]
    fn ttl_never_outlives_exp() {
        let s = OpaqueCacheSettings::default();
        let now = 1_000_000;
        assert_eq!(entry_ttl(&accepted(None), &s, now), s.ttl);
        assert_eq!(
            entry_ttl(&accepted(Some(now + 5)), &s, now),
            Duration::from_secs(5)
        );
        assert_eq!(entry_ttl(&accepted(Some(now - 5)), &s, now), Duration::ZERO);
        assert_eq!(entry_ttl(&accepted(Some(now + 3600)), &s, now), s.ttl);
        assert_eq!(
            entry_ttl(&Verdict::Rejected { status: 401 }, &s, now),
            s.negative_ttl
        );
    }
}
