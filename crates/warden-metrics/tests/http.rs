//! `HttpMetrics` over real HTTP on loopback.

use std::sync::Arc;

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{get, handler, http::StatusCode, EndpointExt, Route, Server};
use warden_metrics::{HttpMetrics, Metrics, RouteClassifier};

#[handler]
fn ok() -> &'static str {
    "ok"
}

#[handler]
fn fail() -> poem::Result<&'static str> {
    Err(poem::Error::from_status(StatusCode::UNAUTHORIZED))
}

#[tokio::test]
async fn records_route_templates_methods_and_statuses() {
    let metrics = Arc::new(Metrics::new("test").expect("metrics"));
    let app = Route::new()
        .at("/mcp", get(ok).post(fail))
        .at("/.well-known/oauth-protected-resource/*rest", get(ok))
        .with(HttpMetrics::new(
            metrics.clone(),
            RouteClassifier::new(["/mcp", "/.well-known/oauth-protected-resource"]),
        ));
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .expect("bind");
    let addr = acceptor.local_addr()[0]
        .as_socket_addr()
        .copied()
        .expect("socket addr");
    let server = tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    for path in [
        "/mcp",
        "/mcp",
        "/.well-known/oauth-protected-resource/mcp",
        "/attacker-chosen-SECRET-PATH",
    ] {
        client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("get");
    }
    let resp = client
        .post(format!("{base}/mcp"))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 401);

    let text = metrics.render();
    assert!(
        text.contains("warden_http_requests_total{method=\"GET\",route=\"/mcp\",status=\"200\"} 2"),
        "{text}"
    );
    assert!(
        text.contains(
            "warden_http_requests_total{method=\"POST\",route=\"/mcp\",status=\"401\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains(
        "warden_http_requests_total{method=\"GET\",route=\"/.well-known/oauth-protected-resource\",status=\"200\"} 1"
    ));
    assert!(
        text.contains(
            "warden_http_requests_total{method=\"GET\",route=\"other\",status=\"404\"} 1"
        ),
        "{text}"
    );
    assert!(text
        .contains("warden_http_request_duration_seconds_count{method=\"GET\",route=\"/mcp\"} 2"));
    assert!(!text.contains("SECRET-PATH"));
    server.abort();
}

#[test]
fn recorder_resolves_routes_methods_and_statuses() {
    let metrics = Arc::new(Metrics::new("test").expect("metrics"));
    let recorder = metrics.http_recorder(["/mcp", "/healthz", "/"]);
    let d = std::time::Duration::from_millis(1);
    for _ in 0..2 {
        recorder.record("/mcp", "POST", 200, d);
        recorder.record("/mcp/", "POST", 429, d);
        recorder.record("/mcp", "BREW", 418, d);
        recorder.record("/healthz", "GET", 200, d);
        recorder.record("/", "GET", 999, d);
        recorder.record("/attacker-chosen-SECRET-PATH", "DELETE", 404, d);
    }
    // The by-label path records into the same series.
    metrics.record_http("/mcp", "POST", 200, d);
    let text = metrics.render();
    for line in [
        r#"warden_http_requests_total{method="POST",route="/mcp",status="200"} 3"#,
        r#"warden_http_requests_total{method="POST",route="/mcp",status="429"} 2"#,
        r#"warden_http_requests_total{method="other",route="/mcp",status="418"} 2"#,
        r#"warden_http_requests_total{method="GET",route="/healthz",status="200"} 2"#,
        r#"warden_http_requests_total{method="GET",route="/",status="other"} 2"#,
        r#"warden_http_requests_total{method="DELETE",route="other",status="404"} 2"#,
        r#"warden_http_request_duration_seconds_count{method="POST",route="/mcp"} 5"#,
    ] {
        assert!(text.contains(line), "{line} missing in\n{text}");
    }
    assert!(!text.contains("SECRET-PATH"));
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("warden_http_requests_total{"))
            .count(),
        6,
        "only observed series exist\n{text}"
    );
}
