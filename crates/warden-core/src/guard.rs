//! `BearerGuard`: from an `Authorization` header to an `AuthInfo` or an `AuthError`.

use std::time::Instant;

use http::HeaderMap;

use crate::{
    bearer, AuthError, AuthInfo, BearerPolicy, Challenge, ChallengeContext, Check, Event, Outcome,
    ProviderSet, Rejection, SharedObserver,
};

/// Authenticates requests against the configured providers and authorizes
/// them against the resource's (and a tool's) required scopes.
///
/// ```
/// use std::sync::Arc;
/// use warden_core::*;
///
/// # tokio_test_block_on(async {
/// let guard = BearerGuard::new(
///     ProviderSet::new(vec![]),
///     BearerPolicy::default(),
///     ChallengeContext {
///         resource_metadata: "https://mcp.example/.well-known/oauth-protected-resource/mcp".into(),
///         scopes: vec!["news:read".into()],
///     },
///     noop_observer(),
/// );
/// let err = guard.authenticate(&http::HeaderMap::new(), None).await.unwrap_err();
/// let challenge = guard.challenge(&err);
/// assert_eq!(challenge.status, 401);
/// assert!(challenge.www_authenticate.unwrap().starts_with("Bearer resource_metadata="));
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone)]
pub struct BearerGuard {
    providers: ProviderSet,
    policy: BearerPolicy,
    challenge: ChallengeContext,
    observer: SharedObserver,
}

impl std::fmt::Debug for BearerGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerGuard")
            .field("providers", &self.providers)
            .field("policy", &self.policy)
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

/// The outcome of [`BearerGuard::explain`].
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The provider the token routes to (`None` when routing failed).
    pub provider: Option<String>,
    /// Every check in order.
    pub checks: Vec<Check>,
    /// The verdict.
    pub result: Result<AuthInfo, AuthError>,
}

/// A verified caller whose request's auth decision is still open (see
/// [`BearerGuard::verify_request`]). The decision is recorded exactly once: by
/// [`Authenticated::authorize`] (accepted or `insufficient_scope`), or as
/// accepted when this is dropped without it (the request ended for another
/// reason — a rate limit, a too-large body — after its token was accepted).
pub struct Authenticated<'g> {
    guard: &'g BearerGuard,
    info: Option<AuthInfo>,
}

impl Authenticated<'_> {
    /// The verified caller.
    pub fn info(&self) -> &AuthInfo {
        self.info.as_ref().expect("present until consumed")
    }

    /// Finishes the decision: the resource's scopes plus `extra` (a tool's).
    pub fn authorize(mut self, extra: &[String]) -> Result<AuthInfo, AuthError> {
        let info = self.info.take().expect("present until consumed");
        let result = self.guard.authorize(&info, extra);
        let outcome = match &result {
            Ok(()) => Outcome::Accepted,
            Err(e) => e.outcome(),
        };
        self.guard.decision(&info.provider, outcome);
        result.map(|()| info)
    }
}

impl Drop for Authenticated<'_> {
    fn drop(&mut self) {
        if let Some(info) = &self.info {
            self.guard.decision(&info.provider, Outcome::Accepted);
        }
    }
}

impl std::fmt::Debug for Authenticated<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticated")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl BearerGuard {
    /// A guard over `providers` enforcing `policy.required_scopes`.
    pub fn new(
        providers: ProviderSet,
        policy: BearerPolicy,
        challenge: ChallengeContext,
        observer: SharedObserver,
    ) -> Self {
        Self {
            providers,
            policy,
            challenge,
            observer,
        }
    }

    /// The providers behind this guard.
    pub fn providers(&self) -> &ProviderSet {
        &self.providers
    }

    /// The resource-level policy.
    pub fn policy(&self) -> &BearerPolicy {
        &self.policy
    }

    /// The one decision for an HTTP request: extracts and verifies the bearer
    /// token, then checks the resource's required scopes plus `extra` (a route's
    /// or a tool's). Records exactly one [`Event::AuthDecision`]; a refusal comes
    /// as the [`Rejection`] to answer with ([`Rejection::to_response`]).
    pub async fn check(
        &self,
        parts: &http::request::Parts,
        extra: &[String],
    ) -> Result<AuthInfo, Rejection> {
        self.check_headers(&parts.headers, parts.uri.query(), extra)
            .await
            .map_err(|e| self.reject(&e))
    }

    /// [`BearerGuard::check`] on headers and query string, with the [`AuthError`].
    pub async fn check_headers(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
        extra: &[String],
    ) -> Result<AuthInfo, AuthError> {
        self.verify_request(headers, query).await?.authorize(extra)
    }

    /// [`BearerGuard::check_headers`] with no extra scopes.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Result<AuthInfo, AuthError> {
        self.check_headers(headers, query, &[]).await
    }

    /// The answer to `err` for this guard's resource.
    pub fn reject(&self, err: &AuthError) -> Rejection {
        Rejection::auth(err, &self.challenge)
    }

    /// [`BearerGuard::check`] for a bare token, with no extra scopes.
    pub async fn authenticate_token(&self, token: &str) -> Result<AuthInfo, AuthError> {
        self.verify_token(token).await?.authorize(&[])
    }

    /// The first half of a decision, for callers that learn the scopes a request
    /// needs only after authenticating it (an MCP `tools/call` names its tool in
    /// the body): extracts and verifies the token and checks the resource's
    /// required scopes. A rejection is recorded here; an acceptance is recorded
    /// once, by [`Authenticated::authorize`] or when the [`Authenticated`] is dropped.
    pub async fn verify_request(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Result<Authenticated<'_>, AuthError> {
        match bearer::bearer_token(headers, query) {
            Ok(token) => self.verify_token(token).await,
            Err(e) => {
                self.decision("none", e.outcome());
                Err(e)
            }
        }
    }

    /// [`BearerGuard::verify_request`] for a bare token.
    pub async fn verify_token(&self, token: &str) -> Result<Authenticated<'_>, AuthError> {
        let started = Instant::now();
        let (result, cache_hit) =
            crate::cache_hit::observe_cache_hit(self.providers.verify(token)).await;
        let (provider, result) = match result {
            Ok(info) => {
                let provider = info.provider.clone();
                let scoped = self
                    .policy
                    .check_scopes(&info.scopes, &self.policy.required_scopes)
                    .map(|_| info);
                (provider, scoped)
            }
            Err((provider, e)) => (provider, Err(e)),
        };
        self.observer.observe(&Event::Verification {
            provider: &provider,
            cache_hit,
            elapsed: started.elapsed(),
        });
        match result {
            Ok(info) => Ok(Authenticated {
                guard: self,
                info: Some(info),
            }),
            Err(e) => {
                self.decision(&provider, e.outcome());
                Err(e)
            }
        }
    }

    /// Checks that `info` carries the resource's scopes plus `extra` (a tool's scopes).
    /// The error's `required` lists everything the request needs, for step-up.
    /// Records nothing: the request's decision is recorded by [`BearerGuard::check`]
    /// or [`Authenticated::authorize`].
    pub fn authorize(&self, info: &AuthInfo, extra: &[String]) -> Result<(), AuthError> {
        let mut required = self.policy.required_scopes.clone();
        for s in extra {
            if !required.contains(s) {
                required.push(s.clone());
            }
        }
        self.policy.check_scopes(&info.scopes, &required)
    }

    /// Whether `info` may call something needing `extra` scopes (no events emitted).
    pub fn permits(&self, info: &AuthInfo, extra: &[String]) -> bool {
        self.policy
            .check_scopes(&info.scopes, &self.policy.required_scopes)
            .is_ok()
            && self.policy.check_scopes(&info.scopes, extra).is_ok()
    }

    /// The HTTP answer for an error.
    pub fn challenge(&self, err: &AuthError) -> Challenge {
        err.challenge(&self.challenge)
    }

    /// The challenge context (metadata URL, advertised scopes).
    pub fn challenge_context(&self) -> &ChallengeContext {
        &self.challenge
    }

    /// Runs a token through every check without serving anything: the same
    /// run as serving ([`ProviderSet::run`] and the resource's scope check),
    /// with a trace. Records no decision.
    pub async fn explain(&self, token: &str) -> Explanation {
        let token = token.trim();
        let mut checks = Vec::new();
        if token.len() > crate::jwt_peek::MAX_TOKEN_BYTES {
            let e = AuthError::malformed("token is too large");
            checks.push(Check::new("format", false, e.to_string()));
            return Explanation {
                provider: None,
                checks,
                result: Err(e),
            };
        }
        let verdict = self.providers.run(token, Some(&mut checks)).await;
        let (provider, result) = match verdict {
            Ok(info) => {
                let scoped = self
                    .policy
                    .check_scopes(&info.scopes, &self.policy.required_scopes);
                checks.push(match &scoped {
                    Ok(()) => Check::new(
                        "scopes",
                        true,
                        format!(
                            "granted {:?} cover required {:?}",
                            info.scopes, self.policy.required_scopes
                        ),
                    ),
                    Err(e) => Check::new("scopes", false, e.to_string()),
                });
                (Some(info.provider.clone()), scoped.map(|()| info))
            }
            Err((name, e)) => ((name != "none" || checks.len() > 1).then_some(name), Err(e)),
        };
        Explanation {
            provider,
            checks,
            result,
        }
    }

    fn decision(&self, provider: &str, outcome: Outcome) {
        self.observer
            .observe(&Event::AuthDecision { provider, outcome });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use async_trait::async_trait;

    use super::*;
    use crate::{noop_observer, ProviderDescriptor, Verifier};

    /// An opaque-token provider with a fixed verdict.
    struct Fixed {
        descriptor: ProviderDescriptor,
        verdict: fn() -> Result<AuthInfo, AuthError>,
    }

    #[async_trait]
    impl Verifier for Fixed {
        async fn verify(&self, _token: &str) -> Result<AuthInfo, AuthError> {
            (self.verdict)()
        }
        fn descriptor(&self) -> &ProviderDescriptor {
            &self.descriptor
        }
    }

    fn fixed(name: &str, verdict: fn() -> Result<AuthInfo, AuthError>) -> Arc<dyn Verifier> {
        Arc::new(Fixed {
            descriptor: ProviderDescriptor {
                name: name.into(),
                kind: "introspection".into(),
                accepts_opaque: true,
                ..Default::default()
            },
            verdict,
        })
    }

    /// `explain` gives the verdict the guard gives: with one opaque provider down
    /// and another saying "inactive", the request gets 503, and so does explain.
    #[tokio::test]
    async fn explain_agrees_with_the_guard_when_a_provider_is_down() {
        let down = || {
            Err(AuthError::Unavailable {
                provider: "a".into(),
                reason: "timeout".into(),
                retry_after: Duration::from_secs(5),
            })
        };
        for order in [["a", "b"], ["b", "a"]] {
            let providers = order
                .iter()
                .map(|name| match *name {
                    "a" => fixed("a", down),
                    _ => fixed("b", || Err(AuthError::Inactive)),
                })
                .collect();
            let guard = BearerGuard::new(
                ProviderSet::new(providers),
                BearerPolicy::default(),
                ChallengeContext::default(),
                noop_observer(),
            );
            let served = guard.authenticate_token("opaque-token").await.unwrap_err();
            let explained = guard.explain("opaque-token").await;
            assert!(served.is_unavailable(), "{order:?}: {served}");
            assert_eq!(explained.provider.as_deref(), Some("a"), "{order:?}");
            assert_eq!(explained.result.unwrap_err(), served, "{order:?}");
        }
    }
}
