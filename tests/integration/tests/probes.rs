//! Kubernetes-style probes on the main listener: `/healthz` (liveness) and
//! `/readyz` (readiness) need no token, answer whatever the `Host` header (a
//! kubelet probes the pod IP), and say nothing about providers; the details
//! stay behind the admin token at `/admin/v1/ready`.

use std::time::{Duration, Instant};

use warden_test_support::host::TestHost;
use warden_test_support::idp::{FakeIdp, Fault, IdpEndpoint};

async fn get(url: &str, host_header: Option<&str>) -> (u16, Option<String>, String) {
    let client = reqwest::Client::new();
    let mut req = client.get(url);
    if let Some(h) = host_header {
        req = req.header("host", h);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, resp.text().await.unwrap())
}

#[tokio::test]
async fn probes_answer_without_a_token_whatever_the_host_header() {
    let host = TestHost::start("").await;
    for host_header in [None, Some("10.244.1.17:10000"), Some("warden.internal")] {
        let (status, _, body) = get(&format!("{}/healthz", host.url), host_header).await;
        assert_eq!((status, body.as_str()), (200, "ok"), "{host_header:?}");
        let (status, _, body) = get(&format!("{}/readyz", host.url), host_header).await;
        assert_eq!((status, body.as_str()), (200, "ready"), "{host_header:?}");
    }
}

fn jwt_config(idp: &FakeIdp) -> String {
    format!(
        "[auth]\nproviders = [\"corp\"]\n[providers.corp]\nkind = \"jwt\"\nissuer = \"{}\"\njwks_url = \"{}\"\ntimeout = \"1s\"\njwks_cooldown = \"1s\"\n[tools.news_sentiment]\nenabled = false\n[admin]\nbind = \"127.0.0.1:0\"\ntoken = \"probe-admin-token\"\n",
        idp.issuer(),
        idp.jwks_url()
    )
}

#[tokio::test]
async fn readyz_is_503_without_details_until_the_provider_has_its_keys() {
    let idp = FakeIdp::start().await;
    idp.set_fault(IdpEndpoint::Jwks, Some(Fault::Down));
    let host = TestHost::start(&jwt_config(&idp)).await;

    let (status, retry, body) = get(&format!("{}/readyz", host.url), None).await;
    assert_eq!(status, 503, "{body}");
    assert!(retry.is_some_and(|r| r.parse::<u64>().is_ok_and(|s| s > 0)));
    assert_eq!(body, "not ready", "no provider names, URLs or errors");
    // Liveness is not readiness: the process is fine.
    assert_eq!(get(&format!("{}/healthz", host.url), None).await.0, 200);

    // The details are behind the admin token.
    let admin = host.admin_url();
    assert_eq!(get(&format!("{admin}/admin/v1/ready"), None).await.0, 401);
    let detail = reqwest::Client::new()
        .get(format!("{admin}/admin/v1/ready"))
        .bearer_auth("probe-admin-token")
        .send()
        .await
        .unwrap();
    assert_eq!(detail.status(), 503);
    assert!(detail.text().await.unwrap().contains("corp"));

    // Keys back: ready without a restart.
    idp.set_fault(IdpEndpoint::Jwks, None);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _, body) = get(&format!("{}/readyz", host.url), None).await;
        if status == 200 {
            assert_eq!(body, "ready");
            break;
        }
        assert!(Instant::now() < deadline, "not ready within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn readyz_goes_503_when_shutdown_starts() {
    let host = TestHost::start("").await;
    assert_eq!(get(&format!("{}/readyz", host.url), None).await.0, 200);
    // Shutdown starts: keep-alive connections still open get "not ready", so
    // the endpoints controller stops routing here while in-flight work drains.
    let client = reqwest::Client::new();
    let url = format!("{}/readyz", host.url);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    host.app().shutdown.cancel();
    match client.get(&url).send().await {
        Ok(resp) => assert_eq!(resp.status(), 503),
        // The listener may already have closed the idle connection: also not routable.
        Err(e) => assert!(e.is_connect() || e.is_request(), "{e}"),
    }
}
