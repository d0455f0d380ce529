//! A fake Alpha Vantage `NEWS_SENTIMENT` endpoint on loopback.
//!
//! It answers `GET /query` in the exact wire shape of the real service
//! (string `items`, numeric `overall_sentiment_score`, *string* per-ticker
//! scores, errors as HTTP 200 bodies), counts requests, records the last
//! query, and records violations: an `Authorization` header, an API key
//! anywhere but the `apikey` query parameter, a wrong path or function.
//!
//! ```no_run
//! # async fn demo() {
//! use warden_test_support::alphavantage::{FakeAlphaVantage, Mode};
//! let av = FakeAlphaVantage::start().await;
//! av.expect_api_key("SECRET-AV-KEY-123");
//! av.set_mode(Mode::RateLimitInformation);
//! // ... point the tool at av.url() ...
//! assert!(av.violations().is_empty());
//! # }
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Request, Response, Server};
use serde_json::{json, Value};

/// The real "Information" text of the daily rate limit.
pub const RATE_LIMIT_INFORMATION: &str =
    "Thank you for using Alpha Vantage! Our standard API rate \
    limit is 25 requests per day. Please subscribe to any of the premium plans at \
    https://www.alphavantage.co/premium/ to instantly remove all daily rate limits.";

/// The older "Note" text of the per-minute limit.
pub const RATE_LIMIT_NOTE: &str = "Thank you for using Alpha Vantage! Our standard API call \
    frequency is 5 calls per minute and 500 calls per day. Please visit \
    https://www.alphavantage.co/premium/ if you would like to target a higher API call frequency.";

/// The real "Error Message" text for a missing or invalid key.
pub const INVALID_KEY_MESSAGE: &str = "the parameter apikey is invalid or missing. Please claim \
    your free API key on (https://www.alphavantage.co/support/#api-key). It should take less \
    than 20 seconds.";

/// The "Information" form of a key problem (the `demo` key used beyond its example).
pub const INVALID_KEY_INFORMATION: &str = "The **demo** API key is for demo purposes only. Please \
    claim your free API key at (https://www.alphavantage.co/support/#api-key) to explore our \
    full API offerings. It should take less than 20 seconds.";

/// The real "Error Message" text for bad inputs (e.g. an unknown ticker).
pub const BAD_REQUEST_MESSAGE: &str = "Invalid inputs. Please refer to the API documentation \
    https://www.alphavantage.co/documentation#newsapi and try again.";

/// A truncated JSON body.
pub const MALFORMED_BODY: &str =
    r#"{"items": "5", "sentiment_score_definition": "x <= -0.35", "feed": [{"title": "Apple"#;

/// How the fake answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// 200 with [`fixture_feed`].
    Normal,
    /// 200 with `{"items":"0", …, "feed":[]}`.
    EmptyFeed,
    /// 200 with `{"Information": RATE_LIMIT_INFORMATION}`.
    RateLimitInformation,
    /// 200 with `{"Note": RATE_LIMIT_NOTE}`.
    RateLimitNote,
    /// 200 with `{"Error Message": INVALID_KEY_MESSAGE}`.
    InvalidKeyErrorMessage,
    /// 200 with `{"Information": INVALID_KEY_INFORMATION}`.
    InvalidKeyInformation,
    /// 200 with `{"Error Message": BAD_REQUEST_MESSAGE}`.
    BadRequest,
    /// 200 with [`MALFORMED_BODY`].
    MalformedJson,
    /// This status with a small JSON body, on every request.
    Status(u16),
    /// Sleeps this long, then answers like [`Mode::Normal`].
    Slow(Duration),
    /// This status and body (`application/json`).
    Custom {
        /// HTTP status.
        status: u16,
        /// Body, verbatim.
        body: String,
    },
}

#[derive(Debug)]
struct State {
    mode: Mode,
    fail_next: VecDeque<u16>,
    requests: usize,
    last_query: Option<BTreeMap<String, String>>,
    expected_key: Option<String>,
    violations: Vec<String>,
}

/// A running fake; the server stops when this is dropped.
#[derive(Debug)]
pub struct FakeAlphaVantage {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeAlphaVantage {
    /// Starts on `127.0.0.1:0` in [`Mode::Normal`].
    pub async fn start() -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind fake Alpha Vantage");
        let addr = acceptor
            .local_addr()
            .into_iter()
            .find_map(|a| a.as_socket_addr().copied())
            .expect("fake Alpha Vantage has a socket address");
        let state = Arc::new(Mutex::new(State {
            mode: Mode::Normal,
            fail_next: VecDeque::new(),
            requests: 0,
            last_query: None,
            expected_key: None,
            violations: Vec::new(),
        }));
        let shared = state.clone();
        let app = poem::endpoint::make(move |req: Request| {
            let state = shared.clone();
            async move { handle(state, req).await }
        });
        let server = tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor).run(app).await;
        });
        Self {
            addr,
            state,
            server,
        }
    }

    /// Base URL (`http://127.0.0.1:PORT`), for `[tools.news_sentiment] base_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far (counted on arrival).
    pub fn requests(&self) -> usize {
        self.lock().requests
    }

    /// Changes how the following requests are answered.
    pub fn set_mode(&self, mode: Mode) {
        self.lock().mode = mode;
    }

    /// The next `n` requests get `status` (then the mode applies again).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.lock().fail_next.extend(std::iter::repeat_n(status, n));
    }

    /// Every request must carry exactly this key as `apikey`, and nowhere else.
    pub fn expect_api_key(&self, key: &str) {
        self.lock().expected_key = Some(key.to_owned());
    }

    /// The query parameters of the last request (last value wins on repeats).
    pub fn last_query(&self) -> Option<BTreeMap<String, String>> {
        self.lock().last_query.clone()
    }

    /// What the callers did wrong so far; tests assert this is empty.
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for FakeAlphaVantage {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn handle(state: Arc<Mutex<State>>, req: Request) -> Response {
    let (mode, forced) = {
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        st.requests += 1;
        let query = inspect(&mut st, &req);
        st.last_query = Some(query);
        (st.mode.clone(), st.fail_next.pop_front())
    };
    if let Some(status) = forced {
        return status_response(status);
    }
    match mode {
        Mode::Normal => json_response(200, fixture_feed().to_string()),
        Mode::EmptyFeed => json_response(200, empty_feed().to_string()),
        Mode::RateLimitInformation => notice("Information", RATE_LIMIT_INFORMATION),
        Mode::RateLimitNote => notice("Note", RATE_LIMIT_NOTE),
        Mode::InvalidKeyErrorMessage => notice("Error Message", INVALID_KEY_MESSAGE),
        Mode::InvalidKeyInformation => notice("Information", INVALID_KEY_INFORMATION),
        Mode::BadRequest => notice("Error Message", BAD_REQUEST_MESSAGE),
        Mode::MalformedJson => json_response(200, MALFORMED_BODY.to_owned()),
        Mode::Status(status) => status_response(status),
        Mode::Slow(delay) => {
            tokio::time::sleep(delay).await;
            json_response(200, fixture_feed().to_string())
        }
        Mode::Custom { status, body } => json_response(status, body),
    }
}

/// Records violations for `req`; returns its query parameters.
fn inspect(st: &mut State, req: &Request) -> BTreeMap<String, String> {
    let mut query = BTreeMap::new();
    let mut apikeys = Vec::new();
    let raw_query = req.uri().query().unwrap_or("");
    for (k, v) in url::form_urlencoded::parse(raw_query.as_bytes()) {
        if k == "apikey" {
            apikeys.push(v.to_string());
        }
        query.insert(k.into_owned(), v.into_owned());
    }
    let mut problems = Vec::new();
    if req.headers().contains_key("authorization") {
        problems.push("an Authorization header was sent to Alpha Vantage".to_owned());
    }
    if req.method() != poem::http::Method::GET {
        problems.push(format!("method {} instead of GET", req.method()));
    }
    if req.uri().path() != "/query" {
        problems.push(format!("path {:?} instead of /query", req.uri().path()));
    }
    if query.get("function").map(String::as_str) != Some("NEWS_SENTIMENT") {
        problems.push(format!("function {:?}", query.get("function")));
    }
    if !query.contains_key("tickers") {
        problems.push("no tickers parameter".to_owned());
    }
    if apikeys.len() != 1 {
        problems.push(format!("{} apikey parameters instead of 1", apikeys.len()));
    }
    if let Some(key) = st.expected_key.clone() {
        if apikeys.first() != Some(&key) {
            problems.push("apikey parameter is not the configured key".to_owned());
        }
        if req.uri().path().contains(&key) {
            problems.push("the API key appears in the path".to_owned());
        }
        for (name, value) in req.headers() {
            if String::from_utf8_lossy(value.as_bytes()).contains(&key) {
                problems.push(format!("the API key appears in header {name}"));
            }
        }
        for (k, v) in &query {
            if k != "apikey" && (v.contains(&key) || k.contains(&key)) {
                problems.push(format!("the API key appears in query parameter {k}"));
            }
        }
    }
    st.violations.extend(problems);
    query
}

fn json_response(status: u16, body: String) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json")
        .body(body)
}

fn status_response(status: u16) -> Response {
    json_response(
        status,
        json!({ "error": format!("fake upstream status {status}") }).to_string(),
    )
}

fn notice(key: &str, text: &str) -> Response {
    json_response(200, json!({ key: text }).to_string())
}

const SENTIMENT_DEFINITION: &str = "x <= -0.35: Bearish; -0.35 < x <= -0.15: Somewhat-Bearish; \
    -0.15 < x < 0.15: Neutral; 0.15 <= x < 0.35: Somewhat_Bullish; x >= 0.35: Bullish";
const RELEVANCE_DEFINITION: &str = "0 < x <= 1, with a higher score indicating higher relevance.";

/// `items: "0"`, `feed: []`.
pub fn empty_feed() -> Value {
    json!({
        "items": "0",
        "sentiment_score_definition": SENTIMENT_DEFINITION,
        "relevance_score_definition": RELEVANCE_DEFINITION,
        "feed": []
    })
}

fn article(
    title: &str,
    slug: &str,
    time: &str,
    source: &str,
    overall: f64,
    overall_label: &str,
    tickers: &[(&str, &str, &str, &str)],
) -> Value {
    json!({
        "title": title,
        "url": format!("https://news.example.com/{slug}"),
        "time_published": time,
        "authors": ["Jane Doe"],
        "summary": format!("{title}. Full story at Example Wire."),
        "banner_image": null,
        "source": source,
        "category_within_source": "n/a",
        "source_domain": "news.example.com",
        "topics": [{"topic": "Technology", "relevance_score": "0.999999"}],
        "overall_sentiment_score": overall,
        "overall_sentiment_label": overall_label,
        "ticker_sentiment": tickers.iter().map(|(t, rel, score, label)| json!({
            "ticker": t,
            "relevance_score": rel,
            "ticker_sentiment_score": score,
            "ticker_sentiment_label": label
        })).collect::<Vec<_>>()
    })
}

/// The [`Mode::Normal`] feed: five articles in Alpha Vantage's exact shape.
///
/// AAPL appears in four, with (relevance, score):
/// `apple-chips` 20250314T153000 (0.912034, 0.341200),
/// `apple-eu-probe` 20250315T090000 (0.500000, -0.200000),
/// `apple-services` 20250313T120000 (0.912034, 0.100000),
/// `tech-rally` 20250316T080000 (0.050000, 0.600000);
/// weighted mean 0.3323894008 / 2.374068 ≈ 0.140008 (Neutral).
/// `microsoft-azure` 20250316T101500 does not mention AAPL. MSFT appears in
/// `apple-chips` (0.12, 0.05), `microsoft-azure` (0.8, 0.4) and `tech-rally`
/// (0.06, 0.55): ≈ 0.366327 (Bullish).
pub fn fixture_feed() -> Value {
    let feed = vec![
        article(
            "Apple unveils faster chips for its Mac lineup",
            "apple-chips",
            "20250314T153000",
            "Example Wire",
            0.287114,
            "Somewhat-Bullish",
            &[
                ("AAPL", "0.912034", "0.341200", "Somewhat-Bullish"),
                ("MSFT", "0.120000", "0.050000", "Neutral"),
            ],
        ),
        article(
            "Apple faces EU antitrust probe over App Store",
            "apple-eu-probe",
            "20250315T090000",
            "Daily Ledger",
            -0.180442,
            "Somewhat-Bearish",
            &[("AAPL", "0.500000", "-0.200000", "Somewhat-Bearish")],
        ),
        article(
            "Analysts split on Apple's services growth",
            "apple-services",
            "20250313T120000",
            "Market Notes",
            0.051230,
            "Neutral",
            &[("AAPL", "0.912034", "0.100000", "Neutral")],
        ),
        article(
            "Microsoft expands Azure AI partnership",
            "microsoft-azure",
            "20250316T101500",
            "Example Wire",
            0.402871,
            "Bullish",
            &[
                ("MSFT", "0.800000", "0.400000", "Bullish"),
                ("GOOGL", "0.250000", "0.150000", "Somewhat-Bullish"),
            ],
        ),
        article(
            "Tech stocks rally as inflation cools",
            "tech-rally",
            "20250316T080000",
            "Daily Ledger",
            0.351002,
            "Bullish",
            &[
                ("AAPL", "0.050000", "0.600000", "Bullish"),
                ("MSFT", "0.060000", "0.550000", "Bullish"),
                ("FOREX:USD", "0.100000", "-0.050000", "Neutral"),
            ],
        ),
    ];
    json!({
        "items": feed.len().to_string(),
        "sentiment_score_definition": SENTIMENT_DEFINITION,
        "relevance_score_definition": RELEVANCE_DEFINITION,
        "feed": feed
    })
}
