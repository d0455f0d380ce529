//! Parsing Alpha Vantage `NEWS_SENTIMENT` bodies, tolerantly.
//!
//! Alpha Vantage reports errors as HTTP 200 with an `"Error Message"`,
//! `"Information"` or `"Note"` key; those are classified by their text.
//! Scores arrive as decimal strings (per ticker) or numbers (overall); both
//! forms are accepted everywhere, and non-finite values are ignored.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::time_fmt::parse_av_time;

/// One news item, reduced to what the tool uses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Article {
    pub title: String,
    pub summary: String,
    pub source: String,
    pub url: String,
    pub published: Option<OffsetDateTime>,
    pub tickers: Vec<TickerSentiment>,
}

/// One `ticker_sentiment` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TickerSentiment {
    /// Upper-cased ticker.
    pub ticker: String,
    /// `relevance_score`, when it parses.
    pub relevance: Option<f64>,
    /// `ticker_sentiment_score`, when it parses.
    pub score: Option<f64>,
}

/// What an Alpha Vantage notice (HTTP 200 error body) means.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Notice {
    /// Daily/minute quota or premium-only feature.
    RateLimited,
    /// Key missing, invalid, or the `demo` key used beyond its example.
    InvalidKey,
    /// Anything else, with Alpha Vantage's text.
    BadRequest(String),
}

/// Why a body did not yield a feed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BodyError {
    /// An Alpha Vantage notice.
    Notice(Notice),
    /// Not JSON, or not the expected shape.
    Malformed(String),
}

const NOTICE_KEYS: [&str; 3] = ["Error Message", "Information", "Note"];

/// Parses a 200 body into articles, or says why it is not a feed.
pub(crate) fn parse_body(body: &[u8]) -> Result<Vec<Article>, BodyError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| BodyError::Malformed(format!("response is not valid JSON ({e})")))?;
    let Value::Object(root) = value else {
        return Err(BodyError::Malformed("response is not a JSON object".into()));
    };
    let notice = NOTICE_KEYS
        .iter()
        .find_map(|k| root.get(*k).map(|v| (*k, text_of(v))));
    match (root.get("feed"), notice) {
        (Some(Value::Array(items)), None) => Ok(items.iter().filter_map(article).collect()),
        (Some(Value::Array(items)), Some((key, _))) if key != "Error Message" => {
            Ok(items.iter().filter_map(article).collect())
        }
        (_, Some((_, text))) => Err(BodyError::Notice(classify(&text))),
        (Some(_), None) => Err(BodyError::Malformed("`feed` is not an array".into())),
        (None, None) => Err(BodyError::Malformed(
            "response has neither `feed` nor an Alpha Vantage message".into(),
        )),
    }
}

/// Classifies a notice by its text (case-insensitive), not by its key.
pub(crate) fn classify(text: &str) -> Notice {
    let t = text.to_ascii_lowercase();
    // Quota wording first: the daily-limit notice for the demo key also talks about
    // the key ("We have detected your API key as demo and our standard API rate
    // limit is 25 requests per day"), and waiting is the right advice there.
    let quota_words = [
        "rate limit",
        "requests per day",
        "calls per day",
        "per minute",
        "calls per",
        "requests per",
        "frequency",
        "spreading out your free api requests",
    ];
    if quota_words.iter().any(|w| t.contains(w)) {
        return Notice::RateLimited;
    }
    let about_key = t.contains("apikey") || t.contains("api key") || t.contains("api_key");
    if about_key
        && ["invalid", "missing", "demo", "claim your free"]
            .iter()
            .any(|w| t.contains(w))
    {
        return Notice::InvalidKey;
    }
    if t.contains("premium") {
        return Notice::RateLimited;
    }
    Notice::BadRequest(text.trim().to_owned())
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn article(v: &Value) -> Option<Article> {
    let obj = v.as_object()?;
    let tickers = match obj.get("ticker_sentiment") {
        Some(Value::Array(entries)) => entries.iter().filter_map(ticker_sentiment).collect(),
        _ => Vec::new(),
    };
    Some(Article {
        title: string(obj, "title"),
        summary: string(obj, "summary"),
        source: string(obj, "source"),
        url: string(obj, "url"),
        published: obj
            .get("time_published")
            .and_then(Value::as_str)
            .and_then(parse_av_time),
        tickers,
    })
}

fn ticker_sentiment(v: &Value) -> Option<TickerSentiment> {
    let obj = v.as_object()?;
    let ticker = obj.get("ticker")?.as_str()?.trim().to_ascii_uppercase();
    Some(TickerSentiment {
        ticker,
        relevance: obj.get("relevance_score").and_then(number),
        score: obj.get("ticker_sentiment_score").and_then(number),
    })
}

fn string(obj: &Map<String, Value>, key: &str) -> String {
    obj.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A finite number given as a JSON number or a decimal string.
pub(crate) fn number(v: &Value) -> Option<f64> {
    let f = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    f.is_finite().then_some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RATE_INFO: &str = "Thank you for using Alpha Vantage! Our standard API rate limit is 25 \
        requests per day. Please subscribe to any of the premium plans at \
        https://www.alphavantage.co/premium/ to instantly remove all daily rate limits.";
    const RATE_NOTE: &str = "Thank you for using Alpha Vantage! Our standard API call frequency \
        is 5 calls per minute and 500 calls per day. Please visit \
        https://www.alphavantage.co/premium/ if you would like to target a higher API call frequency.";
    const BAD_KEY: &str = "the parameter apikey is invalid or missing. Please claim your free API \
        key on (https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds.";
    const DEMO_KEY: &str = "The **demo** API key is for demo purposes only. Please claim your free \
        API key at (https://www.alphavantage.co/support/#api-key) to explore our full API offerings.";
    const DEMO_DAILY_LIMIT: &str = "We have detected your API key as demo and our standard API \
        rate limit is 25 requests per day. Please subscribe to any of the premium plans at \
        https://www.alphavantage.co/premium/ to instantly remove all daily rate limits.";
    const BAD_INPUT: &str = "Invalid inputs. Please refer to the API documentation \
        https://www.alphavantage.co/documentation#newsapi and try again.";

    #[test]
    fn classifies_by_text() {
        assert_eq!(classify(RATE_INFO), Notice::RateLimited);
        assert_eq!(classify(RATE_NOTE), Notice::RateLimited);
        assert_eq!(classify(&RATE_INFO.to_uppercase()), Notice::RateLimited);
        assert_eq!(classify(BAD_KEY), Notice::InvalidKey);
        assert_eq!(classify(DEMO_KEY), Notice::InvalidKey);
        // The daily limit as Alpha Vantage words it for the demo key.
        assert_eq!(classify(DEMO_DAILY_LIMIT), Notice::RateLimited);
        assert_eq!(classify("This is a premium endpoint."), Notice::RateLimited);
        assert_eq!(classify(BAD_INPUT), Notice::BadRequest(BAD_INPUT.into()));
    }

    #[test]
    fn notices_win_over_missing_feed_regardless_of_key() {
        for key in NOTICE_KEYS {
            let body = json!({ key: BAD_KEY }).to_string();
            assert_eq!(
                parse_body(body.as_bytes()),
                Err(BodyError::Notice(Notice::InvalidKey)),
                "{key}"
            );
        }
        let body = json!({"Information": RATE_INFO}).to_string();
        assert_eq!(
            parse_body(body.as_bytes()),
            Err(BodyError::Notice(Notice::RateLimited))
        );
    }

    #[test]
    fn malformed_bodies() {
        for body in [
            &b"{\"feed\": ["[..],
            b"",
            b"[]",
            b"{}",
            br#"{"feed": {}}"#,
            b"\xff",
        ] {
            assert!(
                matches!(parse_body(body), Err(BodyError::Malformed(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn tolerant_article_parsing() {
        let body = json!({
            "items": 2,
            "feed": [
                {"title": "A", "url": "u", "time_published": "20250314T153000",
                 "overall_sentiment_score": "0.1",
                 "ticker_sentiment": [
                    {"ticker": "aapl", "relevance_score": 0.5, "ticker_sentiment_score": "0.25"},
                    {"ticker": "MSFT", "relevance_score": "NaN", "ticker_sentiment_score": "inf"},
                    {"relevance_score": "0.5"},
                    "junk"
                 ]},
                "not an article",
                {"title": 7, "ticker_sentiment": "nope", "time_published": "yesterday"}
            ]
        })
        .to_string();
        let articles = parse_body(body.as_bytes()).unwrap();
        assert_eq!(articles.len(), 2);
        assert_eq!(articles[0].tickers.len(), 2);
        assert_eq!(articles[0].tickers[0].ticker, "AAPL");
        assert_eq!(articles[0].tickers[0].relevance, Some(0.5));
        assert_eq!(articles[0].tickers[0].score, Some(0.25));
        assert_eq!(articles[0].tickers[1].relevance, None);
        assert_eq!(articles[0].tickers[1].score, None);
        assert!(articles[0].published.is_some());
        assert_eq!(articles[1].title, "");
        assert!(articles[1].tickers.is_empty());
        assert!(articles[1].published.is_none());
    }
}
