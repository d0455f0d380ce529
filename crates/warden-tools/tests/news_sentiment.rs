//! news_sentiment against a fake Alpha Vantage over loopback: results,
//! caching, single-flight and argument validation.

mod common;

use std::time::Duration;

use common::{harness, harness_with, KEY};
use serde_json::{json, Value};
use warden_core::ToolError;
use warden_test_support::alphavantage::{FakeAlphaVantage, Mode};

fn urls(out: &Value) -> Vec<String> {
    out["top_articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["url"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn normal_feed_gives_relevance_weighted_score_and_label() {
    let h = harness().await;
    let out = h.call(json!({"ticker": "AAPL"})).await.unwrap();
    let s = &out.structured;
    // (0.912034*0.3412 + 0.5*-0.2 + 0.912034*0.1 + 0.05*0.6) / (0.912034*2 + 0.5 + 0.05)
    let expected = 0.332_389_400_8 / 2.374_068;
    assert!(
        (s["sentiment_score"].as_f64().unwrap() - expected).abs() < 1e-6,
        "{s}"
    );
    assert_eq!(s["sentiment_score"], json!(0.140008));
    assert_eq!(s["ticker"], "AAPL");
    assert_eq!(s["sentiment_label"], "Neutral");
    assert_eq!(s["articles_analyzed"], 4);
    // Relevance desc, then recency desc (apple-chips and apple-services tie on relevance).
    assert_eq!(urls(s), ["apple-chips", "apple-services", "apple-eu-probe"]);
    let top = &s["top_articles"][0];
    assert_eq!(
        top["title"],
        "Apple unveils faster chips for its Mac lineup"
    );
    assert_eq!(top["source"], "Example Wire");
    assert_eq!(top["url"], "https://news.example.com/apple-chips");
    assert_eq!(top["published_at"], "2025-03-14T15:30:00Z");
    assert_eq!(top["ticker_sentiment_score"], 0.3412);
    assert_eq!(top["relevance_score"], 0.912034);
    assert!(top["summary"]
        .as_str()
        .unwrap()
        .starts_with("Apple unveils"));
    assert!(
        out.text.contains("AAPL: Neutral (score 0.140)"),
        "{}",
        out.text
    );

    let q = h.av.last_query().unwrap();
    assert_eq!(q["function"], "NEWS_SENTIMENT");
    assert_eq!(q["tickers"], "AAPL");
    assert_eq!(q["apikey"], KEY);
    assert_eq!(q["limit"], "50");
    assert_eq!(q["sort"], "RELEVANCE");
    assert_eq!(h.av.requests(), 1);
    assert_eq!(h.outcomes(), ["ok"]);
    h.assert_clean();
}

#[tokio::test]
async fn articles_without_the_ticker_are_ignored() {
    let h = harness().await;
    let msft = h
        .call(json!({"ticker": "msft", "limit": 10}))
        .await
        .unwrap();
    let s = &msft.structured;
    let expected = 0.06f64.mul_add(0.55, 0.12f64.mul_add(0.05, 0.8 * 0.4)) / (0.12 + 0.8 + 0.06);
    assert!((s["sentiment_score"].as_f64().unwrap() - expected).abs() < 1e-6);
    assert_eq!(s["sentiment_label"], "Bullish");
    assert_eq!(s["articles_analyzed"], 3);
    assert_eq!(urls(s), ["microsoft-azure", "apple-chips", "tech-rally"]);

    let googl = h.call(json!({"ticker": "GOOGL"})).await.unwrap();
    assert_eq!(googl.structured["articles_analyzed"], 1);
    assert_eq!(googl.structured["sentiment_label"], "Somewhat-Bullish");

    let forex = h.call(json!({"ticker": "forex:usd"})).await.unwrap();
    assert_eq!(forex.structured["ticker"], "FOREX:USD");
    assert_eq!(forex.structured["sentiment_label"], "Neutral");
    assert_eq!(h.av.last_query().unwrap()["tickers"], "FOREX:USD");

    // The fake's feed mentions no IBM at all: no data, not an error.
    let ibm = h.call(json!({"ticker": "IBM", "limit": 10})).await.unwrap();
    assert_eq!(ibm.structured["sentiment_score"], Value::Null);
    assert_eq!(ibm.structured["sentiment_label"], "No data");
    assert_eq!(ibm.structured["articles_analyzed"], 0);
    assert_eq!(ibm.structured["top_articles"], json!([]));
    assert_eq!(h.av.requests(), 4);
    h.assert_clean();
}

#[tokio::test]
async fn empty_feed_is_no_data() {
    let h = harness().await;
    h.av.set_mode(Mode::EmptyFeed);
    let out = h.call(json!({"ticker": "AAPL"})).await.unwrap();
    assert_eq!(
        out.structured,
        json!({
            "ticker": "AAPL",
            "sentiment_score": null,
            "sentiment_label": "No data",
            "articles_analyzed": 0,
            "top_articles": []
        })
    );
    assert!(out.text.contains("No recent news sentiment"));
    h.assert_clean();
}

#[tokio::test]
async fn tolerates_numbers_for_strings_and_junk_values() {
    let h = harness().await;
    let body = json!({
        "items": 3,
        "feed": [
            {"title": "A", "url": "https://n.example/a", "time_published": "20250101T000000",
             "source": "S", "summary": "a", "overall_sentiment_score": "0.2",
             "ticker_sentiment": [{"ticker": "AAPL", "relevance_score": 0.5,
                                    "ticker_sentiment_score": 0.4}]},
            {"title": "B", "url": "https://n.example/b", "time_published": "garbage",
             "ticker_sentiment": [{"ticker": "AAPL", "relevance_score": "NaN",
                                    "ticker_sentiment_score": "0.2"}]},
            {"title": "C", "ticker_sentiment": [{"ticker": "AAPL", "relevance_score": "0.9",
                                                 "ticker_sentiment_score": "n/a"}]},
            42
        ]
    });
    h.av.set_mode(Mode::Custom {
        status: 200,
        body: body.to_string(),
    });
    let out = h
        .call(json!({"ticker": "AAPL", "limit": 10}))
        .await
        .unwrap();
    let s = &out.structured;
    // B has no usable relevance (weight 0); C has no usable score (ignored).
    assert_eq!(s["articles_analyzed"], 2);
    assert_eq!(s["sentiment_score"], json!(0.4));
    assert_eq!(s["sentiment_label"], "Bullish");
    assert_eq!(s["top_articles"][1]["published_at"], Value::Null);
    h.assert_clean();
}

#[tokio::test]
async fn second_call_is_served_from_cache_whatever_the_limit() {
    let h = harness().await;
    let first = h.call(json!({"ticker": "AAPL", "limit": 1})).await.unwrap();
    assert_eq!(
        first.structured["top_articles"].as_array().unwrap().len(),
        1
    );
    let second = h
        .call(json!({"ticker": " aapl ", "limit": 10}))
        .await
        .unwrap();
    assert_eq!(
        second.structured["top_articles"].as_array().unwrap().len(),
        4
    );
    assert_eq!(
        second.structured["sentiment_score"],
        first.structured["sentiment_score"]
    );
    // Even a now-failing upstream is not consulted for a cached ticker.
    h.av.set_mode(Mode::Status(500));
    h.call(json!({"ticker": "AAPL"})).await.unwrap();
    assert_eq!(h.av.requests(), 1);
    assert_eq!(h.outcomes(), ["ok"]);
    h.assert_clean();
}

#[tokio::test]
async fn zero_ttl_disables_the_cache() {
    let h = harness_with(|c| c.cache_ttl = Duration::ZERO).await;
    h.call(json!({"ticker": "AAPL"})).await.unwrap();
    h.call(json!({"ticker": "AAPL"})).await.unwrap();
    assert_eq!(h.av.requests(), 2);
    h.assert_clean();
}

#[tokio::test]
async fn errors_are_not_cached() {
    let h = harness().await;
    h.av.set_mode(Mode::RateLimitInformation);
    let (kind, _) = h.fail(json!({"ticker": "AAPL"})).await;
    assert_eq!(kind, "rate_limited");
    h.av.set_mode(Mode::Normal);
    let out = h.call(json!({"ticker": "AAPL"})).await.unwrap();
    assert_eq!(out.structured["articles_analyzed"], 4);
    assert_eq!(h.av.requests(), 2);
    h.assert_clean();
}

#[tokio::test]
async fn concurrent_calls_for_one_ticker_share_one_request() {
    let h = harness().await;
    // Slow enough that all ten calls are in flight together.
    h.av.set_mode(Mode::Slow(Duration::from_millis(300)));
    let calls = (0..10).map(|i| {
        let ticker = if i % 2 == 0 { "AAPL" } else { " aapl" };
        h.call(json!({"ticker": ticker, "limit": 1 + i % 3}))
    });
    let results = futures::future::join_all(calls).await;
    for r in &results {
        assert_eq!(r.as_ref().unwrap().structured["articles_analyzed"], 4);
    }
    assert_eq!(h.av.requests(), 1);
    assert_eq!(h.outcomes(), ["ok"]);
    h.assert_clean();
}

#[tokio::test]
async fn invalid_tickers_never_reach_upstream() {
    let h = harness().await;
    for ticker in [
        "",
        "   ",
        "aapl$",
        "TOOLONGTICKER1",
        "FOREX:",
        "CRYPTO:B-T",
        "STOCK:AAPL",
    ] {
        match h.call(json!({"ticker": ticker})).await {
            Err(ToolError::InvalidParams(msg)) => assert!(msg.contains("ticker"), "{msg}"),
            other => panic!("{ticker:?}: {other:?}"),
        }
    }
    for bad in [
        json!({}),
        json!({"ticker": 42}),
        json!({"ticker": ["AAPL"]}),
    ] {
        assert!(matches!(
            h.call(bad).await,
            Err(ToolError::InvalidParams(_))
        ));
    }
    assert_eq!(h.av.requests(), 0);
    h.assert_clean();
}

#[tokio::test]
async fn tickers_are_trimmed_and_upper_cased() {
    let h = harness().await;
    let out = h.call(json!({"ticker": " aapl "})).await.unwrap();
    assert_eq!(out.structured["ticker"], "AAPL");
    assert_eq!(h.av.last_query().unwrap()["tickers"], "AAPL");
    let out = h.call(json!({"ticker": "crypto:btc"})).await.unwrap();
    assert_eq!(out.structured["ticker"], "CRYPTO:BTC");
    assert_eq!(h.av.last_query().unwrap()["tickers"], "CRYPTO:BTC");
    h.assert_clean();
}

#[tokio::test]
async fn limit_is_validated_before_any_request() {
    let h = harness().await;
    for limit in [
        json!(0),
        json!(11),
        json!("x"),
        json!(-3),
        json!(2.5),
        json!("3"),
    ] {
        match h.call(json!({"ticker": "AAPL", "limit": limit})).await {
            Err(ToolError::InvalidParams(msg)) => assert!(msg.contains("limit"), "{msg}"),
            other => panic!("{limit}: {other:?}"),
        }
    }
    assert_eq!(h.av.requests(), 0);
    let one = h.call(json!({"ticker": "AAPL", "limit": 1})).await.unwrap();
    assert_eq!(urls(&one.structured), ["apple-chips"]);
    let default = h.call(json!({"ticker": "AAPL"})).await.unwrap();
    assert_eq!(
        default.structured["top_articles"].as_array().unwrap().len(),
        3
    );
    let ten = h
        .call(json!({"ticker": "AAPL", "limit": 10}))
        .await
        .unwrap();
    assert_eq!(urls(&ten.structured).len(), 4);
    h.assert_clean();
}

#[tokio::test]
async fn fake_flags_an_authorization_header() {
    // The harness relies on the fake noticing leaks; prove that it does.
    let av = FakeAlphaVantage::start().await;
    av.expect_api_key(KEY);
    let url = format!(
        "{}/query?function=NEWS_SENTIMENT&tickers=AAPL&apikey={KEY}",
        av.url()
    );
    reqwest::Client::new()
        .get(url)
        .header("Authorization", "Bearer abc")
        .header("X-Key", KEY)
        .send()
        .await
        .unwrap();
    let violations = av.violations();
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert_eq!(av.requests(), 1);
}
