//! Test helpers: signing keys of every algorithm, a tiny JWKS/discovery
//! server on 127.0.0.1:0, an event recorder and a provider context.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
    ECDSA_P384_SHA384_FIXED_SIGNING,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use poem::endpoint::make;
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Response, Route, Server};
use serde_json::{json, Value};
use warden_core::{now_unix, Event, Observer, ProviderContext, SharedObserver};

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A private key that signs test tokens, and its public JWK.
pub struct SigningKey {
    pub kid: String,
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub jwk: Value,
}

impl SigningKey {
    pub fn generate(alg: Algorithm, kid: &str) -> Self {
        let rng = SystemRandom::new();
        let (encoding, jwk) = match alg {
            Algorithm::ES256 | Algorithm::ES384 => {
                let (signing, crv, len) = if alg == Algorithm::ES256 {
                    (&ECDSA_P256_SHA256_FIXED_SIGNING, "P-256", 32)
                } else {
                    (&ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", 48)
                };
                let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &rng).unwrap();
                let pair = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref()).unwrap();
                let point = pair.public_key().as_ref();
                let jwk = json!({
                    "kty": "EC", "crv": crv,
                    "x": b64(&point[1..1 + len]), "y": b64(&point[1 + len..]),
                });
                (EncodingKey::from_ec_der(pkcs8.as_ref()), jwk)
            }
            Algorithm::EdDSA => {
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
                let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
                let jwk =
                    json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())});
                (EncodingKey::from_ed_der(pkcs8.as_ref()), jwk)
            }
            _ => {
                let pair = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).unwrap();
                let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap();
                let pem = format!(
                    "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                    STANDARD.encode(pkcs8.as_ref())
                );
                let components: aws_lc_rs::rsa::PublicKeyComponents<Vec<u8>> =
                    pair.public_key().into();
                let jwk = json!({"kty": "RSA", "n": b64(&components.n), "e": b64(&components.e)});
                (EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(), jwk)
            }
        };
        let mut jwk = jwk;
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!(format!("{alg:?}"));
        jwk["use"] = json!("sig");
        Self {
            kid: kid.to_string(),
            alg,
            encoding,
            jwk,
        }
    }

    /// The JWK without `kid`.
    pub fn jwk_without_kid(&self) -> Value {
        let mut jwk = self.jwk.clone();
        jwk.as_object_mut().unwrap().remove("kid");
        jwk
    }

    /// The default header: `alg`, `kid`, `typ: at+jwt`.
    pub fn header(&self) -> Value {
        json!({"alg": format!("{:?}", self.alg), "kid": self.kid, "typ": "at+jwt"})
    }

    /// Signs `claims` under `header`, whatever the header says.
    pub fn sign_with(&self, header: &Value, claims: &Value) -> String {
        let message = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &self.encoding, self.alg).unwrap();
        format!("{message}.{sig}")
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with(&self.header(), claims)
    }
}

pub const ISSUER: &str = "https://idp.test";
pub const RESOURCE: &str = "http://127.0.0.1:8080/mcp";

/// Valid claims for [`ISSUER`] and [`RESOURCE`], expiring in 5 minutes.
pub fn claims() -> Value {
    let now = now_unix();
    json!({
        "iss": ISSUER, "sub": "alice", "aud": RESOURCE,
        "exp": now + 300, "iat": now, "jti": uuid(),
        "scope": "news:read profile", "client_id": "cli-1",
    })
}

/// A unique string (distinct tokens for the same claims).
pub fn uuid() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "jti-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

pub fn jwks(keys: &[&SigningKey]) -> Value {
    json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
}

/// Records events as short strings.
#[derive(Default)]
pub struct Recorder(Mutex<Vec<String>>);

impl Observer for Recorder {
    fn observe(&self, event: &Event<'_>) {
        let line = match event {
            Event::KeysRefreshed {
                provider,
                result,
                keys,
            } => format!("keys {provider} {result} {keys}"),
            Event::Upstream {
                upstream, outcome, ..
            } => format!("upstream {upstream} {outcome}"),
            Event::CacheLookup {
                provider,
                cache,
                hit,
                ..
            } => format!(
                "cache {provider} {cache} {}",
                if *hit { "hit" } else { "miss" }
            ),
            other => format!("{other:?}"),
        };
        self.0.lock().unwrap().push(line);
    }
}

impl Recorder {
    pub fn count(&self, prefix: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with(prefix))
            .count()
    }
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

pub fn ctx_with(name: &str, observer: SharedObserver) -> ProviderContext {
    ProviderContext {
        name: name.into(),
        public_url: "http://127.0.0.1:8080".into(),
        resource: RESOURCE.into(),
        leeway: Duration::from_secs(60),
        observer,
        data_dir: std::env::temp_dir(),
    }
}

/// How the test IdP answers JWKS requests.
#[derive(Clone, Debug)]
pub enum Mode {
    Serve,
    Status(u16),
    Hang(Duration),
}

/// A JWKS + discovery server whose answers the test controls.
pub struct Idp {
    pub base: String,
    pub jwks: Mutex<Value>,
    pub mode: Mutex<Mode>,
    pub cache_control: Mutex<Option<String>>,
    pub jwks_hits: AtomicUsize,
    pub oidc_hits: AtomicUsize,
    pub rfc8414_hits: AtomicUsize,
    /// Discovery documents keyed by request path.
    pub documents: Mutex<Vec<(String, Value)>>,
}

impl Idp {
    pub fn set_keys(&self, keys: &[&SigningKey]) {
        *self.jwks.lock().unwrap() = jwks(keys);
    }
    pub fn set_jwks(&self, value: Value) {
        *self.jwks.lock().unwrap() = value;
    }
    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
    pub fn hits(&self) -> usize {
        self.jwks_hits.load(Ordering::SeqCst)
    }
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.base)
    }
    pub fn add_document(&self, path: &str, doc: Value) {
        self.documents.lock().unwrap().push((path.into(), doc));
    }
}

fn json_response(status: StatusCode, body: &Value, cache_control: Option<String>) -> Response {
    let mut builder = Response::builder()
        .status(status)
        .content_type("application/json");
    if let Some(cc) = cache_control {
        builder = builder.header("cache-control", cc);
    }
    builder.body(body.to_string())
}

/// A running server; dropping the handle does not stop it, `shutdown` does.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Stops accepting and closes connections; afterwards the port refuses.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}

pub async fn serve<E: poem::Endpoint + 'static>(app: E) -> Running {
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                app,
                async move {
                    let _ = rx.await;
                },
                Some(Duration::from_millis(200)),
            )
            .await;
    });
    Running {
        addr,
        stop: Some(tx),
        task,
    }
}

/// Starts the test IdP serving `keys` at `/jwks`.
pub async fn start_idp(keys: &[&SigningKey]) -> (Arc<Idp>, Running) {
    // Reserve the address first so the documents can name it.
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let idp = Arc::new(Idp {
        base: format!("http://{addr}"),
        jwks: Mutex::new(jwks(keys)),
        mode: Mutex::new(Mode::Serve),
        cache_control: Mutex::new(None),
        jwks_hits: AtomicUsize::new(0),
        oidc_hits: AtomicUsize::new(0),
        rfc8414_hits: AtomicUsize::new(0),
        documents: Mutex::new(Vec::new()),
    });
    let state = idp.clone();
    let jwks_ep = make(move |_req| {
        let idp = state.clone();
        async move {
            idp.jwks_hits.fetch_add(1, Ordering::SeqCst);
            let mode = idp.mode.lock().unwrap().clone();
            match mode {
                Mode::Serve => json_response(
                    StatusCode::OK,
                    &idp.jwks.lock().unwrap().clone(),
                    idp.cache_control.lock().unwrap().clone(),
                ),
                Mode::Status(code) => Response::builder()
                    .status(StatusCode::from_u16(code).unwrap())
                    .body("down"),
                Mode::Hang(d) => {
                    tokio::time::sleep(d).await;
                    json_response(StatusCode::OK, &idp.jwks.lock().unwrap().clone(), None)
                }
            }
        }
    });
    let state = idp.clone();
    let docs_ep = make(move |req: poem::Request| {
        let idp = state.clone();
        async move {
            let path = req.uri().path().to_string();
            if path.contains("openid-configuration") {
                idp.oidc_hits.fetch_add(1, Ordering::SeqCst);
            } else {
                idp.rfc8414_hits.fetch_add(1, Ordering::SeqCst);
            }
            let doc = idp
                .documents
                .lock()
                .unwrap()
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, d)| d.clone());
            match doc {
                Some(doc) => json_response(StatusCode::OK, &doc, None),
                None => Response::builder().status(StatusCode::NOT_FOUND).finish(),
            }
        }
    });
    let app = Route::new().at("/jwks", jwks_ep).at("/*path", docs_ep);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                app,
                async move {
                    let _ = rx.await;
                },
                Some(Duration::from_millis(200)),
            )
            .await;
    });
    (
        idp,
        Running {
            addr,
            stop: Some(tx),
            task,
        },
    )
}

/// Polls `cond` every 20 ms for at most `secs` seconds.
pub async fn eventually(secs: u64, mut cond: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if cond().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond().await
}
