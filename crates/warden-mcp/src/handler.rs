//! The rmcp `ServerHandler` over warden's tool registry.

use std::sync::Arc;
use std::time::Instant;

use crate::InFlight;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    ContentBlock, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, MetaObject, PaginatedRequestParams, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::json;
use warden_core::{
    AuthInfo, BearerGuard, Event, RegisteredTool, SharedObserver, ToolError, ToolRegistry,
};

/// The `_meta` key under which each listed tool advertises its required scopes.
pub const REQUIRED_SCOPES_META: &str = "io.warden/requiredScopes";

/// Which tools `tools/list` shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListTools {
    /// Every tool, each with its required scopes in `_meta` (clients can step up).
    #[default]
    All,
    /// Only the tools the caller's token can call.
    Authorized,
}

/// The MCP server handler: one per session (cheap to clone).
#[derive(Clone)]
pub struct WardenMcp {
    tools: Arc<ToolRegistry>,
    guard: Arc<BearerGuard>,
    observer: SharedObserver,
    list: ListTools,
    name: String,
    in_flight: Arc<InFlight>,
}

impl std::fmt::Debug for WardenMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WardenMcp")
            .field("name", &self.name)
            .field("tools", &self.tools)
            .field("list", &self.list)
            .finish_non_exhaustive()
    }
}

/// The caller's identity that the HTTP layer inserted into the request's extensions.
pub fn auth_info_from_parts(parts: &http::request::Parts) -> Option<&AuthInfo> {
    parts.extensions.get::<AuthInfo>()
}

fn caller_of(context: &RequestContext<RoleServer>) -> Option<&AuthInfo> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(auth_info_from_parts)
}

fn authenticated(who: Option<&AuthInfo>) -> Result<&AuthInfo, McpError> {
    who.ok_or_else(|| McpError::invalid_request("request is not authenticated", None))
}

impl WardenMcp {
    /// A handler serving `tools`, checking scopes with `guard`.
    pub fn new(
        tools: Arc<ToolRegistry>,
        guard: Arc<BearerGuard>,
        observer: SharedObserver,
        list: ListTools,
    ) -> Self {
        Self {
            tools,
            guard,
            observer,
            list,
            name: "warden".into(),
            in_flight: InFlight::new(),
        }
    }

    /// Counts tool calls in `in_flight` (shared with the host's graceful shutdown).
    pub fn with_in_flight(mut self, in_flight: Arc<InFlight>) -> Self {
        self.in_flight = in_flight;
        self
    }

    /// Sets the server name announced in `initialize`.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    fn to_mcp_tool(entry: &RegisteredTool) -> Tool {
        let spec = entry.tool.spec();
        let mut tool = Tool::new(
            spec.name.clone(),
            spec.description.clone(),
            spec.input_schema.clone(),
        );
        if let Some(title) = &spec.title {
            tool = tool.with_title(title.clone());
        }
        if let Some(schema) = &spec.output_schema {
            tool = tool.with_raw_output_schema(Arc::new(schema.clone()));
        }
        let mut meta = serde_json::Map::new();
        meta.insert(REQUIRED_SCOPES_META.into(), json!(entry.required_scopes));
        tool.meta = Some(MetaObject(meta));
        tool
    }

    /// Runs the tool; returns the MCP result and a bounded outcome label
    /// (`ok`, `invalid_params`, or the tool error's kind such as `rate_limited`).
    async fn run_tool(
        &self,
        entry: &RegisteredTool,
        request: CallToolRequestParams,
        who: &AuthInfo,
    ) -> (Result<CallToolResult, McpError>, &'static str) {
        let args = request.arguments.unwrap_or_default();
        match entry.tool.call(args, who).await {
            Ok(out) => {
                let mut result = CallToolResult::success(vec![ContentBlock::text(out.text)]);
                result.structured_content = Some(out.structured);
                (Ok(result), "ok")
            }
            Err(ToolError::InvalidParams(message)) => (
                Err(McpError::invalid_params(message, None)),
                "invalid_params",
            ),
            Err(e) => {
                let kind = match &e {
                    ToolError::Failed { kind, .. } => *kind,
                    _ => "error",
                };
                (
                    Ok(CallToolResult::error(vec![ContentBlock::text(
                        e.to_string(),
                    )])),
                    kind,
                )
            }
        }
    }
}

impl ServerHandler for WardenMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                self.name.clone(),
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "Tools protected by OAuth 2.1 (warden). Call `whoami` to see your identity.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        self.list_tools_for(caller_of(&context))
    }

    // warden serves tools only. rmcp 3.11 answers these with -32601 when the
    // capability is not declared; warden keeps answering them with empty
    // results, as it always has (clients and the conformance suite list them).

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::default())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::default())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::default())
    }

    async fn complete(
        &self,
        _request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        Ok(CompleteResult::default())
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.get(name).map(|t| Self::to_mcp_tool(t))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let parts = context.extensions.get::<http::request::Parts>();
        // rmcp moves the request's `_meta` into the context.
        let traceparent = context
            .meta
            .get_traceparent()
            .or_else(|| request.meta.as_ref().and_then(|m| m.get_traceparent()));
        let span = crate::trace::tool_span(&request.name, parts, traceparent);
        self.call_tool_in(request, parts.and_then(auth_info_from_parts), span)
            .await
    }
}

impl WardenMcp {
    /// The tools served.
    pub fn tool_registry(&self) -> &Arc<ToolRegistry> {
        &self.tools
    }

    /// `tools/list` for `who` (the identity the HTTP layer authenticated):
    /// what [`ServerHandler::list_tools`] answers, without an rmcp context.
    pub fn list_tools_for(&self, who: Option<&AuthInfo>) -> Result<ListToolsResult, McpError> {
        let who = authenticated(who)?;
        let tools = self
            .tools
            .iter()
            .filter(|t| self.list == ListTools::All || self.guard.permits(who, &t.required_scopes))
            .map(|t| Self::to_mcp_tool(t))
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    /// `tools/call` as `who`: what [`ServerHandler::call_tool`] answers,
    /// without an rmcp context (counted in flight, scopes enforced, events
    /// observed).
    pub async fn call_tool_as(
        &self,
        request: CallToolRequestParams,
        who: Option<&AuthInfo>,
    ) -> Result<CallToolResponse, McpError> {
        let traceparent = request.meta.as_ref().and_then(|m| m.get_traceparent());
        let span = crate::trace::tool_span(&request.name, None, traceparent);
        self.call_tool_in(request, who, span).await
    }

    /// [`WardenMcp::call_tool_as`] for a request that came over HTTP: its
    /// span hangs under the request's (see [`crate::trace`]), or under the
    /// `traceparent` (`meta_traceparent`, from `params._meta`) when the
    /// request had no such header.
    pub async fn call_tool_over_http(
        &self,
        request: CallToolRequestParams,
        parts: &http::request::Parts,
        meta_traceparent: Option<&str>,
    ) -> Result<CallToolResponse, McpError> {
        let traceparent =
            meta_traceparent.or_else(|| request.meta.as_ref().and_then(|m| m.get_traceparent()));
        let span = crate::trace::tool_span(&request.name, Some(parts), traceparent);
        self.call_tool_in(request, auth_info_from_parts(parts), span)
            .await
    }

    async fn call_tool_in(
        &self,
        request: CallToolRequestParams,
        who: Option<&AuthInfo>,
        span: tracing::Span,
    ) -> Result<CallToolResponse, McpError> {
        let outcome_span = span.clone();
        let (result, outcome) =
            tracing::Instrument::instrument(self.call_tool_run(request, who), span).await;
        crate::trace::record_outcome(&outcome_span, outcome);
        result
    }

    async fn call_tool_run(
        &self,
        request: CallToolRequestParams,
        who: Option<&AuthInfo>,
    ) -> (Result<CallToolResponse, McpError>, &'static str) {
        let _in_flight = self.in_flight.enter();
        let who = match authenticated(who) {
            Ok(who) => who,
            Err(e) => return (Err(e), "unauthenticated"),
        };
        let Some(entry) = self.tools.get(&request.name).cloned() else {
            return (
                Err(McpError::invalid_params(
                    format!("unknown tool {:?}", request.name),
                    None,
                )),
                "unknown_tool",
            );
        };
        // The HTTP layer answers a missing tool scope with 403 before we get here;
        // this is defence in depth for transports that cannot (a response on an SSE stream).
        if let Err(e) = self.guard.authorize(who, &entry.required_scopes) {
            self.observer.observe(&Event::ToolCall {
                tool: entry.name(),
                outcome: "forbidden",
                elapsed: Default::default(),
            });
            return (
                Ok(CallToolResult::error(vec![ContentBlock::text(e.to_string())]).into()),
                "forbidden",
            );
        }
        let started = Instant::now();
        let (result, outcome) = self.run_tool(&entry, request, who).await;
        entry.record(outcome == "ok");
        self.observer.observe(&Event::ToolCall {
            tool: entry.name(),
            outcome,
            elapsed: started.elapsed(),
        });
        tracing::debug!(tool = entry.name(), outcome, "tool call");
        (result.map(Into::into), outcome)
    }
}
