//! JWT attack cases against the `kind = "jwt"` provider (RFC 8725 and friends).

use jsonwebtoken::Algorithm;
use serde_json::{json, Value};
use warden_test_support::idp::{FakeIdp, Trap};
use warden_test_support::tokens::{self, TestKey};

use super::Expect::{Accepted, InsufficientScope, InvalidToken};
use super::{merged, Case};

/// Header overrides with `typ: at+jwt` unless `extra` says otherwise.
fn hdr(extra: Value) -> Value {
    let mut h = json!({ "typ": "at+jwt" });
    if let Value::Object(map) = extra {
        for (k, v) in map {
            h[k] = v;
        }
    }
    h
}

/// Decodes base64url (the JWK members).
fn unb64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .expect("base64url")
}

/// Every header, signature, algorithm, claim, scope and format attack.
pub(crate) fn jwt_cases(idp: &FakeIdp, mcp: &str) -> Vec<Case> {
    let rs = idp.key(Algorithm::RS256);
    let es = idp.key(Algorithm::ES256);
    let now = tokens::now();
    let good = idp.claims(mcp, "mallory", "news:read");
    let claims = |over: Value| merged(&good, over);
    let sign = |key: &TestKey, extra: Value, c: Value| tokens::mint(key, hdr(extra), c);
    let valid = sign(&rs, Value::Null, good.clone());
    let mut cases = vec![
        Case::bearer("control: valid RS256 at+jwt", valid.as_str(), Accepted),
        Case::bearer(
            "control: valid ES256 at+jwt",
            sign(&es, Value::Null, good.clone()),
            Accepted,
        ),
        Case::bearer(
            "control: typ application/at+jwt is the same media type",
            sign(&rs, json!({"typ": "application/at+jwt"}), good.clone()),
            Accepted,
        ),
    ];

    // alg "none", every casing, with and without a signature part.
    for alg in ["none", "None", "NONE", "nOnE", "NoNe"] {
        let header = json!({"alg": alg, "typ": "at+jwt", "kid": rs.kid()});
        cases.push(Case::bearer(
            format!("alg {alg:?}, empty signature"),
            tokens::unsigned(&header, &good, ""),
            InvalidToken,
        ));
    }
    cases.push(Case::bearer(
        "alg none keeping the original RS256 signature",
        tokens::tamper_header(
            &valid,
            &json!({"alg": "none", "typ": "at+jwt", "kid": rs.kid()}),
        ),
        InvalidToken,
    ));
    cases.push(Case::bearer(
        "alg none with a junk signature",
        tokens::unsigned(&json!({"alg": "none", "typ": "at+jwt"}), &good, "AAAA"),
        InvalidToken,
    ));
    cases.push(Case::bearer(
        "alg header missing",
        sign(&rs, json!({"alg": null}), good.clone()),
        InvalidToken,
    ));
    cases.push(Case::bearer(
        "alg empty string",
        sign(&rs, json!({"alg": ""}), good.clone()),
        InvalidToken,
    ));
    cases.push(Case::bearer(
        "alg as an array",
        sign(&rs, json!({"alg": ["RS256"]}), good.clone()),
        InvalidToken,
    ));

    // HMAC key confusion: the provider's public key as the HMAC secret.
    let hs = |alg: &str, secret: &[u8], kid: Option<&str>| {
        let extra = match kid {
            Some(k) => json!({"typ": "at+jwt", "kid": k}),
            None => json!({"typ": "at+jwt"}),
        };
        tokens::hs_signed(alg, secret, extra, &good)
    };
    let rs_pem = rs.public_key_pem();
    let rs_pkcs1_pem = rs.rsa_public_key_pkcs1_pem().expect("RSA key");
    let rs_pkcs1_der = rs.rsa_public_key_pkcs1_der().expect("RSA key").to_vec();
    let hmac: Vec<(&str, &str, Vec<u8>, Option<&str>)> = vec![
        (
            "HS256 with the RSA public key as SPKI PEM",
            "HS256",
            rs_pem.clone().into_bytes(),
            Some(rs.kid()),
        ),
        (
            "HS256 with the RSA public key as PKCS#1 PEM",
            "HS256",
            rs_pkcs1_pem.into_bytes(),
            Some(rs.kid()),
        ),
        (
            "HS256 with the RSA public key as SPKI DER",
            "HS256",
            rs.public_key_der().to_vec(),
            Some(rs.kid()),
        ),
        (
            "HS256 with the RSA public key as PKCS#1 DER",
            "HS256",
            rs_pkcs1_der,
            Some(rs.kid()),
        ),
        (
            "HS256 with the RSA public JWK as JSON",
            "HS256",
            rs.public_jwk_json().into_bytes(),
            Some(rs.kid()),
        ),
        (
            "HS256 with the RSA modulus bytes",
            "HS256",
            unb64(rs.public_jwk()["n"].as_str().unwrap()),
            Some(rs.kid()),
        ),
        (
            "HS256 with the RSA PEM and no kid",
            "HS256",
            rs_pem.clone().into_bytes(),
            None,
        ),
        (
            "HS384 with the RSA public key as SPKI PEM",
            "HS384",
            rs_pem.clone().into_bytes(),
            Some(rs.kid()),
        ),
        (
            "HS384 with the RSA public key as SPKI DER",
            "HS384",
            rs.public_key_der().to_vec(),
            Some(rs.kid()),
        ),
        (
            "HS384 with the RSA public JWK as JSON",
            "HS384",
            rs.public_jwk_json().into_bytes(),
            Some(rs.kid()),
        ),
        (
            "HS512 with the RSA public key as SPKI PEM",
            "HS512",
            rs_pem.into_bytes(),
            Some(rs.kid()),
        ),
        (
            "HS256 with the EC public key as SPKI PEM",
            "HS256",
            es.public_key_pem().into_bytes(),
            Some(es.kid()),
        ),
        (
            "HS256 with the EC public JWK as JSON",
            "HS256",
            es.public_jwk_json().into_bytes(),
            Some(es.kid()),
        ),
        (
            "HS256 with an empty secret",
            "HS256",
            Vec::new(),
            Some(rs.kid()),
        ),
    ];
    for (name, alg, secret, kid) in hmac {
        cases.push(Case::bearer(name, hs(alg, &secret, kid), InvalidToken));
    }

    // Right key family, wrong algorithm for the published key.
    cases.push(Case::bearer(
        "PS256 signature under an RS256-only JWK",
        tokens::mint(
            &rs.for_alg(Algorithm::PS256).with_kid(rs.kid()),
            hdr(Value::Null),
            &good,
        ),
        InvalidToken,
    ));
    cases.push(Case::bearer(
        "RS512 (not in the allow-list) with the real RSA key",
        tokens::mint(
            &rs.for_alg(Algorithm::RS512).with_kid(rs.kid()),
            hdr(Value::Null),
            &good,
        ),
        InvalidToken,
    ));
    cases.push(Case::bearer(
        "ES256 signature claiming alg ES384",
        sign(&es, json!({"alg": "ES384"}), good.clone()),
        InvalidToken,
    ));
    cases.push(Case::bearer(
        "RS256 header on the ES256 key's kid",
        sign(&rs, json!({"kid": es.kid()}), good.clone()),
        InvalidToken,
    ));

    // Signatures that are not the IdP's.
    let foreign_rsa = TestKey::generate(Algorithm::RS256);
    cases.push(Case::bearer(
        "foreign RSA key reusing the real RS256 kid",
        tokens::mint(&foreign_rsa.with_kid(rs.kid()), hdr(Value::Null), &good),
        InvalidToken,
    ));
    cases.push(Case::bearer(
        "foreign EC key reusing the real ES256 kid",
        tokens::mint(
            &TestKey::es256().with_kid(es.kid()),
            hdr(Value::Null),
            &good,
        ),
        InvalidToken,
    ));
    cases.push(Case::bearer(
        "foreign key without kid",
        tokens::mint(&TestKey::es256(), hdr(json!({"kid": null})), &good),
        InvalidToken,
    ));
    cases.push(Case::bearer(
        "claims tampered to add scopes (signature kept)",
        tokens::tamper_claims(&valid, &claims(json!({"scope": "news:read profile admin"}))),
        InvalidToken,
    ));
    cases.push(Case::bearer(
        "signature stripped",
        tokens::strip_signature(&valid),
        InvalidToken,
    ));
    cases.push(Case::bearer(
        "one signature bit flipped",
        tokens::corrupt_signature(&valid),
        InvalidToken,
    ));

    // Hostile kid values (signed by a foreign key: they must not find a key).
    let attacker = TestKey::es256();
    let long_kid = "k".repeat(4000);
    let kids: Vec<(&str, Value)> = vec![
        ("kid path traversal", json!("../../../../../../dev/null")),
        ("kid absolute file path", json!("/etc/passwd")),
        ("kid SQL injection", json!("' OR '1'='1' --")),
        ("kid SQL union", json!("x' UNION SELECT 'secret' --")),
        ("kid empty string", json!("")),
        ("kid 4000 characters", json!(long_kid)),
        ("kid with NUL and CRLF", json!("a\u{0}b\r\nSet-Cookie: x=1")),
        ("kid as a number", json!(1)),
        ("kid as an object", json!({"$ne": null})),
        ("kid URL", json!("http://127.0.0.1:1/jwks")),
    ];
    for (name, kid) in kids {
        cases.push(Case::bearer(
            name,
            tokens::mint(&attacker, hdr(json!({"kid": kid})), &good),
            InvalidToken,
        ));
    }

    // crit: refused even with a genuine signature.
    cases.push(Case::bearer(
        "crit [\"exp\"] on a genuinely signed token",
        sign(&rs, json!({"crit": ["exp"]}), good.clone()),
        InvalidToken,
    ));
    cases.push(Case::bearer(
        "crit [] (empty) on a genuinely signed token",
        sign(&rs, json!({"crit": []}), good.clone()),
        InvalidToken,
    ));
    cases.push(Case::bearer(
        "crit [\"b64\"] with b64 false",
        sign(&rs, json!({"crit": ["b64"], "b64": false}), good.clone()),
        InvalidToken,
    ));

    // Lifetime, issuer and audience claims, all genuinely signed.
    let signed_claims: Vec<(&str, Value)> = vec![
        (
            "expired an hour ago",
            json!({"exp": now - 3600, "iat": now - 7200}),
        ),
        (
            "expired just beyond the 60 s leeway",
            json!({"exp": now - 120}),
        ),
        ("nbf an hour in the future", json!({"nbf": now + 3600})),
        ("nbf beyond the leeway (5 min)", json!({"nbf": now + 300})),
        ("exp missing", json!({"exp": null})),
        ("exp as a string", json!({"exp": (now + 600).to_string()})),
        ("iat a day in the future", json!({"iat": now + 86_400})),
        ("aud missing", json!({"aud": null})),
        (
            "aud another resource",
            json!({"aud": "https://other.example/mcp"}),
        ),
        (
            "aud list without us",
            json!({"aud": ["https://other.example/mcp", "urn:other"]}),
        ),
        (
            "aud is our origin, not the MCP URL",
            json!({"aud": mcp.trim_end_matches("/mcp")}),
        ),
        (
            "aud our URL with a suffix",
            json!({"aud": format!("{mcp}-admin")}),
        ),
        ("aud as a number", json!({"aud": 42})),
    ];
    for (name, over) in signed_claims {
        cases.push(Case::bearer(
            name,
            sign(&rs, Value::Null, claims(over)),
            InvalidToken,
        ));
    }
    for (name, iss) in [
        ("iss another issuer", json!("https://evil.example")),
        ("iss missing", Value::Null),
        (
            "iss with a trailing slash",
            json!(format!("{}/", idp.issuer())),
        ),
        ("iss in upper case", json!(idp.issuer().to_uppercase())),
        ("iss as an array holding ours", json!([idp.issuer()])),
    ] {
        cases.push(Case::bearer(
            name,
            sign(&rs, Value::Null, claims(json!({"iss": iss}))),
            InvalidToken,
        ));
    }

    // Scopes: genuinely signed, valid tokens that lack news:read.
    for (name, scope) in [
        ("scope missing", Value::Null),
        ("scope empty", json!("")),
        ("scope smuggling news:read2", json!("news:read2")),
        ("scope wildcard news:* with wildcards off", json!("news:*")),
        ("scope bare wildcard *", json!("*")),
        ("scope upper case NEWS:READ", json!("NEWS:READ")),
        ("scope mixed case News:Read", json!("News:Read")),
        (
            "scope comma-joined profile,news:read",
            json!("profile,news:read"),
        ),
        ("scope prefix news:rea", json!("news:rea")),
        ("scope with trailing colon news:read:", json!("news:read:")),
    ] {
        cases.push(Case::bearer(
            name,
            sign(&rs, Value::Null, claims(json!({"scope": scope}))),
            InsufficientScope,
        ));
    }

    // typ required: at+jwt.
    for (name, typ) in [
        ("typ JWT where at+jwt is required", json!("JWT")),
        ("typ missing where at+jwt is required", Value::Null),
        ("typ application/jwt", json!("application/jwt")),
        ("typ at+jwt2", json!("at+jwt2")),
        ("typ as a number", json!(1)),
    ] {
        cases.push(Case::bearer(
            name,
            sign(&rs, json!({"typ": typ}), good.clone()),
            InvalidToken,
        ));
    }

    // Format.
    let (h, p) = {
        let mut parts = valid.split('.');
        (
            parts.next().unwrap().to_owned(),
            parts.next().unwrap().to_owned(),
        )
    };
    let b64 = |bytes: &[u8]| tokens::b64url(bytes);
    for (name, token) in [
        ("truncated to header.payload", format!("{h}.{p}")),
        ("truncated to the header", h.clone()),
        ("extra fourth segment", format!("{valid}.AAAA")),
        (
            "five segments (JWE shape)",
            format!("{h}.{p}.AAAA.BBBB.CCCC"),
        ),
        (
            "bad base64url in the header (+ and /)",
            format!("ab+/cd.{p}.AAAA"),
        ),
        ("standard base64 with padding", format!("{h}==.{p}.AAAA")),
        ("non-JSON header", format!("{}.{p}.AAAA", b64(b"not json"))),
        (
            "header is a JSON array",
            format!("{}.{p}.AAAA", b64(b"[\"RS256\"]")),
        ),
        (
            "non-JSON payload",
            format!("{h}.{}.AAAA", b64(b"{not json")),
        ),
        (
            "payload is a JSON string",
            format!("{h}.{}.AAAA", b64(b"\"alice\"")),
        ),
        ("empty parts", "..".to_owned()),
        ("only dots", "....".to_owned()),
        ("garbage opaque string", "definitely-not-a-token".to_owned()),
    ] {
        cases.push(Case::bearer(name, token, InvalidToken));
    }
    cases
}

/// jku / x5u / embedded jwk / x5c headers naming attacker keys.
pub(crate) fn key_header_cases(
    idp: &FakeIdp,
    mcp: &str,
    trap: &Trap,
    attacker: &TestKey,
) -> Vec<Case> {
    let rs = idp.key(Algorithm::RS256);
    let good = idp.claims(mcp, "mallory", "news:read");
    let mint = |extra: Value, key: &TestKey| tokens::mint(key, hdr(extra), &good);
    let jku = trap.url_for("/jwks.json");
    let x5u = trap.url_for("/cert.pem");
    vec![
        Case::bearer(
            "jku to an attacker JWKS, attacker kid",
            mint(json!({"jku": jku}), attacker),
            InvalidToken,
        ),
        Case::bearer(
            "jku to an attacker JWKS, real kid",
            mint(json!({"jku": jku, "kid": rs.kid()}), attacker),
            InvalidToken,
        ),
        Case::bearer(
            "x5u to an attacker certificate",
            mint(json!({"x5u": x5u}), attacker),
            InvalidToken,
        ),
        Case::bearer(
            "embedded jwk with the attacker's key",
            mint(json!({"jwk": attacker.public_jwk()}), attacker),
            InvalidToken,
        ),
        Case::bearer(
            "embedded jwk, no kid",
            mint(json!({"jwk": attacker.public_jwk(), "kid": null}), attacker),
            InvalidToken,
        ),
        Case::bearer(
            "x5c with a junk chain",
            mint(json!({"x5c": ["MIIBfake"], "kid": null}), attacker),
            InvalidToken,
        ),
        Case::bearer(
            "jku + jwk + x5u together",
            mint(
                json!({"jku": jku, "x5u": x5u, "jwk": attacker.public_jwk()}),
                attacker,
            ),
            InvalidToken,
        ),
        Case::bearer(
            "jku on a genuinely signed token is ignored",
            mint(json!({"jku": jku}), &rs),
            Accepted,
        ),
    ]
}

/// Tokens over the 8 KiB cap (well-formed and signed, so only the size is wrong).
pub(crate) fn huge_token_cases(idp: &FakeIdp, mcp: &str) -> Vec<Case> {
    let rs = idp.key(Algorithm::RS256);
    let good = idp.claims(mcp, "mallory", "news:read");
    let padded = |n: usize| merged(&good, json!({ "pad": "x".repeat(n) }));
    let attacker = TestKey::es256();
    vec![
        Case::bearer(
            "signed token of 8.2 KiB (valid otherwise)",
            tokens::mint(&rs, hdr(Value::Null), padded(6_000)),
            InvalidToken,
        ),
        Case::bearer(
            "signed token of 12 KiB",
            tokens::mint(&rs, hdr(Value::Null), padded(9_000)),
            InvalidToken,
        ),
        Case::bearer(
            "9 KiB token with an unknown kid",
            tokens::mint(&attacker, hdr(json!({"kid": "never-seen"})), padded(7_000)),
            InvalidToken,
        ),
        Case::bearer("9 KiB opaque token", "o".repeat(9 * 1024), InvalidToken),
    ]
}
