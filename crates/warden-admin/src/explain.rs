//! Token dry-run: the guard's explanation plus per-tool access.

use warden_core::{scope, AuthError, AuthInfo, BearerGuard, ToolRegistry};

use crate::schema::{CheckItem, Identity, TokenExplanation, ToolAccess};

/// Runs `token` through `guard` (every provider check, the resource's scopes)
/// without serving anything, and says which tools it could call.
///
/// The token is never logged, stored or returned; as a last line of defence
/// any check detail that would contain it is redacted. This is what
/// `POST /admin/v1/tokens/explain` answers and what `warden explain-token`
/// prints (`serde_json::to_string_pretty(&explanation)`).
pub async fn explain_token(
    guard: &BearerGuard,
    tools: &ToolRegistry,
    token: &str,
) -> TokenExplanation {
    let explanation = guard.explain(token).await;
    let scrub = Scrubber::new(token);
    let checks = explanation
        .checks
        .into_iter()
        .map(|c| CheckItem {
            name: c.name,
            passed: c.passed,
            detail: scrub.clean(c.detail),
        })
        .collect();
    let resource_scopes = &guard.policy().required_scopes;
    let wildcards = guard.policy().wildcard_scopes;
    let tools = tools
        .iter()
        .map(|t| {
            let required = union(resource_scopes, &t.required_scopes);
            tool_access(
                guard,
                t.name(),
                &t.required_scopes,
                required,
                &explanation.result,
                wildcards,
            )
        })
        .collect();
    let (accepted, outcome, error, status, identity) = match &explanation.result {
        Ok(info) => (true, "accepted", None, None, Some(identity(info))),
        Err(e) => (
            false,
            e.outcome().as_str(),
            Some(scrub.clean(e.to_string())),
            Some(guard.challenge(e).status),
            None,
        ),
    };
    TokenExplanation {
        provider: explanation.provider,
        accepted,
        outcome: outcome.to_owned(),
        error,
        status,
        checks,
        identity,
        tools,
    }
}

fn tool_access(
    guard: &BearerGuard,
    name: &str,
    tool_scopes: &[String],
    required: Vec<String>,
    result: &Result<AuthInfo, AuthError>,
    wildcards: bool,
) -> ToolAccess {
    let (allowed, missing_scopes, reason) = match result {
        Ok(info) => {
            let missing: Vec<String> = scope::missing_scopes(&info.scopes, &required, wildcards)
                .into_iter()
                .map(str::to_owned)
                .collect();
            let allowed = guard.permits(info, tool_scopes);
            let reason = if allowed {
                "allowed".to_owned()
            } else {
                format!("missing scopes: {}", missing.join(" "))
            };
            (allowed, missing, reason)
        }
        Err(AuthError::InsufficientScope { missing, .. }) => (
            false,
            missing.clone(),
            "token lacks the resource's required scopes".to_owned(),
        ),
        Err(e) => (
            false,
            Vec::new(),
            format!("token rejected: {}", e.outcome()),
        ),
    };
    ToolAccess {
        name: name.to_owned(),
        allowed,
        required_scopes: required,
        missing_scopes,
        reason,
    }
}

fn identity(info: &AuthInfo) -> Identity {
    Identity {
        sub: info.subject.clone(),
        issuer: info.issuer.clone(),
        client_id: info.client_id.clone(),
        audiences: info.audiences.clone(),
        scopes: info.scopes.clone(),
        exp: info.expires_at,
    }
}

fn union(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    for s in b {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// Replaces the token (and its JWT signature) in text shown to the admin.
struct Scrubber<'a> {
    needles: Vec<&'a str>,
}

impl<'a> Scrubber<'a> {
    /// Shorter strings are too likely to occur by chance to be worth replacing.
    const MIN_LEN: usize = 8;

    fn new(token: &'a str) -> Self {
        let token = token.trim();
        let mut needles = vec![token];
        if let Some((_, sig)) = token.rsplit_once('.') {
            needles.push(sig);
        }
        needles.retain(|n| n.len() >= Self::MIN_LEN);
        Self { needles }
    }

    fn clean(&self, text: String) -> String {
        if self.needles.iter().any(|n| text.contains(n)) {
            let mut text = text;
            for n in &self.needles {
                text = text.replace(n, "<redacted>");
            }
            text
        } else {
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubber_redacts_token_and_signature() {
        let s = Scrubber::new("aaaaaaaa.bbbbbbbb.signature-part");
        assert_eq!(
            s.clean("saw aaaaaaaa.bbbbbbbb.signature-part here".into()),
            "saw <redacted> here"
        );
        assert_eq!(s.clean("sig signature-part".into()), "sig <redacted>");
        assert_eq!(s.clean("nothing".into()), "nothing");
        let short = Scrubber::new("abc");
        assert_eq!(short.clean("abc".into()), "abc");
    }

    #[test]
    fn union_keeps_order_without_duplicates() {
        let a = vec!["x".to_owned(), "y".to_owned()];
        let b = vec!["y".to_owned(), "z".to_owned()];
        assert_eq!(union(&a, &b), vec!["x", "y", "z"]);
    }
}
