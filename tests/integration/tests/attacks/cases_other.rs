//! Attack cases against the dev issuer and introspection, transport tricks,
//! cross-provider replay, and tool-call bodies that try to dodge per-tool scopes.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use warden_test_support::host::TestHost;
use warden_test_support::idp::FakeIdp;
use warden_test_support::tokens::{self, TestKey};

use super::Expect::{Accepted, BadRequest, InsufficientScope, InvalidToken, NoToken};
use super::{merged, Case};

/// DER prefix of a P-256 `SubjectPublicKeyInfo` (followed by `04 || x || y`).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

fn unb64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .expect("base64url")
}

/// Forgeries against the embedded dev issuer (ES256, `typ: at+jwt`).
pub(crate) fn dev_cases(host: &TestHost) -> Vec<Case> {
    let dev = host.app().dev.as_ref().expect("dev provider");
    let mcp = host.mcp_url();
    let now = tokens::now();
    let good = json!({
        "iss": dev.issuer(), "aud": mcp, "sub": "mallory", "scope": "news:read",
        "client_id": "warden-tests", "iat": now, "exp": now + 600,
    });
    let claims = |over: Value| merged(&good, over);
    let key = EncodingKey::from_ec_pem(&std::fs::read(dev.key_path()).expect("dev key"))
        .expect("dev key parses");
    let resign = |typ: &str, extra: Option<(&str, Value)>, c: Value| {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(dev.kid().to_owned());
        header.typ = Some(typ.to_owned());
        if let Some((name, value)) = extra {
            // jsonwebtoken's Header has no crit member: build it by hand.
            let mut h = serde_json::to_value(&header).unwrap();
            h[name] = value;
            let input = format!(
                "{}.{}",
                tokens::b64url(h.to_string().as_bytes()),
                tokens::b64url(c.to_string().as_bytes())
            );
            let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::ES256).unwrap();
            return format!("{input}.{sig}");
        }
        jsonwebtoken::encode(&header, &c, &key).unwrap()
    };
    let jwk = dev.jwks()["keys"][0].clone();
    let point: Vec<u8> = [
        vec![0x04],
        unb64(jwk["x"].as_str().unwrap()),
        unb64(jwk["y"].as_str().unwrap()),
    ]
    .concat();
    let spki: Vec<u8> = [P256_SPKI_PREFIX.to_vec(), point.clone()].concat();
    let pem = tokens::pem("PUBLIC KEY", &spki);
    let hs = |secret: &[u8]| {
        tokens::hs_signed(
            "HS256",
            secret,
            json!({"typ": "at+jwt", "kid": dev.kid()}),
            &good,
        )
    };
    let none = |alg: &str| {
        tokens::unsigned(
            &json!({"alg": alg, "typ": "at+jwt", "kid": dev.kid()}),
            &good,
            "",
        )
    };
    vec![
        Case::bearer(
            "dev control: minted token",
            host.dev_token("alice", "news:read"),
            Accepted,
        ),
        Case::bearer(
            "dev control: re-signed claims",
            resign("at+jwt", None, good.clone()),
            Accepted,
        ),
        Case::bearer("dev alg none", none("none"), InvalidToken),
        Case::bearer("dev alg NONE", none("NONE"), InvalidToken),
        Case::bearer(
            "dev HS256 with its public key as SPKI PEM",
            hs(pem.as_bytes()),
            InvalidToken,
        ),
        Case::bearer(
            "dev HS256 with its public key as SPKI DER",
            hs(&spki),
            InvalidToken,
        ),
        Case::bearer(
            "dev HS256 with its JWK as JSON",
            hs(jwk.to_string().as_bytes()),
            InvalidToken,
        ),
        Case::bearer("dev HS256 with the raw EC point", hs(&point), InvalidToken),
        Case::bearer(
            "dev foreign EC key reusing the dev kid",
            tokens::mint(
                &TestKey::es256().with_kid(dev.kid()),
                json!({"typ": "at+jwt"}),
                &good,
            ),
            InvalidToken,
        ),
        Case::bearer(
            "dev token for another audience",
            host.dev_token_with(
                "mallory",
                "news:read",
                Duration::from_secs(600),
                Some("https://other.example/mcp".into()),
            ),
            InvalidToken,
        ),
        Case::bearer(
            "dev token expired",
            resign(
                "at+jwt",
                None,
                claims(json!({"exp": now - 3600, "iat": now - 7200})),
            ),
            InvalidToken,
        ),
        Case::bearer(
            "dev token typ JWT",
            resign("JWT", None, good.clone()),
            InvalidToken,
        ),
        Case::bearer(
            "dev token with crit",
            resign("at+jwt", Some(("crit", json!(["exp"]))), good.clone()),
            InvalidToken,
        ),
        Case::bearer(
            "dev token iss with trailing slash",
            resign(
                "at+jwt",
                None,
                claims(json!({"iss": format!("{}/", dev.issuer())})),
            ),
            InvalidToken,
        ),
        Case::bearer(
            "dev token without news:read",
            host.dev_token("mallory", "profile"),
            InsufficientScope,
        ),
    ]
}

/// Introspection answers that are active but must still be refused.
pub(crate) fn introspection_cases(idp: &FakeIdp, mcp: &str) -> Vec<Case> {
    let now = tokens::now();
    let base = json!({
        "active": true, "scope": "news:read", "client_id": idp.client_id(), "sub": "mallory",
        "aud": mcp, "iss": idp.issuer(), "iat": now, "exp": now + 300, "token_type": "Bearer",
    });
    let opaque = |over: Value| idp.register_opaque(merged(&base, over));
    vec![
        Case::bearer(
            "introspection control: active access token",
            opaque(json!({})),
            Accepted,
        ),
        Case::bearer(
            "introspection active:true for a refresh token",
            opaque(json!({"token_type": "refresh_token"})),
            InvalidToken,
        ),
        Case::bearer(
            "introspection active:true, token_type urn refresh_token",
            opaque(json!({"token_type": "urn:ietf:params:oauth:token-type:refresh_token"})),
            InvalidToken,
        ),
        Case::bearer(
            "introspection active:true for another audience",
            opaque(json!({"aud": "https://other.example/mcp"})),
            InvalidToken,
        ),
        Case::bearer(
            "introspection active:true, aud list without us",
            opaque(json!({"aud": ["https://other.example/mcp", "api://x"]})),
            InvalidToken,
        ),
        Case::bearer(
            "introspection active:true without aud",
            opaque(json!({"aud": null})),
            InvalidToken,
        ),
        Case::bearer(
            "introspection active:true from another issuer",
            opaque(json!({"iss": "https://evil.example"})),
            InvalidToken,
        ),
        Case::bearer(
            "introspection active:true but exp in the past",
            opaque(json!({"exp": now - 3600, "iat": now - 7200})),
            InvalidToken,
        ),
        Case::bearer(
            "introspection active:false",
            opaque(json!({"active": false})),
            InvalidToken,
        ),
        Case::bearer("introspection unknown token", "u".repeat(40), InvalidToken),
        Case::bearer(
            "introspection active without news:read",
            opaque(json!({"scope": "profile"})),
            InsufficientScope,
        ),
        Case::bearer(
            "introspection scope news:* with wildcards off",
            opaque(json!({"scope": "news:*"})),
            InsufficientScope,
        ),
    ]
}

/// Where and how the token travels.
pub(crate) fn transport_cases(valid: &str) -> Vec<Case> {
    let v = valid;
    vec![
        Case::bare("no Authorization header", NoToken),
        Case::header("Authorization Basic", "Basic dXNlcjpwYXNz", NoToken),
        Case::header(
            "Authorization Basic carrying the token",
            &format!("Basic {v}"),
            NoToken,
        )
        .with_secret(v),
        Case::header("token without any scheme", v, NoToken).with_secret(v),
        Case::header(
            "scheme Token instead of Bearer",
            &format!("Token {v}"),
            NoToken,
        )
        .with_secret(v),
        Case::header(
            "scheme Bearer: with a colon",
            &format!("Bearer: {v}"),
            NoToken,
        )
        .with_secret(v),
        Case::header("Bearer without a token", "Bearer", InvalidToken),
        Case::header(
            "Bearer, a comma and the token",
            &format!("Bearer {v},"),
            InvalidToken,
        )
        .with_secret(v),
        Case::header(
            "Bearer token plus a second word",
            &format!("Bearer {v} extra"),
            InvalidToken,
        )
        .with_secret(v),
        Case::header(
            "Bearer with a quoted token",
            &format!("Bearer \"{v}\""),
            InvalidToken,
        )
        .with_secret(v),
        Case::header(
            "lowercase bearer is accepted",
            &format!("bearer {v}"),
            Accepted,
        ),
        Case::header(
            "uppercase BEARER is accepted",
            &format!("BEARER {v}"),
            Accepted,
        ),
        Case::header(
            "mixed-case bEaReR is accepted",
            &format!("bEaReR {v}"),
            Accepted,
        ),
        Case::header(
            "several spaces after Bearer are accepted",
            &format!("Bearer   {v}"),
            Accepted,
        ),
        Case::bearer("two Authorization headers", v, BadRequest)
            .with_header("authorization", &format!("Bearer {v}")),
        Case::bearer("two Authorization headers, second Basic", v, BadRequest)
            .with_header("authorization", "Basic dXNlcjpwYXNz"),
        Case::bare("token in the query string only", BadRequest)
            .with_query(&format!("access_token={v}"))
            .with_secret(v),
        Case::bearer("token in the query string and the header", v, BadRequest)
            .with_query(&format!("access_token={v}")),
        Case::bare("empty access_token query parameter", BadRequest)
            .with_query("x=1&access_token="),
        Case::bare("token in a cookie is ignored", NoToken)
            .with_header("cookie", &format!("access_token={v}"))
            .with_secret(v),
        Case::bare("Authorization cookie is ignored", NoToken)
            .with_header("cookie", &format!("Authorization=Bearer%20{v}"))
            .with_secret(v),
        Case::bare("token as a form body parameter is ignored", NoToken)
            .with_body(
                "application/x-www-form-urlencoded",
                &format!("access_token={v}"),
            )
            .with_secret(v),
        Case::bare("X-Access-Token header is ignored", NoToken)
            .with_header("x-access-token", v)
            .with_secret(v),
        Case::bare("Proxy-Authorization Bearer is ignored", NoToken)
            .with_header("proxy-authorization", &format!("Bearer {v}"))
            .with_secret(v),
    ]
}

/// Tokens of one deployment presented to another (all sent to host B).
pub(crate) fn replay_cases(
    idp_a: &FakeIdp,
    idp_b: &FakeIdp,
    host_a: &TestHost,
    host_b: &TestHost,
) -> Vec<Case> {
    let mcp_b = host_b.mcp_url();
    let a_key = idp_a.current_key();
    let b_es = idp_b.key(Algorithm::ES256);
    let a_claims = idp_a.claims(mcp_b.as_str(), "mallory", "news:read");
    let relabelled = merged(&a_claims, json!({"iss": idp_b.issuer()}));
    let opaque_a = idp_a.register_active("mallory", "news:read", mcp_b.as_str());
    vec![
        Case::bearer(
            "replay control: IdP B token at host B",
            idp_b.access_token(mcp_b.as_str(), "alice", "news:read"),
            Accepted,
        ),
        Case::bearer(
            "IdP A token (audience B) at host B, which only trusts IdP B",
            idp_a.access_token(mcp_b.as_str(), "mallory", "news:read"),
            InvalidToken,
        ),
        Case::bearer(
            "IdP A token relabelled with IdP B's issuer",
            tokens::mint(&a_key, json!({"typ": "at+jwt"}), &relabelled),
            InvalidToken,
        ),
        Case::bearer(
            "IdP A key reusing IdP B's ES256 kid and issuer",
            tokens::mint(
                &a_key.with_kid(b_es.kid()),
                json!({"typ": "at+jwt"}),
                &relabelled,
            ),
            InvalidToken,
        ),
        Case::bearer(
            "host A dev token minted for host B's audience",
            host_a.dev_token_with(
                "mallory",
                "news:read",
                Duration::from_secs(600),
                Some(mcp_b.clone()),
            ),
            InvalidToken,
        ),
        Case::bearer(
            "host A dev token for host A",
            host_a.dev_token("mallory", "news:read"),
            InvalidToken,
        ),
        Case::bearer(
            "IdP A opaque token at host B's introspection",
            opaque_a,
            InvalidToken,
        ),
    ]
}

/// `tools/call whoami` bodies shaped to dodge the pre-MCP scope check.
pub(crate) fn smuggled_tool_calls() -> Vec<(String, String)> {
    let call = |params: &str| {
        format!(r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{params}}}"#)
    };
    vec![
        ("plain tools/call".into(), call(r#"{"name":"whoami","arguments":{}}"#)),
        (
            "duplicate params member".into(),
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"nope","arguments":{}},"params":{"name":"whoami","arguments":{}}}"#.into(),
        ),
        ("duplicate name member".into(), call(r#"{"name":"nope","name":"whoami","arguments":{}}"#)),
        (
            "duplicate method member".into(),
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/list","method":"tools/call","params":{"name":"whoami","arguments":{}}}"#.into(),
        ),
        (
            "JSON-RPC batch".into(),
            format!("[{}]", call(r#"{"name":"whoami","arguments":{}}"#)),
        ),
        ("escaped method and name".into(), r#"{"jsonrpc":"2.0","id":7,"method":"tools\/call","params":{"name":"who\u0061mi","arguments":{}}}"#.into()),
        ("params as an array".into(), call(r#"["whoami"]"#)),
        ("name as an object".into(), call(r#"{"name":{"0":"whoami"},"arguments":{}}"#)),
        ("byte-order mark before the body".into(), format!("\u{feff}{}", call(r#"{"name":"whoami","arguments":{}}"#))),
        ("name with trailing NUL".into(), call(r#"{"name":"whoami\u0000","arguments":{}}"#)),
        ("name in other case".into(), call(r#"{"name":"WHOAMI","arguments":{}}"#)),
    ]
}
