//! Shared harness: the tool pointed at a fresh fake Alpha Vantage.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};
use warden_core::{AuthInfo, Event, Observer, Tool, ToolError, ToolOutput};
use warden_test_support::alphavantage::FakeAlphaVantage;
use warden_tools::{NewsSentimentConfig, NewsSentimentTool};

/// A distinctive key that must never show up in an error message.
pub(crate) const KEY: &str = "SECRET-AV-KEY-123";

/// Records `Event::Upstream` outcomes.
#[derive(Default)]
pub(crate) struct Recorder {
    pub upstream: Mutex<Vec<(String, &'static str)>>,
}

impl Observer for Recorder {
    fn observe(&self, event: &Event<'_>) {
        if let Event::Upstream {
            upstream, outcome, ..
        } = event
        {
            self.upstream
                .lock()
                .unwrap()
                .push(((*upstream).to_owned(), outcome));
        }
    }
}

pub(crate) struct Harness {
    pub av: FakeAlphaVantage,
    pub tool: NewsSentimentTool,
    pub recorder: Arc<Recorder>,
}

/// Tight test settings: short backoff and timeout, caching on.
pub(crate) fn test_config(base_url: String) -> NewsSentimentConfig {
    NewsSentimentConfig {
        api_key: Some(KEY.into()),
        base_url,
        timeout: Duration::from_secs(5),
        retry_backoff: Duration::from_millis(5),
        max_retries: 2,
        ..Default::default()
    }
}

pub(crate) async fn harness() -> Harness {
    harness_with(|_| {}).await
}

pub(crate) async fn harness_with(tweak: impl FnOnce(&mut NewsSentimentConfig)) -> Harness {
    let av = FakeAlphaVantage::start().await;
    av.expect_api_key(KEY);
    let mut cfg = test_config(av.url());
    tweak(&mut cfg);
    let recorder = Arc::new(Recorder::default());
    let tool = NewsSentimentTool::new(&cfg, recorder.clone()).expect("tool builds");
    Harness { av, tool, recorder }
}

/// A caller whose identity must never travel upstream.
pub(crate) fn caller() -> AuthInfo {
    AuthInfo {
        subject: Some("alice".into()),
        client_id: Some("client-1".into()),
        scopes: vec!["news:read".into()],
        provider: "dev".into(),
        ..Default::default()
    }
}

pub(crate) fn args(value: Value) -> Map<String, Value> {
    value.as_object().expect("object").clone()
}

impl Harness {
    pub(crate) async fn call(&self, value: Value) -> Result<ToolOutput, ToolError> {
        self.tool.call(args(value), &caller()).await
    }

    /// Calls and expects a `ToolError::Failed`; returns (kind, message).
    pub(crate) async fn fail(&self, value: Value) -> (&'static str, String) {
        match self.call(value).await {
            Err(ToolError::Failed { kind, message }) => {
                assert!(!message.contains(KEY), "key leaked: {message}");
                (kind, message)
            }
            other => panic!("expected a tool failure, got {other:?}"),
        }
    }

    pub(crate) fn outcomes(&self) -> Vec<&'static str> {
        let events = self.recorder.upstream.lock().unwrap();
        assert!(events.iter().all(|(u, _)| u == "alphavantage"));
        events.iter().map(|(_, o)| *o).collect()
    }

    /// The fake saw nothing it objects to.
    pub(crate) fn assert_clean(&self) {
        assert_eq!(self.av.violations(), Vec::<String>::new());
    }
}
