//! A raw MCP-over-HTTP client for tests: every status and header stays visible.

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{json, Value};

/// One HTTP answer from the MCP endpoint, with the JSON-RPC message extracted
/// from either a JSON body or an SSE stream.
#[derive(Debug, Clone)]
pub struct McpReply {
    pub status: u16,
    pub headers: HeaderMap,
    pub content_type: String,
    pub body: String,
    /// The JSON-RPC response (from JSON, or the first SSE `data:` with an `id`).
    pub message: Option<Value>,
}

impl McpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn www_authenticate(&self) -> Option<&str> {
        self.header("www-authenticate")
    }
    pub fn result(&self) -> &Value {
        self.message
            .as_ref()
            .and_then(|m| m.get("result"))
            .unwrap_or(&Value::Null)
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Extracts the JSON-RPC response from an SSE body.
pub fn parse_sse_message(body: &str) -> Option<Value> {
    let mut data = String::new();
    for line in body.lines().chain(std::iter::once("")) {
        if let Some(d) = line.strip_prefix("data:") {
            data.push_str(d.trim_start());
        } else if line.is_empty() && !data.is_empty() {
            if let Ok(v) = serde_json::from_str::<Value>(&data) {
                if v.get("id").is_some() && (v.get("result").is_some() || v.get("error").is_some())
                {
                    return Some(v);
                }
            }
            data.clear();
        }
    }
    None
}

/// A minimal MCP client speaking Streamable HTTP with a bearer token.
#[derive(Clone, Debug)]
pub struct McpClient {
    pub http: reqwest::Client,
    pub url: String,
    pub token: Option<String>,
    pub session: Option<String>,
    pub protocol_version: String,
    pub accept: String,
    next_id: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl McpClient {
    pub fn new(url: impl Into<String>, token: Option<String>) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            url: url.into(),
            token,
            session: None,
            protocol_version: "2025-11-25".into(),
            accept: "application/json, text/event-stream".into(),
            next_id: Default::default(),
        }
    }

    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    fn headers(&self, initialize: bool) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("accept", HeaderValue::from_str(&self.accept).unwrap());
        h.insert("content-type", HeaderValue::from_static("application/json"));
        if let Some(t) = &self.token {
            h.insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
            );
        }
        if let Some(s) = &self.session {
            h.insert("mcp-session-id", HeaderValue::from_str(s).unwrap());
        }
        if !initialize {
            h.insert(
                "mcp-protocol-version",
                HeaderValue::from_str(&self.protocol_version).unwrap(),
            );
        }
        h
    }

    /// POSTs a raw body with the client's headers plus `extra`.
    pub async fn post_raw(
        &self,
        body: String,
        extra: &[(&str, &str)],
        initialize: bool,
    ) -> McpReply {
        let mut headers = self.headers(initialize);
        for (k, v) in extra {
            headers.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let resp = self
            .http
            .post(&self.url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .expect("request");
        Self::reply(resp).await
    }

    pub async fn reply(resp: reqwest::Response) -> McpReply {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = resp.text().await.unwrap_or_default();
        let message = if content_type.starts_with("text/event-stream") {
            parse_sse_message(&body)
        } else {
            serde_json::from_str(&body).ok()
        };
        McpReply {
            status,
            headers,
            content_type,
            body,
            message,
        }
    }

    /// Sends a JSON-RPC request.
    pub async fn request(&self, method: &str, params: Value) -> McpReply {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.post_raw(body.to_string(), &[], method == "initialize")
            .await
    }

    /// Sends a JSON-RPC notification.
    pub async fn notify(&self, method: &str) -> McpReply {
        let body = json!({"jsonrpc": "2.0", "method": method});
        self.post_raw(body.to_string(), &[], false).await
    }

    /// initialize + notifications/initialized; keeps the session id.
    pub async fn initialize(&mut self) -> McpReply {
        let reply = self
            .request(
                "initialize",
                json!({
                    "protocolVersion": self.protocol_version,
                    "capabilities": {},
                    "clientInfo": {"name": "warden-tests", "version": "0"}
                }),
            )
            .await;
        if reply.status == 200 {
            self.session = reply.header("mcp-session-id").map(str::to_owned);
            let note = self.notify("notifications/initialized").await;
            assert_eq!(note.status, 202, "notifications/initialized: {}", note.body);
        }
        reply
    }

    pub async fn list_tools(&self) -> McpReply {
        self.request("tools/list", json!({})).await
    }

    pub async fn call_tool(&self, name: &str, arguments: Value) -> McpReply {
        self.request("tools/call", json!({"name": name, "arguments": arguments}))
            .await
    }
}
