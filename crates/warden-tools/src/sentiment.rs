//! Turning a feed into a per-ticker sentiment analysis.

use std::cmp::Ordering;

use serde_json::{json, Value};
use time::OffsetDateTime;
use warden_core::ToolOutput;

use crate::feed::Article;
use crate::ticker::Ticker;
use crate::time_fmt::to_rfc3339;

/// Label when no article mentions the ticker.
pub(crate) const NO_DATA: &str = "No data";

/// An article that mentions the ticker, with the ticker's scores.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mention {
    pub title: String,
    pub summary: String,
    pub source: String,
    pub url: String,
    pub published: Option<OffsetDateTime>,
    /// The ticker's `ticker_sentiment_score` in this article.
    pub score: f64,
    /// The ticker's `relevance_score` in this article (0 when absent).
    pub relevance: f64,
}

/// The cached result for one ticker; `limit` is applied when rendering.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Analysis {
    pub ticker: String,
    /// Relevance-weighted mean score; `None` without mentions.
    pub score: Option<f64>,
    /// Mentioning articles, most relevant first, then most recent first.
    pub mentions: Vec<Mention>,
}

/// Alpha Vantage's label for a sentiment score.
pub(crate) fn label(score: f64) -> &'static str {
    if score <= -0.35 {
        "Bearish"
    } else if score <= -0.15 {
        "Somewhat-Bearish"
    } else if score < 0.15 {
        "Neutral"
    } else if score < 0.35 {
        "Somewhat-Bullish"
    } else {
        "Bullish"
    }
}

/// Analyses `articles` for `ticker`.
///
/// An article counts when its `ticker_sentiment` has an entry for the ticker
/// with a parseable score (the first such entry is used). The score is the
/// mean weighted by each entry's relevance (negative or missing relevance
/// weighs 0); when every weight is 0 it is the plain mean.
pub(crate) fn analyze(ticker: &Ticker, articles: Vec<Article>) -> Analysis {
    let mut mentions: Vec<Mention> = articles
        .into_iter()
        .filter_map(|a| {
            let entry = a
                .tickers
                .iter()
                .find(|t| t.ticker == ticker.as_str() && t.score.is_some())?;
            Some(Mention {
                score: entry.score?,
                relevance: entry.relevance.unwrap_or(0.0).max(0.0),
                title: a.title,
                summary: a.summary,
                source: a.source,
                url: a.url,
                published: a.published,
            })
        })
        .collect();
    let score = weighted_mean(&mentions);
    mentions.sort_by(|a, b| {
        b.relevance
            .total_cmp(&a.relevance)
            .then_with(|| cmp_recency(b.published, a.published))
    });
    Analysis {
        ticker: ticker.as_str().to_owned(),
        score,
        mentions,
    }
}

/// `Some` before `None`, later before earlier (when called as `cmp(b, a)`).
fn cmp_recency(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => Ordering::Equal,
    }
}

fn weighted_mean(mentions: &[Mention]) -> Option<f64> {
    if mentions.is_empty() {
        return None;
    }
    let total: f64 = mentions.iter().map(|m| m.relevance).sum();
    let mean = if total > 0.0 {
        mentions.iter().map(|m| m.relevance * m.score).sum::<f64>() / total
    } else {
        mentions.iter().map(|m| m.score).sum::<f64>() / mentions.len() as f64
    };
    mean.is_finite().then_some(mean)
}

/// Rounds to 6 decimals, Alpha Vantage's own precision.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl Analysis {
    /// The tool output with at most `limit` top articles.
    pub(crate) fn output(&self, limit: usize) -> ToolOutput {
        let label = self.score.map(label).unwrap_or(NO_DATA);
        let top: Vec<&Mention> = self.mentions.iter().take(limit).collect();
        let top_json: Vec<Value> = top
            .iter()
            .map(|m| {
                json!({
                    "title": m.title,
                    "summary": m.summary,
                    "source": m.source,
                    "url": m.url,
                    "published_at": m.published.and_then(to_rfc3339),
                    "ticker_sentiment_score": m.score,
                    "relevance_score": m.relevance,
                })
            })
            .collect();
        let structured = json!({
            "ticker": self.ticker,
            "sentiment_score": self.score.map(round6),
            "sentiment_label": label,
            "articles_analyzed": self.mentions.len(),
            "top_articles": top_json,
        });
        let text = match self.score {
            None => format!(
                "No recent news sentiment found for {}: no article in the feed mentions it.",
                self.ticker
            ),
            Some(score) => {
                let mut text = format!(
                    "{}: {label} (score {score:.3}) across {} article(s) mentioning it.",
                    self.ticker,
                    self.mentions.len()
                );
                if !top.is_empty() {
                    text.push_str("\nTop articles:");
                }
                for (i, m) in top.iter().enumerate() {
                    let when = m
                        .published
                        .and_then(to_rfc3339)
                        .unwrap_or_else(|| "undated".to_owned());
                    text.push_str(&format!(
                        "\n{}. {} ({}, {when}; sentiment {:.3}, relevance {:.3})",
                        i + 1,
                        m.title,
                        m.source,
                        m.score,
                        m.relevance
                    ));
                }
                text
            }
        };
        ToolOutput { text, structured }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::TickerSentiment;
    use crate::time_fmt::parse_av_time;

    fn article(title: &str, when: &str, entries: &[(&str, Option<f64>, Option<f64>)]) -> Article {
        Article {
            title: title.into(),
            summary: String::new(),
            source: "Wire".into(),
            url: format!("https://news.example/{title}"),
            published: parse_av_time(when),
            tickers: entries
                .iter()
                .map(|(t, r, s)| TickerSentiment {
                    ticker: (*t).into(),
                    relevance: *r,
                    score: *s,
                })
                .collect(),
        }
    }

    #[test]
    fn labels_follow_alpha_vantage_thresholds() {
        assert_eq!(label(-0.35), "Bearish");
        assert_eq!(label(-0.9), "Bearish");
        assert_eq!(label(-0.3499), "Somewhat-Bearish");
        assert_eq!(label(-0.15), "Somewhat-Bearish");
        assert_eq!(label(-0.1499), "Neutral");
        assert_eq!(label(0.0), "Neutral");
        assert_eq!(label(0.1499), "Neutral");
        assert_eq!(label(0.15), "Somewhat-Bullish");
        assert_eq!(label(0.3499), "Somewhat-Bullish");
        assert_eq!(label(0.35), "Bullish");
    }

    #[test]
    fn weighted_mean_and_ordering() {
        let t = Ticker::parse("AAPL").unwrap();
        let a = analyze(
            &t,
            vec![
                article("old", "20250101T000000", &[("AAPL", Some(0.5), Some(0.4))]),
                article("none", "20250105T000000", &[("MSFT", Some(0.9), Some(0.9))]),
                article("new", "20250102T000000", &[("AAPL", Some(0.5), Some(-0.2))]),
                article("top", "20241231T000000", &[("AAPL", Some(1.0), Some(0.1))]),
                article("noscore", "20250103T000000", &[("AAPL", Some(1.0), None)]),
            ],
        );
        let expected = 1.0f64.mul_add(0.1, 0.5f64.mul_add(0.4, 0.5 * -0.2)) / 2.0;
        assert!((a.score.unwrap() - expected).abs() < 1e-12);
        let titles: Vec<&str> = a.mentions.iter().map(|m| m.title.as_str()).collect();
        assert_eq!(titles, ["top", "new", "old"]);
        let out = a.output(2);
        assert_eq!(out.structured["articles_analyzed"], 3);
        assert_eq!(out.structured["top_articles"].as_array().unwrap().len(), 2);
        assert_eq!(out.structured["sentiment_label"], "Neutral");
        assert_eq!(
            out.structured["top_articles"][1]["published_at"],
            "2025-01-02T00:00:00Z"
        );
    }

    #[test]
    fn zero_weights_fall_back_to_plain_mean() {
        let t = Ticker::parse("AAPL").unwrap();
        let a = analyze(
            &t,
            vec![
                article("a", "20250101T000000", &[("AAPL", Some(0.0), Some(0.5))]),
                article("b", "", &[("AAPL", None, Some(0.3))]),
                article("c", "20250101T000000", &[("AAPL", Some(-1.0), Some(0.4))]),
            ],
        );
        assert!((a.score.unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(a.output(10).structured["sentiment_label"], "Bullish");
        // Undated articles sort after dated ones at equal relevance.
        assert_eq!(a.mentions.last().unwrap().title, "b");
    }

    #[test]
    fn no_mentions_is_no_data() {
        let t = Ticker::parse("IBM").unwrap();
        let a = analyze(
            &t,
            vec![article("x", "", &[("AAPL", Some(1.0), Some(1.0))])],
        );
        let out = a.output(3);
        assert_eq!(out.structured["sentiment_score"], Value::Null);
        assert_eq!(out.structured["sentiment_label"], "No data");
        assert_eq!(out.structured["articles_analyzed"], 0);
        assert_eq!(out.structured["top_articles"], json!([]));
        assert!(out.text.contains("IBM"));
    }
}
