//! Wiring: config → providers, guard, tools, routes.

use std::sync::Arc;
use std::time::Duration;

use poem::{get, Endpoint, EndpointExt, IntoEndpoint, Response, Route};
use tokio_util::sync::CancellationToken;
use warden_core::{
    metadata_url, BearerGuard, BearerPolicy, ChallengeContext, ProtectedResourceMetadata,
    ProviderContext, ProviderRegistry, ProviderSet, SharedObserver, ToolRegistry, Verifier,
    LEGACY_SSE_PATH,
};
use warden_dev::{DevConfig, DevIssuer};
use warden_mcp::{InFlight, ListTools, LocalSessionManager, McpOptions, WardenMcp};
use warden_poem::{mcp_endpoint, metadata_endpoint, OriginPolicy};
use warden_tower::{LegacySse, McpLayer, RateLimit, SessionBindings};

use crate::as_mirror::AsMetadataMirror;
use crate::limits::RequestLimits;
use warden_admin::{AdminState, DevMintRequest};
use warden_core::{Event, Observer};
use warden_metrics::{HttpMetrics, Metrics, RouteClassifier};

use crate::config::{Config, ListToolsMode};
use crate::error::HostError;

/// Everything a running warden host is made of.
pub struct App {
    /// The effective configuration.
    pub config: Config,
    /// The bearer guard over the configured providers.
    pub guard: Arc<BearerGuard>,
    /// The enabled tools.
    pub tools: Arc<ToolRegistry>,
    /// The embedded dev issuer, when a `kind = "dev"` provider is configured.
    pub dev: Option<Arc<DevIssuer>>,
    /// MCP session → principal bindings.
    pub sessions: SessionBindings,
    /// Cancelled when shutdown starts: stop accepting, stop background work.
    pub shutdown: CancellationToken,
    /// Cancelled once in-flight work has drained after `shutdown`: ends MCP
    /// sessions and SSE streams.
    pub streams: CancellationToken,
    /// Tool calls and MCP answers in flight (shutdown waits for them).
    pub in_flight: Arc<InFlight>,
    /// The per-subject/client rate limiter, when `[limits.rate_limit]` enables it.
    pub rate_limit: Option<RateLimit>,
    /// rmcp's Streamable HTTP sessions (the source of the sessions gauge).
    pub mcp_sessions: Arc<LocalSessionManager>,
    /// Requests the stateless fast path answered itself (the rest went to rmcp).
    pub fast_path_answers: Arc<std::sync::atomic::AtomicU64>,
    /// Where events go: the Prometheus metrics plus any extra observer.
    pub observer: SharedObserver,
    /// The Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// The legacy HTTP+SSE transport's state.
    pub legacy: LegacySse,
    /// The mirror of the primary provider's AS metadata, when it has one.
    as_mirror: Option<AsMetadataMirror>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("guard", &self.guard)
            .field("tools", &self.tools)
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

/// Sends every event to several observers.
struct Fanout(Vec<SharedObserver>);

impl Observer for Fanout {
    fn observe(&self, event: &Event<'_>) {
        for o in &self.0 {
            o.observe(event);
        }
    }
}

/// The provider kinds this build knows, besides `dev`.
pub fn provider_registry() -> ProviderRegistry {
    let mut registry = ProviderRegistry::new();
    registry.register(warden_jwt::JwtProviderFactory);
    registry.register(warden_introspection::IntrospectionFactory);
    registry.register(warden_scalekit::ScalekitFactory::new());
    registry.register(warden_logto::LogtoFactory);
    registry
}

impl App {
    /// Builds the host from `config` (no network I/O; see [`App::warm_up`]).
    pub fn build(config: Config, extra_observer: SharedObserver) -> Result<Self, HostError> {
        Self::assemble(config, extra_observer, true)
    }

    /// Checks that `config` builds, exactly as [`App::build`] would, without
    /// writing anything (`warden check-config`): a missing dev signing key is
    /// not created.
    pub fn check(config: Config) -> Result<(), HostError> {
        Self::assemble(config, warden_core::noop_observer(), false).map(|_| ())
    }

    fn assemble(
        config: Config,
        extra_observer: SharedObserver,
        persist: bool,
    ) -> Result<Self, HostError> {
        let provider_names = config.auth.providers.clone();
        let mut upstreams: Vec<String> =
            provider_names.iter().map(|n| format!("idp:{n}")).collect();
        upstreams.push("alphavantage".into());
        let metrics = Arc::new(
            Metrics::builder()
                .version(env!("CARGO_PKG_VERSION"))
                .commit(crate::cli::GIT_COMMIT)
                .providers(provider_names)
                .tools(["whoami", "news_sentiment"])
                .upstreams(upstreams)
                .build()
                .map_err(|e| HostError::Runtime(format!("metrics: {e}")))?,
        );
        let observer: SharedObserver = Arc::new(Fanout(vec![metrics.clone(), extra_observer]));
        let registry = provider_registry();
        let mut dev = None;
        let mut verifiers: Vec<Arc<dyn Verifier>> = Vec::new();
        for (name, kind, table) in config.provider_tables() {
            let ctx = ProviderContext {
                name: name.clone(),
                public_url: config.server.public_url.clone(),
                resource: config.resource_url(),
                leeway: config.auth.leeway,
                observer: observer.clone(),
                data_dir: config.server.data_dir.clone(),
            };
            if kind == "dev" {
                let issuer = build_dev(&config, &ctx, table, persist)?;
                verifiers.push(issuer.verifier());
                dev.get_or_insert(issuer);
            } else {
                verifiers.push(registry.build(&kind, &ctx, table)?);
            }
        }
        let providers = ProviderSet::new(verifiers);
        let policy = BearerPolicy {
            required_scopes: config.resource.required_scopes.clone(),
            wildcard_scopes: config.resource.wildcard_scopes,
            leeway: config.auth.leeway,
            ..Default::default()
        };
        let advertised = if config.resource.required_scopes.is_empty() {
            config.resource.scopes_supported.clone()
        } else {
            config.resource.required_scopes.clone()
        };
        let challenge = ChallengeContext {
            resource_metadata: metadata_url(&config.server.public_url, &config.server.mcp_path),
            scopes: advertised,
        };
        let guard = Arc::new(BearerGuard::new(
            providers,
            policy,
            challenge,
            observer.clone(),
        ));
        let tools = Arc::new(build_tools(&config, &observer)?);
        let shutdown = CancellationToken::new();
        let streams = CancellationToken::new();
        let in_flight = InFlight::new();
        let rate_limit = config.limits.rate_limit.build();
        let legacy = LegacySse::new(
            mcp_server(&config, &tools, &guard, &observer, &in_flight),
            guard.clone(),
            tools.clone(),
            "/messages",
            streams.clone(),
        )
        .max_body_bytes(config.server.max_body_bytes)
        .rate_limit(rate_limit.clone())
        .challenge(ChallengeContext {
            resource_metadata: metadata_url(&config.server.public_url, LEGACY_SSE_PATH),
            ..guard.challenge_context().clone()
        });
        let as_mirror = as_metadata_mirror(&guard, dev.as_ref(), &observer)?;
        Ok(Self {
            as_mirror,
            mcp_sessions: Arc::new(LocalSessionManager::default()),
            fast_path_answers: Arc::default(),
            streams,
            in_flight,
            rate_limit,
            config,
            guard,
            tools,
            dev,
            sessions: SessionBindings::default(),
            shutdown,
            observer,
            metrics,
            legacy,
        })
    }

    /// Fetches discovery documents and keys for every provider, retrying in the
    /// background until each succeeds (the server serves meanwhile and answers
    /// 503 for providers that are not ready).
    pub fn warm_up(&self) {
        for provider in self.guard.providers().providers() {
            let provider = provider.clone();
            let shutdown = self.shutdown.clone();
            tokio::spawn(async move {
                let mut delay = Duration::from_millis(500);
                loop {
                    match provider.refresh().await {
                        Ok(()) => break,
                        Err(e) => {
                            tracing::warn!(provider = %provider.descriptor().name, error = %e, retry_in = ?delay, "provider not ready");
                        }
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.cancelled() => break,
                    }
                    delay = (delay * 2).min(Duration::from_secs(30));
                }
            });
        }
    }

    /// The RFC 9728 document for the resource at `path` (`""` = the origin).
    pub fn protected_resource_metadata(&self, path: &str) -> ProtectedResourceMetadata {
        let mut m = ProtectedResourceMetadata::new(
            format!("{}{}", self.config.server.public_url, path),
            self.guard.providers().authorization_servers(),
        );
        m.scopes_supported = self.config.resource.scopes_supported.clone();
        m.resource_name = Some(self.config.resource.name.clone());
        if !self.config.resource.documentation_url.is_empty() {
            m.resource_documentation = Some(self.config.resource.documentation_url.clone());
        }
        m
    }

    /// The hosts accepted in `Host` headers by the MCP endpoint.
    fn allowed_hosts(&self) -> Vec<String> {
        let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".into(), "::1".into()];
        if let Ok(url) = url::Url::parse(&self.config.server.public_url) {
            if let Some(h) = url.host_str() {
                hosts.push(h.trim_start_matches('[').trim_end_matches(']').to_owned());
            }
        }
        hosts.extend(self.config.server.allowed_hosts.iter().cloned());
        hosts
    }

    /// The rmcp handler serving this host's tools.
    pub fn mcp_server(&self) -> WardenMcp {
        mcp_server(
            &self.config,
            &self.tools,
            &self.guard,
            &self.observer,
            &self.in_flight,
        )
    }

    /// The MCP request path of this host (auth, rate limit, body cap, tool
    /// scopes, sessions, in-flight accounting), to put in front of
    /// [`App::mcp_server`]'s Streamable HTTP service.
    pub fn mcp_layer(&self) -> McpLayer {
        let layer = McpLayer::new(self.guard.clone(), self.tools.clone())
            .max_body_bytes(self.config.server.max_body_bytes)
            .rate_limit(self.rate_limit.clone())
            .in_flight(self.in_flight.clone())
            .sessions(self.sessions.clone());
        if self.config.server.stateless {
            layer
        } else {
            layer.sessions_fail_closed()
        }
    }

    /// rmcp's Streamable HTTP options for this host.
    pub fn mcp_options(&self) -> McpOptions {
        let cfg = &self.config;
        McpOptions {
            stateless: cfg.server.stateless,
            allowed_hosts: self.allowed_hosts(),
            max_body_bytes: cfg.server.max_body_bytes,
            shutdown: self.streams.clone(),
            sessions: self.mcp_sessions.clone(),
            fast_path: cfg.server.fast_path,
            fast_path_answers: self.fast_path_answers.clone(),
        }
    }

    /// The public HTTP surface: MCP, metadata, dev issuer.
    pub fn routes(&self) -> impl Endpoint<Output = Response> {
        let cfg = &self.config;
        let service = warden_mcp::streamable_http_service(self.mcp_server(), &self.mcp_options());
        let mcp = mcp_endpoint(tower::Layer::layer(&self.mcp_layer(), service)).with(
            OriginPolicy::new(&cfg.server.public_url, &cfg.server.allowed_origins),
        );
        let mcp = Arc::new(mcp);
        let path = cfg.server.mcp_path.clone();
        let mut route = Route::new()
            .at(&path, ArcEndpoint(mcp.clone()))
            .at(format!("{path}/"), ArcEndpoint(mcp))
            .at(
                format!("/.well-known/oauth-protected-resource{path}"),
                metadata_endpoint(&self.protected_resource_metadata(&path)),
            )
            .at(
                format!("/.well-known/oauth-protected-resource{LEGACY_SSE_PATH}"),
                metadata_endpoint(&self.protected_resource_metadata(LEGACY_SSE_PATH)),
            )
            .at(
                "/.well-known/oauth-protected-resource",
                metadata_endpoint(&self.protected_resource_metadata("")),
            );
        if let Some(dev) = &self.dev {
            for (p, ep) in dev.routes() {
                route = route.at(p, ep);
            }
        }
        if let Some(mirror) = self.as_mirror.clone() {
            route = route.at("/.well-known/oauth-authorization-server", mirror);
        }
        let legacy = &self.legacy;
        let origins = OriginPolicy::new(&cfg.server.public_url, &cfg.server.allowed_origins);
        route = route
            .at(
                LEGACY_SSE_PATH,
                mcp_endpoint(legacy.sse_service()).with(origins.clone()),
            )
            .at(
                "/messages",
                mcp_endpoint(legacy.messages_service()).with(origins),
            );
        route = route
            .at("/healthz", get(poem::endpoint::make_sync(|_| "ok")))
            .at("/readyz", get(self.readiness_probe()));
        let classifier = RouteClassifier::new([
            cfg.server.mcp_path.clone(),
            "/sse".into(),
            "/messages".into(),
            "/.well-known/oauth-protected-resource".into(),
            "/.well-known/oauth-authorization-server".into(),
            "/dev".into(),
            "/healthz".into(),
            "/readyz".into(),
        ]);
        route
            .with(RequestLimits {
                max_header_bytes: cfg.limits.max_header_bytes,
                timeout: cfg.limits.request_timeout,
            })
            .with(HttpMetrics::new(self.metrics.clone(), classifier))
            .with(crate::logging::AccessLog)
            .into_endpoint()
    }

    /// `GET /readyz`: 200 `ready` when every configured provider is ready and
    /// the host is not shutting down, else 503 `not ready` with `Retry-After`.
    /// Token-free and detail-free (which provider lacks what is behind the
    /// admin token at `/admin/v1/ready`), so a kubelet can use it.
    fn readiness_probe(&self) -> impl Endpoint<Output = Response> {
        let guard = self.guard.clone();
        let shutdown = self.shutdown.clone();
        poem::endpoint::make_sync(move |_| {
            let providers = guard.providers().providers();
            let ready = !shutdown.is_cancelled()
                && !providers.is_empty()
                && providers.iter().all(|p| p.status().ready);
            if ready {
                Response::builder()
                    .content_type("text/plain; charset=utf-8")
                    .body("ready")
            } else {
                Response::builder()
                    .status(poem::http::StatusCode::SERVICE_UNAVAILABLE)
                    .header("retry-after", "5")
                    .content_type("text/plain; charset=utf-8")
                    .body("not ready")
            }
        })
    }

    /// The admin surface (its own listener): OpenAPI admin API and `/metrics`.
    pub fn admin_routes(&self) -> impl Endpoint<Output = Response> {
        let mut state = AdminState::new(self.guard.clone(), self.tools.clone())
            .with_config(self.config.redacted(&provider_registry()))
            .with_metrics(self.metrics.clone())
            .with_admin_config(&self.config.admin);
        if let Some(dev) = self.dev.clone() {
            let minter = move |r: DevMintRequest| {
                dev.mint(warden_dev::MintRequest {
                    sub: r.sub,
                    scopes: r.scopes,
                    ttl: r.ttl,
                    audience: r.audience,
                    client_id: None,
                })
                .map_err(|e| e.to_string())
            };
            state = state.with_dev(Arc::new(minter));
        }
        warden_admin::admin_routes(state).with(crate::logging::AccessLog)
    }

    /// Active MCP sessions (Streamable HTTP and legacy SSE).
    pub async fn active_sessions(&self) -> u64 {
        warden_mcp::live_sessions(&self.mcp_sessions).await as u64 + self.legacy.session_count()
    }
}

/// Shares one endpoint between several paths (without boxing it again: the
/// route boxes each path's endpoint once).
struct ArcEndpoint<E>(Arc<E>);

impl<E: Endpoint> Endpoint for ArcEndpoint<E> {
    type Output = E::Output;
    async fn call(&self, req: poem::Request) -> poem::Result<E::Output> {
        self.0.call(req).await
    }
}

fn mcp_server(
    config: &Config,
    tools: &Arc<ToolRegistry>,
    guard: &Arc<BearerGuard>,
    observer: &SharedObserver,
    in_flight: &Arc<InFlight>,
) -> WardenMcp {
    let list = match config.resource.list_tools {
        ListToolsMode::All => ListTools::All,
        ListToolsMode::Authorized => ListTools::Authorized,
    };
    WardenMcp::new(tools.clone(), guard.clone(), observer.clone(), list)
        .with_name(config.resource.name.clone())
        .with_in_flight(in_flight.clone())
}

/// The mirror of the primary provider's AS metadata (2025-03-26 clients look
/// for it on the MCP origin). A mirror whose HTTP client cannot be built is a
/// startup error.
fn as_metadata_mirror(
    guard: &BearerGuard,
    dev: Option<&Arc<DevIssuer>>,
    observer: &SharedObserver,
) -> Result<Option<AsMetadataMirror>, HostError> {
    let Some(primary) = guard.providers().providers().first() else {
        return Ok(None);
    };
    let descriptor = primary.descriptor();
    if descriptor.kind == "dev" {
        return Ok(dev.map(|d| AsMetadataMirror::fixed(d.metadata())));
    }
    let Some(issuer) = descriptor.authorization_servers.first() else {
        return Ok(None);
    };
    AsMetadataMirror::remote(
        &descriptor.name,
        issuer.clone(),
        Duration::from_secs(5),
        observer.clone(),
    )
    .map(Some)
    .map_err(|e| {
        HostError::Runtime(format!(
            "the authorization server metadata mirror for provider {}: {e}",
            descriptor.name
        ))
    })
}

fn build_dev(
    config: &Config,
    ctx: &ProviderContext,
    table: serde_json::Value,
    persist: bool,
) -> Result<Arc<DevIssuer>, HostError> {
    let allow_remote = table
        .get("allow_non_loopback")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    if !config.server.bind.ip().is_loopback() && !allow_remote {
        return Err(HostError::Config(format!(
            "providers.{}.allow_non_loopback: the dev issuer refuses to serve on non-loopback bind {} (set allow_non_loopback = true if you really mean it)",
            ctx.name, config.server.bind
        )));
    }
    let dev_config = DevConfig::from_value(&ctx.name, table)?;
    if persist {
        Ok(DevIssuer::new(ctx, dev_config)?)
    } else {
        Ok(DevIssuer::dry_run(ctx, dev_config)?)
    }
}

fn build_tools(config: &Config, observer: &SharedObserver) -> Result<ToolRegistry, HostError> {
    let mut tools = ToolRegistry::new();
    config
        .tools
        .register(&mut tools, observer.clone())
        .map_err(|e| HostError::Config(format!("tools: {e}")))?;
    Ok(tools)
}
