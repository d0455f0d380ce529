//! [`Outcome`]: the bounded set of auth decisions, shared by the guard,
//! metrics and logs.

use std::fmt;

/// How the guard decided on a request: accepted, or why not.
///
/// Hosts pre-create their metric series from [`Outcome::ALL`], so a new
/// variant shows up as its own series rather than silently as `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The token is valid and carries every scope the request needs.
    Accepted,
    /// No bearer token was presented.
    MissingToken,
    /// The token is not well formed, or its header is unacceptable.
    Malformed,
    /// Unknown key, disallowed algorithm or a signature that does not verify.
    BadSignature,
    /// `exp` is in the past.
    Expired,
    /// `nbf`/`iat` is in the future.
    NotYetValid,
    /// The issuer is not accepted.
    WrongIssuer,
    /// The audience is not this resource.
    WrongAudience,
    /// The token lacks a scope the request needs.
    InsufficientScope,
    /// Not active (revoked, unknown) or not an access token.
    Inactive,
    /// Could not be verified: a provider is unavailable.
    Unavailable,
    /// The request itself is malformed (two `Authorization` headers, token in the query).
    InvalidRequest,
}

impl Outcome {
    /// Every outcome, in a stable order.
    pub const ALL: [Outcome; 12] = [
        Outcome::Accepted,
        Outcome::MissingToken,
        Outcome::Malformed,
        Outcome::BadSignature,
        Outcome::Expired,
        Outcome::NotYetValid,
        Outcome::WrongIssuer,
        Outcome::WrongAudience,
        Outcome::InsufficientScope,
        Outcome::Inactive,
        Outcome::Unavailable,
        Outcome::InvalidRequest,
    ];

    /// The label (`accepted`, `missing_token`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::MissingToken => "missing_token",
            Outcome::Malformed => "malformed",
            Outcome::BadSignature => "bad_signature",
            Outcome::Expired => "expired",
            Outcome::NotYetValid => "not_yet_valid",
            Outcome::WrongIssuer => "wrong_issuer",
            Outcome::WrongAudience => "wrong_audience",
            Outcome::InsufficientScope => "insufficient_scope",
            Outcome::Inactive => "inactive",
            Outcome::Unavailable => "unavailable",
            Outcome::InvalidRequest => "invalid_request",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_distinct_snake_case() {
        let labels: std::collections::BTreeSet<_> =
            Outcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(labels.len(), Outcome::ALL.len());
        assert!(labels
            .iter()
            .all(|l| l.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
    }
}
