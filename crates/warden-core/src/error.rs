//! The one error enum of warden's auth path.

use std::time::Duration;

use crate::Outcome;

/// Why a request was not authenticated or not authorized.
///
/// Variants carry the offending value (issuer, audience, kid, missing scope)
/// so operators see *why*; none ever carries the token itself. Turning an
/// error into HTTP happens in exactly one place: [`AuthError::challenge`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The request carried no bearer token at all.
    #[error("no bearer token was presented")]
    MissingToken,
    /// The request itself is malformed (two `Authorization` headers, token in the query string).
    #[error("invalid request: {reason}")]
    InvalidRequest {
        /// What was wrong.
        reason: String,
    },
    /// The token is not well formed (bad base64, not JSON, too large, …).
    #[error("malformed token: {reason}")]
    Malformed {
        /// What was wrong.
        reason: String,
    },
    /// The JWT header names an algorithm the provider does not allow.
    #[error("algorithm {alg} is not allowed")]
    AlgorithmNotAllowed {
        /// The `alg` header value.
        alg: String,
    },
    /// The JWT header has a property warden refuses (`crit`, a `typ` mismatch, …).
    #[error("unacceptable token header: {reason}")]
    BadHeader {
        /// What was wrong.
        reason: String,
    },
    /// No key with this `kid` is known, even after a JWKS refresh.
    #[error("no key with kid {kid:?}")]
    UnknownKey {
        /// The `kid` header value (empty when absent).
        kid: String,
    },
    /// The signature does not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// The token expired (`exp` + leeway is in the past), or has no `exp`.
    #[error("token expired at {exp}")]
    Expired {
        /// `exp`, seconds since the epoch (0 when the claim is missing).
        exp: i64,
    },
    /// `nbf` (or `iat`) lies in the future beyond the leeway.
    #[error("token not valid before {nbf}")]
    NotYetValid {
        /// `nbf`/`iat`, seconds since the epoch.
        nbf: i64,
    },
    /// The issuer is not one this provider (or any provider) accepts.
    #[error("issuer {issuer:?} is not accepted")]
    WrongIssuer {
        /// The token's `iss` (empty when absent).
        issuer: String,
    },
    /// None of the token's audiences is one of ours.
    #[error("audience {audiences:?} does not include this resource")]
    WrongAudience {
        /// The token's `aud` values.
        audiences: Vec<String>,
    },
    /// The token is of a type that cannot be used here (refresh token, wrong `typ`).
    #[error("token type {token_type:?} is not an access token")]
    WrongTokenType {
        /// The offending `token_type` / `typ`.
        token_type: String,
    },
    /// The authorization server says the token is not active (revoked, expired, unknown).
    #[error("token is not active")]
    Inactive,
    /// The token is valid but lacks scopes this request needs.
    #[error("insufficient scope: missing {missing:?}")]
    InsufficientScope {
        /// Every scope the request needs (what the challenge advertises).
        required: Vec<String>,
        /// The scopes the token lacks.
        missing: Vec<String>,
    },
    /// The token could not be verified because a dependency is unavailable
    /// (IdP down, timing out, answering 5xx, keys not loaded yet).
    #[error("could not verify the token: {provider} unavailable ({reason})")]
    Unavailable {
        /// The provider that could not verify.
        provider: String,
        /// What failed (no secrets).
        reason: String,
        /// When the client should try again.
        retry_after: Duration,
    },
}

/// The metric/outcome label of an error: a small, bounded set of values.
impl AuthError {
    /// The decision this error stands for (a bounded label for metrics and logs).
    pub fn outcome(&self) -> Outcome {
        match self {
            AuthError::MissingToken => Outcome::MissingToken,
            AuthError::InvalidRequest { .. } => Outcome::InvalidRequest,
            AuthError::Malformed { .. } | AuthError::BadHeader { .. } => Outcome::Malformed,
            AuthError::AlgorithmNotAllowed { .. }
            | AuthError::UnknownKey { .. }
            | AuthError::BadSignature => Outcome::BadSignature,
            AuthError::Expired { .. } => Outcome::Expired,
            AuthError::NotYetValid { .. } => Outcome::NotYetValid,
            AuthError::WrongIssuer { .. } => Outcome::WrongIssuer,
            AuthError::WrongAudience { .. } => Outcome::WrongAudience,
            AuthError::WrongTokenType { .. } | AuthError::Inactive => Outcome::Inactive,
            AuthError::InsufficientScope { .. } => Outcome::InsufficientScope,
            AuthError::Unavailable { .. } => Outcome::Unavailable,
        }
    }

    /// Shorthand for a malformed-token error.
    pub fn malformed(reason: impl Into<String>) -> Self {
        AuthError::Malformed {
            reason: reason.into(),
        }
    }

    /// Shorthand for an unavailable-provider error with the default retry hint (5 s).
    pub fn unavailable(provider: impl Into<String>, reason: impl Into<String>) -> Self {
        AuthError::Unavailable {
            provider: provider.into(),
            reason: reason.into(),
            retry_after: Duration::from_secs(5),
        }
    }

    /// Whether this error means "could not verify" rather than "invalid".
    pub fn is_unavailable(&self) -> bool {
        matches!(self, AuthError::Unavailable { .. })
    }
}
