//! Building the enabled tools from `[tools.*]` and registering them.

use std::sync::Arc;

use warden_core::{SharedObserver, ToolRegistry};

use crate::{NewsSentimentTool, ToolsConfig, ToolsError, WhoamiTool};

impl ToolsConfig {
    /// Builds every enabled tool and registers it in `registry` with its
    /// configured `required_scopes` (whoami first, then news_sentiment).
    pub fn register(
        &self,
        registry: &mut ToolRegistry,
        observer: SharedObserver,
    ) -> Result<(), ToolsError> {
        if self.whoami.enabled {
            let scopes = self.whoami.required_scopes.clone();
            registry.register(
                Arc::new(WhoamiTool::with_required_scopes(scopes.clone())),
                Some(scopes),
            );
        }
        if self.news_sentiment.enabled {
            let tool = NewsSentimentTool::new(&self.news_sentiment, observer)?;
            registry.register(
                Arc::new(tool),
                Some(self.news_sentiment.required_scopes.clone()),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewsSentimentConfig, WhoamiConfig};
    use warden_core::noop_observer;

    #[test]
    fn registers_enabled_tools_with_their_scopes() {
        let cfg = ToolsConfig {
            whoami: WhoamiConfig {
                enabled: true,
                required_scopes: vec!["profile".into()],
            },
            news_sentiment: NewsSentimentConfig {
                api_key: Some("k-123".into()),
                ..Default::default()
            },
        };
        let mut registry = ToolRegistry::new();
        cfg.register(&mut registry, noop_observer()).unwrap();
        let names: Vec<&str> = registry.iter().map(|t| t.name()).collect();
        assert_eq!(names, ["whoami", "news_sentiment"]);
        assert_eq!(registry.get("whoami").unwrap().required_scopes, ["profile"]);
        assert_eq!(
            registry.get("news_sentiment").unwrap().required_scopes,
            ["news:read"]
        );

        let mut only_whoami = ToolRegistry::new();
        let cfg = ToolsConfig {
            news_sentiment: NewsSentimentConfig {
                enabled: false,
                base_url: "bogus".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        cfg.register(&mut only_whoami, noop_observer()).unwrap();
        assert_eq!(only_whoami.len(), 1);
    }
}
