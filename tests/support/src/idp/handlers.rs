//! The fake IdP's HTTP surface: one catch-all poem endpoint that matches
//! paths itself (they are configurable), counts and records every request,
//! applies the runtime switches and answers like a real authorization server.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use poem::http::{header, Method, StatusCode};
use poem::{Body, Request, Response};
use serde_json::{json, Value};

use super::state::{
    lock, ClientAuth, Fault, IdpEndpoint, IntrospectionCall, RecordedRequest, State, TokenCall,
};
use crate::tokens::{alg_name, mint, now};

/// The poem endpoint serving `state`.
pub(crate) fn app(state: Arc<State>) -> impl poem::Endpoint<Output = Response> {
    poem::endpoint::make(move |req: Request| {
        let state = state.clone();
        async move { handle(&state, req).await }
    })
}

pub(crate) fn json_response(status: u16, value: &Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json")
        .body(value.to_string())
}

fn oauth_error(status: u16, error: &str) -> Response {
    json_response(status, &json!({ "error": error }))
}

async fn handle(state: &State, mut req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let endpoint = state.cfg.endpoint_for(&path);
    state.count(endpoint);
    let delay = endpoint.map(|e| state.switch(e).delay).unwrap_or_default();

    let method = req.method().clone();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = req
        .take_body()
        .into_bytes_limit(1 << 20)
        .await
        .unwrap_or_default();
    let recorded = RecordedRequest {
        method: method.to_string(),
        path,
        query: req.uri().query().map(str::to_owned),
        endpoint,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    state.record_request(recorded.clone());

    let Some(endpoint) = endpoint else {
        return oauth_error(404, "not_found");
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(fault) = state.switch(endpoint).fault {
        return fault_response(fault).await;
    }

    let allowed: &[Method] = match endpoint {
        IdpEndpoint::Discovery | IdpEndpoint::Jwks => &[Method::GET],
        IdpEndpoint::Introspection | IdpEndpoint::Token => &[Method::POST],
        IdpEndpoint::Userinfo => &[Method::GET, Method::POST],
    };
    if !allowed.contains(&method) {
        let allow: Vec<&str> = allowed.iter().map(Method::as_str).collect();
        let mut response = oauth_error(405, "method_not_allowed");
        response.headers_mut().insert(
            header::ALLOW,
            allow.join(", ").parse().expect("valid Allow header"),
        );
        return response;
    }

    match endpoint {
        IdpEndpoint::Discovery => {
            if state.metadata_published(&recorded.path) {
                json_response(200, &served_discovery_document(state))
            } else {
                oauth_error(404, "not_found")
            }
        }
        IdpEndpoint::Jwks => jwks_response(state),
        IdpEndpoint::Introspection => introspect(state, &recorded, &body),
        IdpEndpoint::Userinfo => userinfo(state, &recorded),
        IdpEndpoint::Token => token(state, &recorded, &body),
    }
}

async fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::Down => oauth_error(503, "temporarily_unavailable"),
        Fault::Status(status) => oauth_error(status, "server_error"),
        Fault::Respond {
            status,
            content_type,
            body,
        } => Response::builder()
            .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .content_type(content_type)
            .body(body),
        Fault::Truncated => {
            use futures::StreamExt as _;
            let head = futures::stream::iter([Ok(b"{\"keys\":[{\"kty\":".to_vec())]);
            // A pause lets the status line, headers and first bytes go out.
            let break_off = futures::stream::once(async {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Err(std::io::Error::other("connection broken by FakeIdp"))
            });
            let chunks = head.chain(break_off);
            // The announced length is longer than what is sent, so the client
            // sees the connection end mid-body whatever the framing.
            Response::builder()
                .status(StatusCode::OK)
                .content_type("application/json")
                .header(header::CONTENT_LENGTH, "4096")
                .body(Body::from_bytes_stream(chunks))
        }
        Fault::Hang => futures::future::pending().await,
        Fault::RetryAfter {
            status,
            retry_after,
        } => {
            let mut response = oauth_error(status, "temporarily_unavailable");
            if let Ok(value) = retry_after.parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

/// The document the discovery paths serve: the one set with
/// [`FakeIdp::set_discovery_document`](super::FakeIdp::set_discovery_document),
/// else the generated one.
fn served_discovery_document(state: &State) -> Value {
    let custom = lock(&state.metadata).document.clone();
    custom.unwrap_or_else(|| discovery_document(state))
}

/// The OIDC discovery / RFC 8414 document.
pub(crate) fn discovery_document(state: &State) -> Value {
    let cfg = &state.cfg;
    let mut algs: Vec<&str> = Vec::new();
    for key in &lock(&state.keys).keys {
        let name = alg_name(key.alg());
        if !algs.contains(&name) {
            algs.push(name);
        }
    }
    let methods: Vec<&str> = cfg
        .auth_methods
        .iter()
        .filter_map(|m| m.metadata_name())
        .collect();
    json!({
        "issuer": cfg.issuer(),
        "authorization_endpoint": cfg.url(&cfg.authorization_path),
        "token_endpoint": cfg.url(&cfg.token_path),
        "jwks_uri": cfg.url(&cfg.jwks_path),
        "introspection_endpoint": cfg.url(&cfg.introspection_path),
        "userinfo_endpoint": cfg.url(&cfg.userinfo_path),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "scopes_supported": cfg.scopes_supported,
        "token_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_methods_supported": methods,
        "code_challenge_methods_supported": ["S256"],
    })
}

/// `{"keys": [published keys…, extra JWKs…]}`.
pub(crate) fn jwks_document(state: &State) -> Value {
    let mut keys: Vec<Value> = lock(&state.keys)
        .keys
        .iter()
        .map(|k| k.public_jwk().clone())
        .collect();
    keys.extend(lock(&state.extra_jwks).iter().cloned());
    json!({ "keys": keys })
}

fn jwks_response(state: &State) -> Response {
    let mut response = json_response(200, &jwks_document(state));
    if let Some(value) = lock(&state.jwks_cache_control).as_deref() {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(header::CACHE_CONTROL, value);
        }
    }
    response
}

type Form = Vec<(String, String)>;

fn parse_form(body: &[u8]) -> Form {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn field(form: &Form, name: &str) -> Option<String> {
    form.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

/// RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64.
fn form_decode(part: &str) -> String {
    url::form_urlencoded::parse(format!("x={part}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn credentials(value: &str, scheme: &str) -> Option<String> {
    let (found, rest) = value.trim().split_once(' ')?;
    found
        .eq_ignore_ascii_case(scheme)
        .then(|| rest.trim().to_owned())
}

struct Presented {
    auth: ClientAuth,
    client_id: Option<String>,
    client_secret: Option<String>,
    credentials_ok: bool,
}

fn client_auth(state: &State, req: &RecordedRequest, form: &Form) -> Presented {
    let basic = req
        .header("authorization")
        .and_then(|v| credentials(v, "Basic"))
        .map(|b64| {
            let decoded = STANDARD
                .decode(b64)
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            decoded
                .and_then(|pair| {
                    pair.split_once(':')
                        .map(|(id, secret)| (form_decode(id), form_decode(secret)))
                })
                .unwrap_or_default()
        });
    let post_secret = field(form, "client_secret");
    let post_id = field(form, "client_id");
    match (basic, post_secret) {
        (Some(_), Some(secret)) => Presented {
            auth: ClientAuth::Both,
            client_id: post_id,
            client_secret: Some(secret),
            credentials_ok: false,
        },
        (Some((id, secret)), None) => Presented {
            auth: ClientAuth::Basic,
            credentials_ok: state.cfg.client_ok(&id, &secret),
            client_id: Some(id),
            client_secret: Some(secret),
        },
        (None, Some(secret)) => Presented {
            auth: ClientAuth::Post,
            credentials_ok: post_id
                .as_deref()
                .is_some_and(|id| state.cfg.client_ok(id, &secret)),
            client_id: post_id,
            client_secret: Some(secret),
        },
        (None, None) => Presented {
            auth: ClientAuth::None,
            client_id: post_id,
            client_secret: None,
            credentials_ok: false,
        },
    }
}

/// `None` when the client is authenticated, else the error answer.
fn reject_client(state: &State, presented: &Presented) -> Option<Response> {
    match presented.auth {
        ClientAuth::Both => Some(oauth_error(400, "invalid_request")),
        auth if presented.credentials_ok && state.cfg.auth_methods.contains(&auth) => None,
        auth => {
            let mut response = oauth_error(401, "invalid_client");
            if auth == ClientAuth::Basic {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    "Basic realm=\"fake-idp\"".parse().expect("valid header"),
                );
            }
            Some(response)
        }
    }
}

fn introspect(state: &State, req: &RecordedRequest, body: &[u8]) -> Response {
    let form = parse_form(body);
    let presented = client_auth(state, req, &form);
    let token = field(&form, "token");
    let answer = token
        .as_deref()
        .and_then(|t| lock(&state.opaque).get(t).cloned());
    let rejection = reject_client(state, &presented)
        .or_else(|| token.is_none().then(|| oauth_error(400, "invalid_request")));
    state.record_introspection(IntrospectionCall {
        auth: presented.auth,
        client_id: presented.client_id,
        client_secret: presented.client_secret,
        credentials_ok: presented.credentials_ok,
        answered: rejection.is_none(),
        token,
        token_type_hint: field(&form, "token_type_hint"),
        known: answer.is_some(),
    });
    if let Some(response) = rejection {
        return response;
    }
    json_response(200, &answer.unwrap_or_else(|| json!({ "active": false })))
}

fn userinfo(state: &State, req: &RecordedRequest) -> Response {
    let bearer = req
        .header("authorization")
        .and_then(|v| credentials(v, "Bearer"));
    let challenge = |value: &str| {
        let mut response = Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .finish();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            value.parse().expect("valid header"),
        );
        response
    };
    let Some(token) = bearer else {
        return challenge("Bearer realm=\"fake-idp\"");
    };
    match lock(&state.userinfo).get(&token) {
        Some(claims) => json_response(200, claims),
        None => challenge("Bearer error=\"invalid_token\""),
    }
}

fn token(state: &State, req: &RecordedRequest, body: &[u8]) -> Response {
    let form = parse_form(body);
    let presented = client_auth(state, req, &form);
    let grant_type = field(&form, "grant_type");
    let scope = field(&form, "scope");
    let resources: Vec<String> = form
        .iter()
        .filter(|(n, _)| n == "resource")
        .map(|(_, v)| v.clone())
        .collect();
    let rejection = reject_client(state, &presented).or_else(|| match grant_type.as_deref() {
        Some("client_credentials") => None,
        Some(_) => Some(oauth_error(400, "unsupported_grant_type")),
        None => Some(oauth_error(400, "invalid_request")),
    });
    let client_id = presented.client_id.clone().unwrap_or_default();
    state.record_token_call(TokenCall {
        auth: presented.auth,
        client_id: presented.client_id,
        credentials_ok: presented.credentials_ok,
        grant_type,
        scope: scope.clone(),
        resources: resources.clone(),
        issued: rejection.is_none(),
    });
    if let Some(response) = rejection {
        return response;
    }

    let ttl = state.cfg.token_ttl;
    let iat = now();
    let mut claims = json!({
        "iss": state.cfg.issuer(),
        "sub": client_id,
        "client_id": client_id,
        "iat": iat,
        "exp": iat + ttl,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    match resources.as_slice() {
        [] => {}
        [one] => claims["aud"] = json!(one),
        many => claims["aud"] = json!(many),
    }
    if let Some(scope) = &scope {
        claims["scope"] = json!(scope);
    }
    let key = lock(&state.keys).current().clone();
    let access_token = mint(&key, json!({ "typ": "at+jwt" }), &claims);
    let mut answer = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
    });
    if let Some(scope) = scope {
        answer["scope"] = json!(scope);
    }
    let mut response = json_response(200, &answer);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        "no-store".parse().expect("valid header"),
    );
    response
}
