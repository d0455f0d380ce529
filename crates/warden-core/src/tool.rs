//! The `Tool` trait and the registry of enabled tools.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::AuthInfo;

/// What a tool tells clients about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// Unique tool name (`whoami`, `news_sentiment`).
    pub name: String,
    /// Human-friendly title.
    pub title: Option<String>,
    /// What the tool does, for the model.
    pub description: String,
    /// JSON Schema of the arguments (an object schema).
    pub input_schema: Map<String, Value>,
    /// JSON Schema of `structuredContent`, when the tool returns structured output.
    pub output_schema: Option<Map<String, Value>>,
    /// Scopes a caller needs to call the tool (the tool's default; config may override).
    pub required_scopes: Vec<String>,
}

/// A successful tool result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// Short human-readable text.
    pub text: String,
    /// The structured result (`structuredContent`).
    pub structured: Value,
}

/// Why a tool call did not produce a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The arguments are invalid (JSON-RPC invalid params, -32602).
    #[error("invalid arguments: {0}")]
    InvalidParams(String),
    /// The tool ran and failed; the message is shown to the user (`isError: true`).
    #[error("{message}")]
    Failed {
        /// What went wrong and what to do about it (no secrets).
        message: String,
        /// A bounded outcome label for metrics (`rate_limited`, `upstream_error`, …).
        kind: &'static str,
    },
}

impl ToolError {
    /// A failure with a user-facing message.
    pub fn failed(kind: &'static str, message: impl Into<String>) -> Self {
        ToolError::Failed {
            message: message.into(),
            kind,
        }
    }
}

/// A tool callable over MCP.
#[async_trait]
pub trait Tool: Send + Sync {
    /// The tool's description.
    fn spec(&self) -> &ToolSpec;
    /// Runs the tool for `caller` with JSON `arguments`.
    async fn call(
        &self,
        arguments: Map<String, Value>,
        caller: &AuthInfo,
    ) -> Result<ToolOutput, ToolError>;
}

/// A tool as registered: its effective scopes and call counters.
pub struct RegisteredTool {
    /// The tool.
    pub tool: Arc<dyn Tool>,
    /// Effective required scopes (config override or the tool's default).
    pub required_scopes: Vec<String>,
    calls: AtomicU64,
    errors: AtomicU64,
}

impl std::fmt::Debug for RegisteredTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredTool")
            .field("name", &self.name())
            .field("required_scopes", &self.required_scopes)
            .field("calls", &self.calls)
            .field("errors", &self.errors)
            .finish()
    }
}

impl RegisteredTool {
    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.tool.spec().name
    }
    /// Counts a finished call.
    pub fn record(&self, ok: bool) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
    /// (calls, errors) so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.calls.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
        )
    }
}

/// The enabled tools, in registration order.
#[derive(Default)]
pub struct ToolRegistry {
    tools: Vec<Arc<RegisteredTool>>,
}

impl std::fmt::Debug for ToolRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.tools.iter()).finish()
    }
}

impl ToolRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tool; `required_scopes` overrides the tool's default when `Some`.
    /// A tool with the same name replaces the earlier one.
    pub fn register(
        &mut self,
        tool: Arc<dyn Tool>,
        required_scopes: Option<Vec<String>>,
    ) -> &mut Self {
        let scopes = required_scopes.unwrap_or_else(|| tool.spec().required_scopes.clone());
        let entry = Arc::new(RegisteredTool {
            tool,
            required_scopes: scopes,
            calls: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        });
        self.tools.retain(|t| t.name() != entry.name());
        self.tools.push(entry);
        self
    }

    /// The tool named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<RegisteredTool>> {
        self.tools.iter().find(|t| t.name() == name)
    }

    /// All tools in order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<RegisteredTool>> {
        self.tools.iter()
    }

    /// Number of tools.
    pub fn len(&self) -> usize {
        self.tools.len()
    }

    /// Whether no tool is registered.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
}
