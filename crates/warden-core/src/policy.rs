//! `BearerPolicy`: the claim checks every verifier applies after the signature.

use std::time::Duration;

use crate::{scope, AuthError, AuthInfo};

/// Issuer, audience, lifetime and scope rules for bearer tokens.
///
/// Providers hold one for their own issuer/audience checks; the guard holds
/// one for the resource-wide required scopes. Empty `issuers` or `audiences`
/// disable that check (providers always configure audiences; see
/// [`ProviderContext::default_audiences`](crate::ProviderContext::default_audiences)).
#[derive(Debug, Clone)]
pub struct BearerPolicy {
    /// Accepted `iss` values (exact match); empty accepts any.
    pub issuers: Vec<String>,
    /// Accepted `aud` values; a token must carry at least one. Empty accepts any.
    pub audiences: Vec<String>,
    /// Scopes every request must carry.
    pub required_scopes: Vec<String>,
    /// Whether granted `prefix:*` scopes cover `prefix:anything`.
    pub wildcard_scopes: bool,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// Whether a token without `exp` is rejected (JWTs: yes; introspection answers may omit it).
    pub require_exp: bool,
}

impl Default for BearerPolicy {
    fn default() -> Self {
        Self {
            issuers: Vec::new(),
            audiences: Vec::new(),
            required_scopes: Vec::new(),
            wildcard_scopes: true,
            leeway: Duration::from_secs(60),
            require_exp: true,
        }
    }
}

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Canonical form of a resource URL for audience comparison: lowercase
/// scheme and host, no trailing slash (REFERENCE §1).
pub fn canonical_resource(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    match trimmed.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            format!(
                "{}://{}{}",
                scheme.to_ascii_lowercase(),
                authority.to_ascii_lowercase(),
                path
            )
        }
        None => trimmed.to_owned(),
    }
}

impl BearerPolicy {
    /// Checks `iss` against the accepted issuers.
    pub fn check_issuer(&self, issuer: Option<&str>) -> Result<(), AuthError> {
        if self.issuers.is_empty() {
            return Ok(());
        }
        match issuer {
            Some(iss) if self.issuers.iter().any(|i| i == iss) => Ok(()),
            other => Err(AuthError::WrongIssuer {
                issuer: other.unwrap_or("").to_owned(),
            }),
        }
    }

    /// Checks that one of the token's audiences is ours (URLs compared canonically).
    pub fn check_audience(&self, audiences: &[String]) -> Result<(), AuthError> {
        if self.audiences.is_empty() {
            return Ok(());
        }
        let ours = |aud: &String| {
            self.audiences
                .iter()
                .any(|a| a == aud || canonical_resource(a) == canonical_resource(aud))
        };
        if audiences.iter().any(ours) {
            Ok(())
        } else {
            Err(AuthError::WrongAudience {
                audiences: audiences.to_vec(),
            })
        }
    }

    /// Checks `exp`, `nbf` and `iat` against `now` with the leeway.
    pub fn check_times(
        &self,
        exp: Option<i64>,
        nbf: Option<i64>,
        iat: Option<i64>,
        now: i64,
    ) -> Result<(), AuthError> {
        let leeway = self.leeway.as_secs() as i64;
        match exp {
            Some(exp) if exp.saturating_add(leeway) <= now => {
                return Err(AuthError::Expired { exp })
            }
            None if self.require_exp => return Err(AuthError::Expired { exp: 0 }),
            _ => {}
        }
        for t in [nbf, iat].into_iter().flatten() {
            if t > now.saturating_add(leeway) {
                return Err(AuthError::NotYetValid { nbf: t });
            }
        }
        Ok(())
    }

    /// Checks that `granted` covers `required` (honouring wildcards).
    pub fn check_scopes(&self, granted: &[String], required: &[String]) -> Result<(), AuthError> {
        let missing = scope::missing_scopes(granted, required, self.wildcard_scopes);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope {
                required: required.to_vec(),
                missing: missing.into_iter().map(str::to_owned).collect(),
            })
        }
    }

    /// Issuer, audience and lifetime checks on a verified identity
    /// (`nbf`/`iat` read from its raw claims).
    pub fn validate(&self, info: &AuthInfo, now: i64) -> Result<(), AuthError> {
        self.check_issuer(info.issuer.as_deref())?;
        let nbf = info.claims.get("nbf").and_then(serde_json::Value::as_i64);
        let iat = info.claims.get("iat").and_then(serde_json::Value::as_i64);
        self.check_times(info.expires_at, nbf, iat, now)?;
        self.check_audience(&info.audiences)?;
        Ok(())
    }

    /// The resource-wide scope check on an accepted identity.
    pub fn authorize(&self, info: &AuthInfo) -> Result<(), AuthError> {
        self.check_scopes(&info.scopes, &self.required_scopes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BearerPolicy {
        BearerPolicy {
            issuers: vec!["https://idp.example".into()],
            audiences: vec!["http://127.0.0.1:10000/mcp".into()],
            ..Default::default()
        }
    }

    #[test]
    fn issuer() {
        assert!(policy().check_issuer(Some("https://idp.example")).is_ok());
        assert!(matches!(
            policy().check_issuer(Some("https://evil.example")),
            Err(AuthError::WrongIssuer { .. })
        ));
        assert!(policy().check_issuer(None).is_err());
    }

    #[test]
    fn audience_is_canonicalised() {
        let p = policy();
        assert!(p
            .check_audience(&["HTTP://127.0.0.1:10000/mcp/".into()])
            .is_ok());
        assert!(p
            .check_audience(&["other".into(), "http://127.0.0.1:10000/mcp".into()])
            .is_ok());
        assert!(p.check_audience(&[]).is_err());
        assert!(p
            .check_audience(&["http://127.0.0.1:10000/mcpx".into()])
            .is_err());
    }

    #[test]
    fn times_with_leeway() {
        let p = policy();
        let now = 1_000_000;
        assert!(p.check_times(Some(now - 30), None, None, now).is_ok());
        assert!(matches!(
            p.check_times(Some(now - 60), None, None, now),
            Err(AuthError::Expired { .. })
        ));
        assert!(matches!(
            p.check_times(None, None, None, now),
            Err(AuthError::Expired { exp: 0 })
        ));
        assert!(p
            .check_times(Some(now + 10), Some(now + 59), None, now)
            .is_ok());
        assert!(matches!(
            p.check_times(Some(now + 1000), Some(now + 61), None, now),
            Err(AuthError::NotYetValid { .. })
        ));
        assert!(p
            .check_times(Some(now + 1000), None, Some(now + 3600), now)
            .is_err());
    }

    #[test]
    fn canonical() {
        assert_eq!(
            canonical_resource("HTTPS://Host.Example/MCP/"),
            "https://host.example/MCP"
        );
        assert_eq!(canonical_resource("https://host"), "https://host");
    }
}
