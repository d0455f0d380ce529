//! The admin operations (poem-openapi).

use std::sync::Arc;

use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, OpenApi, Tags};

use crate::auth::{AdminToken, AuthFailure};
use crate::explain::explain_token;
use crate::schema::{
    DevToken, DevTokenRequest, ErrorBody, ExplainRequest, HealthBody, ProviderInfo, ProviderList,
    ProviderReadiness, ReadyBody, TokenExplanation, ToolInfo, ToolList,
};
use crate::state::{DevMintRequest, Shared};

#[derive(Tags)]
enum Tag {
    /// Liveness and readiness probes (no auth).
    Probes,
    /// Identity providers: state, keys, caches; refresh and flush.
    Providers,
    /// MCP tools and their counters.
    Tools,
    /// The effective configuration.
    Config,
    /// Token diagnostics and dev tokens.
    Tokens,
    /// Prometheus metrics.
    Metrics,
}

#[derive(ApiResponse)]
enum HealthResponse {
    /// The process is alive.
    #[oai(status = 200)]
    Ok(Json<HealthBody>),
}

#[derive(ApiResponse)]
enum ReadyResponse {
    /// Every provider has its discovery document and keys.
    #[oai(status = 200)]
    Ready(Json<ReadyBody>),
    /// Some provider is not ready; `providers[].state` says what is missing.
    #[oai(status = 503)]
    NotReady(Json<ReadyBody>),
}

#[derive(ApiResponse)]
enum ProvidersResponse {
    /// Providers in fallback order.
    #[oai(status = 200)]
    Ok(Json<ProviderList>),
}

#[derive(ApiResponse)]
enum RefreshResponse {
    /// Refreshed; the provider's new state.
    #[oai(status = 200)]
    Ok(Json<ProviderInfo>),
    /// No provider with this name.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The IdP answered, but with something unusable.
    #[oai(status = 502)]
    BadGateway(Json<ErrorBody>),
    /// The IdP could not be reached (down, timing out, 5xx).
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

#[derive(ApiResponse)]
enum FlushResponse {
    /// Caches dropped; the provider's state.
    #[oai(status = 200)]
    Ok(Json<ProviderInfo>),
    /// No provider with this name.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
}

#[derive(ApiResponse)]
enum ToolsResponse {
    /// Enabled tools.
    #[oai(status = 200)]
    Ok(Json<ToolList>),
}

#[derive(ApiResponse)]
enum ConfigResponse {
    /// The effective configuration, secrets redacted.
    #[oai(status = 200)]
    Ok(Json<serde_json::Value>),
}

#[derive(ApiResponse)]
enum ExplainResponse {
    /// The explanation (also when the token is rejected).
    #[oai(status = 200)]
    Ok(Json<Box<TokenExplanation>>),
    /// The body is not `{ "token": "…" }` or the token is empty.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
}

#[derive(ApiResponse)]
enum DevTokenResponse {
    /// A signed dev token.
    #[oai(status = 200)]
    Ok(Json<DevToken>),
    /// Invalid options (empty subject, unparsable or zero ttl, refused by the issuer).
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No dev provider is configured.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
}

#[derive(ApiResponse)]
enum MetricsResponse {
    /// Prometheus text exposition format 0.0.4.
    #[oai(
        status = 200,
        content_type = "text/plain; version=0.0.4; charset=utf-8"
    )]
    Ok(PlainText<String>),
    /// Metrics are disabled.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
}

type Guarded<T> = Result<T, AuthFailure>;

pub(crate) struct AdminApi {
    pub(crate) shared: Arc<Shared>,
}

fn no_provider() -> Json<ErrorBody> {
    Json(ErrorBody::new(
        "not_found",
        "no provider with this name; GET /admin/v1/providers lists them",
    ))
}

#[OpenApi]
impl AdminApi {
    /// Liveness: answers 200 while the process serves HTTP. No auth.
    #[oai(path = "/admin/v1/health", method = "get", tag = "Tag::Probes")]
    async fn health(&self) -> HealthResponse {
        HealthResponse::Ok(Json(HealthBody {
            status: "ok".into(),
        }))
    }

    /// Readiness: 200 when every provider has its discovery document and keys,
    /// else 503 listing what each provider is missing. Requires the admin token
    /// (the answer names providers and their last errors).
    #[oai(path = "/admin/v1/ready", method = "get", tag = "Tag::Probes")]
    async fn ready(&self, _auth: AdminToken) -> Guarded<ReadyResponse> {
        let providers: Vec<ProviderReadiness> = self
            .shared
            .guard
            .providers()
            .providers()
            .iter()
            .map(|p| {
                let d = p.descriptor();
                let s = p.status();
                ProviderReadiness {
                    name: d.name.clone(),
                    kind: d.kind.clone(),
                    ready: s.ready,
                    state: s.state,
                    last_error: s.last_error,
                }
            })
            .collect();
        let ready = !providers.is_empty() && providers.iter().all(|p| p.ready);
        let body = Json(ReadyBody { ready, providers });
        Ok(if ready {
            ReadyResponse::Ready(body)
        } else {
            ReadyResponse::NotReady(body)
        })
    }

    /// Every provider: kind, issuers, audiences, state, keys, last refresh and
    /// error, token cache sizes and hit counts.
    #[oai(path = "/admin/v1/providers", method = "get", tag = "Tag::Providers")]
    async fn providers(&self, _auth: AdminToken) -> Guarded<ProvidersResponse> {
        let providers = self
            .shared
            .guard
            .providers()
            .providers()
            .iter()
            .map(|p| ProviderInfo::of(p.as_ref()))
            .collect();
        Ok(ProvidersResponse::Ok(Json(ProviderList { providers })))
    }

    /// Fetches the provider's discovery document and keys now.
    #[oai(
        path = "/admin/v1/providers/:name/refresh",
        method = "post",
        tag = "Tag::Providers"
    )]
    async fn refresh(&self, _auth: AdminToken, name: Path<String>) -> Guarded<RefreshResponse> {
        let Some(provider) = self.shared.guard.providers().get(&name.0) else {
            return Ok(RefreshResponse::NotFound(no_provider()));
        };
        let provider_name = provider.descriptor().name.as_str();
        tracing::info!(provider = provider_name, "admin: provider refresh");
        Ok(match provider.refresh().await {
            Ok(()) => RefreshResponse::Ok(Json(ProviderInfo::of(provider.as_ref()))),
            Err(e) if e.is_unavailable() => {
                tracing::warn!(provider = provider_name, error = %e, "admin: provider refresh failed");
                RefreshResponse::Unavailable(Json(ErrorBody::new("unavailable", e.to_string())))
            }
            Err(e) => {
                tracing::warn!(provider = provider_name, error = %e, "admin: provider refresh failed");
                RefreshResponse::BadGateway(Json(ErrorBody::new("bad_gateway", e.to_string())))
            }
        })
    }

    /// Drops the provider's cached token verdicts (introspection, userinfo, verified JWTs).
    #[oai(
        path = "/admin/v1/providers/:name/cache",
        method = "delete",
        tag = "Tag::Providers"
    )]
    async fn flush(&self, _auth: AdminToken, name: Path<String>) -> Guarded<FlushResponse> {
        let Some(provider) = self.shared.guard.providers().get(&name.0) else {
            return Ok(FlushResponse::NotFound(no_provider()));
        };
        tracing::info!(
            provider = provider.descriptor().name.as_str(),
            "admin: cache flush"
        );
        provider.flush_caches();
        Ok(FlushResponse::Ok(Json(ProviderInfo::of(provider.as_ref()))))
    }

    /// Enabled tools: description, required scopes, call and error counts.
    #[oai(path = "/admin/v1/tools", method = "get", tag = "Tag::Tools")]
    async fn tools(&self, _auth: AdminToken) -> Guarded<ToolsResponse> {
        let tools = self.shared.tools.iter().map(|t| ToolInfo::of(t)).collect();
        Ok(ToolsResponse::Ok(Json(ToolList { tools })))
    }

    /// The effective configuration with every secret redacted.
    #[oai(path = "/admin/v1/config", method = "get", tag = "Tag::Config")]
    async fn config(&self, _auth: AdminToken) -> Guarded<ConfigResponse> {
        Ok(ConfigResponse::Ok(Json(self.shared.config.clone())))
    }

    /// Runs a token through the real guard without serving anything: which
    /// provider takes it, every check with pass/fail and detail, the identity
    /// when accepted, and per-tool access. The token is never logged or stored.
    #[oai(
        path = "/admin/v1/tokens/explain",
        method = "post",
        tag = "Tag::Tokens"
    )]
    async fn explain(
        &self,
        _auth: AdminToken,
        body: Json<ExplainRequest>,
    ) -> Guarded<ExplainResponse> {
        let token = body.0.token.trim();
        if token.is_empty() {
            return Ok(ExplainResponse::BadRequest(Json(ErrorBody::new(
                "invalid_request",
                "token is empty",
            ))));
        }
        let explanation = explain_token(&self.shared.guard, &self.shared.tools, token).await;
        Ok(ExplainResponse::Ok(Json(Box::new(explanation))))
    }

    /// Mints a token from the embedded dev issuer (same options as `warden token`).
    #[oai(path = "/admin/v1/dev/tokens", method = "post", tag = "Tag::Tokens")]
    async fn dev_token(
        &self,
        _auth: AdminToken,
        body: Json<DevTokenRequest>,
    ) -> Guarded<DevTokenResponse> {
        let Some(dev) = &self.shared.dev else {
            return Ok(DevTokenResponse::NotFound(Json(ErrorBody::new(
                "not_found",
                "no dev provider is configured",
            ))));
        };
        let bad = |msg: String| {
            Ok(DevTokenResponse::BadRequest(Json(ErrorBody::new(
                "invalid_request",
                msg,
            ))))
        };
        let req = body.0;
        let sub = req.sub.unwrap_or_else(|| "alice".into());
        if sub.trim().is_empty() {
            return bad("sub must not be empty".into());
        }
        let scopes =
            warden_core::scope::split_scopes(req.scope.as_deref().unwrap_or("news:read profile"));
        let ttl_text = req.ttl.unwrap_or_else(|| "1h".into());
        let ttl = match humantime::parse_duration(&ttl_text) {
            Ok(d) if !d.is_zero() => d,
            Ok(_) => return bad("ttl must be positive".into()),
            Err(e) => return bad(format!("ttl: {e} (use e.g. 15m, 1h)")),
        };
        let audience = req.aud.filter(|a| !a.is_empty());
        let mint = DevMintRequest {
            sub,
            scopes: scopes.clone(),
            ttl,
            audience,
        };
        match dev.mint(mint) {
            Ok(access_token) => {
                tracing::info!(ttl_secs = ttl.as_secs(), "admin: dev token minted");
                Ok(DevTokenResponse::Ok(Json(DevToken {
                    access_token,
                    token_type: "Bearer".into(),
                    expires_in: ttl.as_secs(),
                    scope: scopes.join(" "),
                })))
            }
            Err(msg) => bad(msg),
        }
    }

    /// Prometheus metrics (text format). No auth unless `admin.metrics_require_token`.
    #[oai(path = "/metrics", method = "get", tag = "Tag::Metrics")]
    async fn metrics(&self, req: &Request) -> Guarded<MetricsResponse> {
        if self.shared.metrics_require_token {
            self.shared.authorize_request(req)?;
        }
        let Some(metrics) = &self.shared.metrics else {
            return Ok(MetricsResponse::NotFound(Json(ErrorBody::new(
                "not_found",
                "metrics are disabled",
            ))));
        };
        metrics.observe_providers(self.shared.guard.providers());
        Ok(MetricsResponse::Ok(PlainText(metrics.render())))
    }
}
