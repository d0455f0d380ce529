//! The load test's rmcp reference point: rmcp's own Streamable HTTP server,
//! stateless with JSON answers, on the same poem stack warden serves it
//! with (poem's tower compatibility over `StreamableHttpService`), one
//! `whoami` tool and no auth at all.
//!
//! `rmcp-noauth ADDR` (loopback addresses only) serves `/mcp`. The tool is
//! warden's own `whoami` (`warden_tools::WhoamiTool`: the same input and
//! output schema, the same structured content and text) called with a fixed
//! identity shaped like a dev token's, so the row differs from warden's only
//! by what warden adds around rmcp: auth, its HTTP layers and its fast path.

use std::sync::Arc;

use poem::endpoint::TowerCompatExt;
use poem::listener::TcpListener;
use poem::{EndpointExt, Route, Server};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::json;
use warden_core::{AuthInfo, Tool as _};
use warden_tools::WhoamiTool;

/// The same allocator as the `warden` binary, so the ratio measures warden's work.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One `whoami` tool answering for a fixed caller.
#[derive(Debug, Clone)]
struct NoAuth {
    whoami: Arc<WhoamiTool>,
    tool: Tool,
    caller: Arc<AuthInfo>,
}

impl NoAuth {
    fn new(issuer: &str) -> Self {
        let whoami = WhoamiTool::new();
        let spec = whoami.spec();
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
        let expires_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
            + 7200;
        let caller = AuthInfo {
            subject: Some("user0".into()),
            issuer: Some(issuer.to_owned()),
            client_id: Some("warden-bench".into()),
            audiences: vec![format!("{issuer}/mcp")],
            scopes: vec!["news:read".into(), "profile".into()],
            expires_at: Some(expires_at),
            claims: serde_json::Map::new(),
            provider: "none".into(),
        };
        Self {
            whoami: Arc::new(whoami),
            tool,
            caller: Arc::new(caller),
        }
    }
}

impl ServerHandler for NoAuth {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new("rmcp-noauth", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(vec![self.tool.clone()]))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        (name == self.tool.name).then(|| self.tool.clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        if request.name != self.tool.name {
            return Err(McpError::invalid_params(
                format!("unknown tool {:?}", request.name),
                None,
            ));
        }
        let args = request.arguments.unwrap_or_default();
        match self.whoami.call(args, &self.caller).await {
            Ok(out) => {
                let mut result = CallToolResult::success(vec![ContentBlock::text(out.text)]);
                result.structured_content = Some(out.structured);
                Ok(result.into())
            }
            Err(e) => Err(McpError::invalid_params(
                e.to_string(),
                Some(json!({"tool": "whoami"})),
            )),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: std::net::SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:10300".into())
        .parse()?;
    if !addr.ip().is_loopback() {
        return Err("rmcp-noauth only binds loopback addresses".into());
    }
    let handler = NoAuth::new(&format!("http://{addr}/dev"));
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true);
    let service = StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let app = Route::new().at("/mcp", service.compat().map_to_response());
    Server::new(TcpListener::bind(addr)).run(app).await?;
    Ok(())
}
