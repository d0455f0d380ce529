//! The RFC 7662 answer and the checks warden applies to it.

use std::time::Duration;

use serde_json::{Map, Value};
use warden_core::{now_unix, scope, AuthError, AuthInfo, BearerPolicy, Check};

/// A parsed introspection answer (RFC 7662 §2.2).
///
/// Parsing is tolerant where real servers differ (`scope` as a string or an
/// array, `aud` as a string or a list, times as numbers or numeric strings)
/// and strict where a wrong type would hide a decision (`active` must be a
/// boolean; `iss`, `token_type` and `aud` must be strings).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntrospectionAnswer {
    /// `active`: whether the server considers the token valid right now.
    pub active: bool,
    /// Granted scopes (`scope` string or array, `scp`, `scopes`, `permissions`).
    pub scopes: Vec<String>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// `sub`.
    pub subject: Option<String>,
    /// `aud` values; empty when the answer carries none.
    pub audiences: Vec<String>,
    /// `iss`.
    pub issuer: Option<String>,
    /// `exp`, seconds since the epoch.
    pub expires_at: Option<i64>,
    /// `iat`, seconds since the epoch.
    pub issued_at: Option<i64>,
    /// `nbf`, seconds since the epoch.
    pub not_before: Option<i64>,
    /// `token_type`.
    pub token_type: Option<String>,
    /// `username`.
    pub username: Option<String>,
    /// Every member of the answer except `active`.
    pub claims: Map<String, Value>,
}

impl IntrospectionAnswer {
    /// Parses a response body. The error says what is wrong (never echoing the body).
    pub fn from_slice(body: &[u8]) -> Result<Self, String> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| format!("body is not JSON ({e})"))?;
        Self::from_json(value)
    }

    /// Parses a JSON answer.
    pub fn from_json(value: Value) -> Result<Self, String> {
        let Value::Object(mut claims) = value else {
            return Err("body is not a JSON object".into());
        };
        let active = match claims.remove("active") {
            Some(Value::Bool(b)) => b,
            Some(_) => return Err("`active` is not a boolean".into()),
            None => return Err("`active` is missing".into()),
        };
        let answer = IntrospectionAnswer {
            active,
            scopes: scope::scopes_from_claims(&claims),
            client_id: string(&claims, "client_id")?,
            subject: string(&claims, "sub")?,
            audiences: string_list(&claims, "aud")?,
            issuer: string(&claims, "iss")?,
            expires_at: time(&claims, "exp")?,
            issued_at: time(&claims, "iat")?,
            not_before: time(&claims, "nbf")?,
            token_type: string(&claims, "token_type")?,
            username: string(&claims, "username")?,
            claims,
        };
        if let Some(bad) = ["scope", "scp", "scopes", "permissions"]
            .into_iter()
            .find(|k| {
                !matches!(
                    answer.claims.get(*k),
                    None | Some(Value::String(_) | Value::Array(_) | Value::Null)
                )
            })
        {
            return Err(format!("`{bad}` is neither a string nor an array"));
        }
        Ok(answer)
    }
}

fn string(claims: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match claims.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` is not a string")),
    }
}

fn string_list(claims: &Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    match claims.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("`{key}` holds a non-string value"))
            })
            .collect(),
        Some(_) => Err(format!("`{key}` is neither a string nor a list")),
    }
}

fn time(claims: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    let invalid = || format!("`{key}` is not a number of seconds");
    match claims.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(invalid),
        Some(Value::String(s)) => s.trim().parse::<i64>().map(Some).map_err(|_| invalid()),
        Some(_) => Err(invalid()),
    }
}

/// Whether a `token_type` names an access token usable as a bearer token.
///
/// Accepts `access_token`, `Bearer`, `N_A` (RFC 8693's "not applicable") and
/// the RFC 8693 URN, case-insensitively. Refresh and ID tokens, and
/// sender-constrained types such as `DPoP` (warden does not check proofs), are refused.
pub fn is_access_token_type(token_type: &str) -> bool {
    const ACCEPTED: [&str; 4] = [
        "access_token",
        "bearer",
        "n_a",
        "urn:ietf:params:oauth:token-type:access_token",
    ];
    ACCEPTED.iter().any(|t| t.eq_ignore_ascii_case(token_type))
}

/// The rules an introspection answer must pass to become an [`AuthInfo`].
#[derive(Debug, Clone)]
pub struct AnswerPolicy {
    /// The provider name put into [`AuthInfo::provider`].
    pub provider: String,
    /// Issuer (checked only when the answer carries `iss`), audiences and
    /// leeway. `require_exp` should be `false`: servers may omit `exp`.
    /// `required_scopes` is ignored here (the guard checks scopes).
    pub bearer: BearerPolicy,
    /// Accept active answers without any `aud`.
    pub allow_missing_audience: bool,
}

impl AnswerPolicy {
    /// A policy for `provider`: optional expected issuer, accepted audiences, leeway.
    pub fn new(
        provider: impl Into<String>,
        issuer: Option<String>,
        audiences: Vec<String>,
        leeway: Duration,
    ) -> Self {
        AnswerPolicy {
            provider: provider.into(),
            bearer: BearerPolicy {
                issuers: issuer.into_iter().collect(),
                audiences,
                leeway,
                require_exp: false,
                ..BearerPolicy::default()
            },
            allow_missing_audience: false,
        }
    }

    /// Accepts the answer (returning the identity) or says why not.
    pub fn check(&self, answer: &IntrospectionAnswer, now: i64) -> Result<AuthInfo, AuthError> {
        self.explain(answer, now).1
    }

    /// Runs every check and reports each: `introspection` (active),
    /// `token_type`, `issuer`, `audience`, `expiry`. The verdict is the first failure.
    pub fn explain(
        &self,
        answer: &IntrospectionAnswer,
        now: i64,
    ) -> (Vec<Check>, Result<AuthInfo, AuthError>) {
        let mut checks = Vec::with_capacity(5);
        let mut first_error: Option<AuthError> = None;
        let mut record = |name: &str, result: Result<String, AuthError>| match result {
            Ok(detail) => checks.push(Check::new(name, true, detail)),
            Err(e) => {
                checks.push(Check::new(name, false, e.to_string()));
                first_error.get_or_insert(e);
            }
        };

        record(
            "introspection",
            if answer.active {
                Ok("active".into())
            } else {
                Err(AuthError::Inactive)
            },
        );
        record(
            "token_type",
            match answer.token_type.as_deref() {
                None => Ok("not stated".into()),
                Some(t) if is_access_token_type(t) => Ok(t.to_owned()),
                Some(t) => Err(AuthError::WrongTokenType {
                    token_type: t.to_owned(),
                }),
            },
        );
        record(
            "issuer",
            match answer.issuer.as_deref() {
                None => Ok("not stated".into()),
                Some(iss) => self.bearer.check_issuer(Some(iss)).map(|()| iss.to_owned()),
            },
        );
        record("audience", self.check_audience(answer));
        record(
            "expiry",
            self.bearer
                .check_times(answer.expires_at, answer.not_before, answer.issued_at, now)
                .map(|()| match answer.expires_at {
                    Some(exp) => format!("exp {exp} ({} s left)", exp - now),
                    None => "no exp (the server vouches for the token)".into(),
                }),
        );

        let result = match first_error {
            Some(e) => Err(e),
            None => Ok(self.auth_info(answer)),
        };
        (checks, result)
    }

    fn check_audience(&self, answer: &IntrospectionAnswer) -> Result<String, AuthError> {
        if answer.audiences.is_empty() {
            return if self.allow_missing_audience {
                Ok("no aud (allowed by allow_missing_audience)".into())
            } else {
                Err(AuthError::WrongAudience {
                    audiences: Vec::new(),
                })
            };
        }
        self.bearer
            .check_audience(&answer.audiences)
            .map(|()| answer.audiences.join(" "))
    }

    fn auth_info(&self, answer: &IntrospectionAnswer) -> AuthInfo {
        AuthInfo {
            subject: answer.subject.clone(),
            issuer: answer.issuer.clone(),
            client_id: answer.client_id.clone(),
            audiences: answer.audiences.clone(),
            scopes: answer.scopes.clone(),
            expires_at: answer.expires_at,
            claims: answer.claims.clone(),
            provider: self.provider.clone(),
        }
    }
}

/// Turns an answer into an identity under `policy`, checking it now.
pub fn answer_to_auth_info(
    answer: &IntrospectionAnswer,
    policy: &AnswerPolicy,
) -> Result<AuthInfo, AuthError> {
    policy.check(answer, now_unix())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;
    const AUD: &str = "http://127.0.0.1:9/mcp";

    fn policy() -> AnswerPolicy {
        AnswerPolicy::new(
            "corp",
            Some("https://idp.example".into()),
            vec![AUD.into()],
            Duration::from_secs(0),
        )
    }

    fn answer(v: Value) -> IntrospectionAnswer {
        IntrospectionAnswer::from_json(v).unwrap()
    }

    #[test]
    fn parses_the_zoo() {
        let a = answer(json!({
            "active": true, "scope": "a b", "aud": AUD, "exp": 5, "iat": "4",
            "nbf": 3.0, "sub": "alice", "client_id": "app", "username": "al"
        }));
        assert_eq!(a.scopes, ["a", "b"]);
        assert_eq!(a.audiences, [AUD]);
        assert_eq!(
            (a.expires_at, a.issued_at, a.not_before),
            (Some(5), Some(4), Some(3))
        );
        assert!(!a.claims.contains_key("active"));
        assert_eq!(a.claims["username"], "al");
        let a = answer(json!({"active": false, "scope": ["x", "y"], "aud": ["p", "q"]}));
        assert_eq!(a.scopes, ["x", "y"]);
        assert_eq!(a.audiences, ["p", "q"]);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            json!([1]),
            json!({}),
            json!({"active": "true"}),
            json!({"active": true, "exp": "soon"}),
            json!({"active": true, "aud": 7}),
            json!({"active": true, "aud": [1]}),
            json!({"active": true, "iss": 1}),
            json!({"active": true, "scope": 1}),
            json!({"active": true, "token_type": false}),
        ] {
            assert!(
                IntrospectionAnswer::from_json(bad.clone()).is_err(),
                "{bad}"
            );
        }
        assert!(IntrospectionAnswer::from_slice(b"<html>").is_err());
    }

    #[test]
    fn token_types() {
        for ok in [
            "access_token",
            "Bearer",
            "bearer",
            "N_A",
            "urn:ietf:params:oauth:token-type:access_token",
        ] {
            assert!(is_access_token_type(ok), "{ok}");
        }
        for bad in ["refresh_token", "id_token", "DPoP", ""] {
            assert!(!is_access_token_type(bad), "{bad}");
        }
    }

    #[test]
    fn verdicts() {
        let p = policy();
        let ok = json!({"active": true, "aud": AUD, "iss": "https://idp.example", "exp": NOW + 60, "sub": "alice", "scope": "news:read"});
        let info = p.check(&answer(ok.clone()), NOW).unwrap();
        assert_eq!(info.subject.as_deref(), Some("alice"));
        assert_eq!(info.scopes, ["news:read"]);
        assert_eq!(info.provider, "corp");

        let with = |k: &str, v: Value| {
            let mut x = ok.clone();
            x[k] = v;
            p.check(&answer(x), NOW).unwrap_err()
        };
        assert_eq!(with("active", json!(false)), AuthError::Inactive);
        assert!(matches!(
            with("token_type", json!("refresh_token")),
            AuthError::WrongTokenType { .. }
        ));
        assert!(matches!(
            with("iss", json!("https://evil.example")),
            AuthError::WrongIssuer { .. }
        ));
        assert!(matches!(
            with("aud", json!("https://other.example")),
            AuthError::WrongAudience { .. }
        ));
        assert!(matches!(with("exp", json!(NOW)), AuthError::Expired { .. }));
        assert!(matches!(
            with("nbf", json!(NOW + 30)),
            AuthError::NotYetValid { .. }
        ));

        let mut no_aud = ok.as_object().unwrap().clone();
        no_aud.remove("aud");
        no_aud.remove("iss");
        no_aud.remove("exp");
        let no_aud = answer(Value::Object(no_aud));
        assert_eq!(
            p.check(&no_aud, NOW).unwrap_err(),
            AuthError::WrongAudience { audiences: vec![] }
        );
        let lenient = AnswerPolicy {
            allow_missing_audience: true,
            ..policy()
        };
        assert!(lenient.check(&no_aud, NOW).is_ok());
    }

    #[test]
    fn explain_reports_every_check() {
        let a = answer(json!({"active": true, "aud": "elsewhere", "token_type": "Bearer"}));
        let (checks, result) = policy().explain(&a, NOW);
        let names: Vec<_> = checks.iter().map(|c| (c.name.as_str(), c.passed)).collect();
        assert_eq!(
            names,
            [
                ("introspection", true),
                ("token_type", true),
                ("issuer", true),
                ("audience", false),
                ("expiry", true)
            ]
        );
        assert!(matches!(result, Err(AuthError::WrongAudience { .. })));
    }
}
