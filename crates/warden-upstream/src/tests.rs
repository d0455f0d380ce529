//! The policy against misbehaving loopback servers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use warden_core::{noop_observer, Event, Observer};

use crate::testing::{TestServer, FIFTY_MB};
use crate::*;

/// Records `Event::Upstream` as `name outcome`.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Observer for Recorder {
    fn observe(&self, event: &Event<'_>) {
        if let Event::Upstream {
            upstream, outcome, ..
        } = event
        {
            self.0.lock().unwrap().push(format!("{upstream} {outcome}"));
        }
    }
}

impl Recorder {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

const SHORT: Duration = Duration::from_millis(300);
/// Generous: "ended well before the server would have", not a timing assertion.
const BOUND: Duration = Duration::from_secs(5);

fn upstream(policy: UpstreamPolicy) -> (Upstream, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let upstream = Upstream::new("idp:test", policy, recorder.clone()).unwrap();
    (upstream, recorder)
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = TestServer::silent().await;
    let (up, recorder) = upstream(UpstreamPolicy::new(SHORT));
    let started = Instant::now();
    let err = up
        .json(Request::get(server.url("/jwks")))
        .await
        .unwrap_err();
    assert!(started.elapsed() < BOUND, "{:?}", started.elapsed());
    assert_eq!(
        err,
        UpstreamError::Timeout {
            url: server.url("/jwks"),
            timeout: SHORT
        }
    );
    assert_eq!(recorder.lines(), ["idp:test timeout"]);

    // A per-request timeout overrides the policy's.
    let (up, _) = upstream(UpstreamPolicy::new(Duration::from_secs(60)));
    let started = Instant::now();
    let err = up
        .send(Request::post_form(server.url("/introspect"), "token=t").timeout(SHORT))
        .await
        .unwrap_err();
    assert!(started.elapsed() < BOUND, "{:?}", started.elapsed());
    assert!(matches!(err, UpstreamError::Timeout { timeout, .. } if timeout == SHORT));
}

#[tokio::test]
async fn fifty_megabytes_are_refused_without_reading_them() {
    for server in [
        TestServer::huge(FIFTY_MB).await,
        TestServer::huge_with_length(FIFTY_MB).await,
    ] {
        let (up, recorder) =
            upstream(UpstreamPolicy::new(Duration::from_secs(20)).with_max_body_bytes(64 * 1024));
        let started = Instant::now();
        let err = up.json(Request::get(server.url("/doc"))).await.unwrap_err();
        assert!(started.elapsed() < BOUND, "{:?}", started.elapsed());
        assert_eq!(
            err,
            UpstreamError::TooLarge {
                url: server.url("/doc"),
                limit: 64 * 1024
            }
        );
        assert_eq!(recorder.lines(), ["idp:test invalid_response"]);
        // Give the server a moment to notice the closed connection.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            server.body_bytes_sent() < FIFTY_MB / 2,
            "the client kept reading: {} bytes sent",
            server.body_bytes_sent()
        );
    }
}

#[tokio::test]
async fn a_body_under_the_cap_is_read() {
    let body = "x".repeat(1000);
    let server = TestServer::answering(200, &[("content-type", "text/plain")], &body).await;
    let (up, recorder) =
        upstream(UpstreamPolicy::new(Duration::from_secs(5)).with_max_body_bytes(1000));
    let reply = up.send(Request::get(server.url("/"))).await.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.len(), 1000);
    let (up, _) = upstream(UpstreamPolicy::new(Duration::from_secs(5)).with_max_body_bytes(999));
    assert!(matches!(
        up.send(Request::get(server.url("/"))).await,
        Err(UpstreamError::TooLarge { limit: 999, .. })
    ));
    assert_eq!(recorder.lines(), ["idp:test ok"]);
}

#[tokio::test]
async fn json_documents_hints_and_headers() {
    let server = TestServer::answering(
        200,
        &[
            ("content-type", "application/json"),
            ("cache-control", "public, max-age=120"),
        ],
        r#"{"issuer":"https://idp"}"#,
    )
    .await;
    let (up, recorder) = upstream(UpstreamPolicy::new(Duration::from_secs(5)));
    let doc = up
        .json(Request::get(server.url("/doc")).accept("application/jwk-set+json"))
        .await
        .unwrap();
    assert_eq!(doc.value["issuer"], "https://idp");
    assert_eq!(doc.max_age, Some(Duration::from_secs(120)));
    let head = server.requests().pop().unwrap().to_ascii_lowercase();
    assert!(head.starts_with("get /doc http/1.1"), "{head}");
    assert!(
        head.contains(&format!("user-agent: {}", USER_AGENT.to_ascii_lowercase())),
        "{head}"
    );
    assert!(head.contains("accept: application/jwk-set+json"), "{head}");

    let array = TestServer::answering(200, &[], "[1]").await;
    assert!(matches!(
        up.json(Request::get(array.url("/"))).await,
        Err(UpstreamError::NotJson { .. })
    ));
    assert_eq!(
        recorder.lines(),
        ["idp:test ok", "idp:test invalid_response"]
    );
}

#[tokio::test]
async fn statuses_retry_after_and_no_redirects() {
    let busy = TestServer::answering(503, &[("retry-after", "42")], "busy").await;
    let (up, recorder) = upstream(UpstreamPolicy::new(Duration::from_secs(5)));
    let reply = up.send(Request::get(busy.url("/i"))).await.unwrap();
    assert_eq!(reply.status, 503);
    assert_eq!(reply.retry_after, Some(Duration::from_secs(42)));
    assert!(
        reply.body.is_empty(),
        "error bodies are not read by default"
    );
    let reply = up
        .send(Request::get(busy.url("/i")).read_body_of_any_status())
        .await
        .unwrap();
    assert_eq!(reply.body, b"busy");
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(90));
    let limited = TestServer::answering(429, &[("retry-after", &date)], "").await;
    let err = up.json(Request::get(limited.url("/i"))).await.unwrap_err();
    match err {
        UpstreamError::Status {
            status: 429,
            retry_after: Some(after),
            ..
        } => assert!(
            (Duration::from_secs(80)..=Duration::from_secs(90)).contains(&after),
            "{after:?}"
        ),
        other => panic!("{other:?}"),
    }

    let elsewhere = TestServer::answering(200, &[], "{}").await;
    let redirect = TestServer::answering(302, &[("location", &elsewhere.url("/x"))], "").await;
    let reply = up.send(Request::get(redirect.url("/"))).await.unwrap();
    assert_eq!(reply.status, 302, "not followed");
    assert_eq!(elsewhere.connections(), 0);
    let (follows, _) =
        upstream(UpstreamPolicy::new(Duration::from_secs(5)).with_redirects(Redirects::Limited(2)));
    let reply = follows.send(Request::get(redirect.url("/"))).await.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(
        recorder.lines(),
        [
            "idp:test http_5xx",
            "idp:test http_5xx",
            "idp:test rate_limited",
            "idp:test http_4xx"
        ]
    );
}

#[tokio::test]
async fn connection_refused_and_bad_requests_are_classified() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (up, recorder) = upstream(UpstreamPolicy::new(Duration::from_secs(5)));
    let err = up
        .send(Request::get(format!("http://{closed}/x?apikey=SECRET")))
        .await
        .unwrap_err();
    assert!(matches!(err, UpstreamError::Connect { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("http://{closed}/x: connection failed")),
        "{text}"
    );
    assert!(!text.contains("SECRET"), "{text}");

    let err = up
        .send(Request::get(format!("http://{closed}/me")).bearer("tok\r\nX: y"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        UpstreamError::InvalidHeader {
            name: "authorization"
        }
    );
    assert!(!err.to_string().contains("tok"));
    let err = up
        .send(Request::get("file:///etc/passwd"))
        .await
        .unwrap_err();
    assert!(matches!(err, UpstreamError::InvalidUrl { .. }), "{err:?}");
    assert_eq!(
        recorder.lines(),
        ["idp:test error", "idp:test error", "idp:test error"]
    );
}

#[tokio::test]
async fn the_query_never_shows_in_errors() {
    let server = TestServer::silent().await;
    let (up, _) = upstream(UpstreamPolicy::new(SHORT));
    let err = up
        .send(Request::get(server.url("/query")).query(&[("apikey", "SECRET-KEY")]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: no answer within 300ms", server.url("/query"))
    );
    let head = server.requests().pop().unwrap();
    assert!(head.contains("apikey=SECRET-KEY"), "sent: {head}");
}

#[test]
fn zero_limits_are_refused_at_build_time() {
    for (policy, setting) in [
        (UpstreamPolicy::new(Duration::ZERO), "timeout"),
        (
            UpstreamPolicy::new(SHORT).with_connect_timeout(Duration::ZERO),
            "connect_timeout",
        ),
        (
            UpstreamPolicy::new(SHORT).with_max_body_bytes(0),
            "max_body_bytes",
        ),
    ] {
        match Upstream::new("x", policy, noop_observer()) {
            Err(UpstreamError::InvalidPolicy { setting: s, .. }) => assert_eq!(s, setting),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn call_reports_the_interpretation() {
    struct Rejected;
    impl Outcome for Rejected {
        fn outcome(&self) -> &'static str {
            "invalid_response"
        }
    }
    let server = TestServer::answering(200, &[], "nope").await;
    let (up, recorder) = upstream(UpstreamPolicy::new(Duration::from_secs(5)));
    let result: Result<(), Rejected> = up
        .call(Request::get(server.url("/")), |_| Err(Rejected))
        .await;
    assert!(result.is_err());
    let ok: Result<u16, Rejected> = up
        .call(Request::get(server.url("/")), |r| {
            Ok(r.map_or(0, |r| r.status))
        })
        .await;
    assert_eq!(ok.ok(), Some(200));
    assert_eq!(
        recorder.lines(),
        ["idp:test invalid_response", "idp:test ok"]
    );
}

#[tokio::test]
async fn the_oidc_adapter_obeys_the_policy() {
    let server = TestServer::silent().await;
    let (up, recorder) = upstream(UpstreamPolicy::new(SHORT));
    let http = up.oidc_client();
    let request = http::Request::get(server.url("/.well-known/openid-configuration"))
        .body(Vec::new())
        .unwrap();
    let started = Instant::now();
    let err = http(request).await.unwrap_err();
    assert!(started.elapsed() < BOUND);
    assert!(matches!(err, UpstreamError::Timeout { .. }), "{err:?}");

    let huge = TestServer::huge(FIFTY_MB).await;
    let request = http::Request::get(huge.url("/jwks"))
        .body(Vec::new())
        .unwrap();
    assert!(matches!(
        http(request).await,
        Err(UpstreamError::TooLarge { .. })
    ));

    let ok = TestServer::answering(
        400,
        &[("content-type", "application/json")],
        r#"{"error":"x"}"#,
    )
    .await;
    let request = http::Request::post(ok.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"grant_type=client_credentials".to_vec())
        .unwrap();
    let response = http(request).await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.body(), br#"{"error":"x"}"#);
    assert_eq!(
        recorder.lines(),
        [
            "idp:test timeout",
            "idp:test invalid_response",
            "idp:test http_4xx"
        ]
    );
}
