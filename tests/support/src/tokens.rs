//! Key material and JWT minting, no server involved.
//!
//! [`TestKey`] holds a real asymmetric key pair (RSA 2048, P-256, P-384 or
//! Ed25519, generated with aws-lc-rs) together with its kid, its public JWK
//! and PEM/DER forms of its public key. [`mint`] signs a compact JWS with it
//! ([`sign_with_header`] under a header given whole); [`jwk_set`] publishes
//! keys; [`unsigned`], [`hs_signed`] and the `tamper_*` helpers build the
//! hostile tokens an attack corpus needs.
//!
//! RSA key generation is slow in debug builds (0.2–1 s), so [`TestKey::new`]
//! draws RSA key material from a small process-wide pool (at most
//! [`POOL_SIZE`] RSA key pairs per test binary) and gives every `TestKey` its
//! own fresh kid. Two RSA `TestKey`s made by `new` may therefore share key
//! material (EC and Ed25519 keys are cheap and always fresh). When a test
//! needs an RSA key that is certainly unrelated to every other key (an
//! attacker's key, a "foreign" IdP), use [`TestKey::generate`].
//!
//! ```
//! use jsonwebtoken::Algorithm;
//! use warden_test_support::tokens::{mint, standard_claims, TestKey};
//!
//! let key = TestKey::new(Algorithm::ES256);
//! let claims = standard_claims("https://issuer.test", "https://mcp.test/mcp", "alice", "read", 300);
//! let jwt = mint(&key, serde_json::json!({"typ": "at+jwt"}), &claims);
//! let decoded = jsonwebtoken::decode::<serde_json::Value>(
//!     &jwt,
//!     &key.decoding_key(),
//!     &{
//!         let mut v = jsonwebtoken::Validation::new(Algorithm::ES256);
//!         v.set_audience(&["https://mcp.test/mcp"]);
//!         v
//!     },
//! )
//! .unwrap();
//! assert_eq!(decoded.claims["sub"], "alice");
//! ```

mod material;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde::Serialize;
use serde_json::{json, Map, Value};

pub use material::{alg_name, KeyKind, POOL_SIZE};
use material::{pool, Material};

/// A real asymmetric signing key with a kid and its public JWK.
///
/// Cloning is cheap (the key material is shared).
#[derive(Clone)]
pub struct TestKey {
    alg: Algorithm,
    kid: String,
    material: Arc<Material>,
    jwk: Value,
}

impl std::fmt::Debug for TestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("kind", &self.material.kind)
            .finish_non_exhaustive()
    }
}

fn fresh_kid(alg: Algorithm) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{}-{}", alg_name(alg).to_ascii_lowercase(), &id[..12])
}

impl TestKey {
    /// A key for `alg` with a fresh random kid; key material comes from the
    /// process-wide pool (see the module docs).
    ///
    /// # Panics
    /// For HMAC algorithms.
    pub fn new(alg: Algorithm) -> TestKey {
        Self::pooled_excluding(alg, &[])
    }

    /// `TestKey::new(Algorithm::RS256)` (pooled RSA material).
    pub fn rs256() -> TestKey {
        Self::new(Algorithm::RS256)
    }

    /// `TestKey::new(Algorithm::PS256)` (pooled RSA material).
    pub fn ps256() -> TestKey {
        Self::new(Algorithm::PS256)
    }

    /// `TestKey::new(Algorithm::ES256)` (always fresh material).
    pub fn es256() -> TestKey {
        Self::new(Algorithm::ES256)
    }

    /// `TestKey::new(Algorithm::ES384)` (always fresh material).
    pub fn es384() -> TestKey {
        Self::new(Algorithm::ES384)
    }

    /// `TestKey::new(Algorithm::EdDSA)`, Ed25519 (always fresh material).
    pub fn eddsa() -> TestKey {
        Self::new(Algorithm::EdDSA)
    }

    /// Like [`TestKey::new`], but the key material is guaranteed to differ
    /// from that of every key in `exclude` (used for key rotation).
    pub fn pooled_excluding(alg: Algorithm, exclude: &[&TestKey]) -> TestKey {
        let material = pool().pick(KeyKind::for_alg(alg), exclude);
        Self::from_material(alg, fresh_kid(alg), material)
    }

    /// A key with freshly generated material that no other `TestKey` shares:
    /// use it for attackers and foreign issuers. Slow for RSA in debug builds.
    pub fn generate(alg: Algorithm) -> TestKey {
        let material = Arc::new(Material::generate(KeyKind::for_alg(alg)));
        Self::from_material(alg, fresh_kid(alg), material)
    }

    fn from_material(alg: Algorithm, kid: String, material: Arc<Material>) -> TestKey {
        let mut jwk = material.jwk_params.clone();
        jwk.insert("use".into(), json!("sig"));
        jwk.insert("alg".into(), json!(alg_name(alg)));
        jwk.insert("kid".into(), json!(kid));
        TestKey {
            alg,
            kid,
            material,
            jwk: Value::Object(jwk),
        }
    }

    /// The same key material and algorithm under another kid.
    pub fn with_kid(&self, kid: impl Into<String>) -> TestKey {
        Self::from_material(self.alg, kid.into(), self.material.clone())
    }

    /// The same key material used for another algorithm of the same family
    /// (e.g. an RS256 key as PS256), with a fresh kid.
    ///
    /// # Panics
    /// If `alg` needs a different key kind.
    pub fn for_alg(&self, alg: Algorithm) -> TestKey {
        assert_eq!(
            KeyKind::for_alg(alg),
            self.material.kind,
            "{alg:?} needs another key kind"
        );
        Self::from_material(alg, fresh_kid(alg), self.material.clone())
    }

    /// The signing algorithm (also the JWK's `alg`).
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The kind of key pair.
    pub fn kind(&self) -> KeyKind {
        self.material.kind
    }

    /// The key id (`kid` in JWS headers and in the JWK).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Whether both keys share the same key pair (whatever their kids).
    pub fn same_material(&self, other: &TestKey) -> bool {
        Arc::ptr_eq(&self.material, &other.material)
    }

    /// The public JWK: `kty`, `crv`/`x`/`y` or `n`/`e`, `alg`, `use: "sig"`, `kid`.
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// The public JWK as a JSON string.
    pub fn public_jwk_json(&self) -> String {
        self.jwk.to_string()
    }

    /// The private key for `jsonwebtoken::encode`.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.material.encoding_key
    }

    /// A `jsonwebtoken` decoding key built from the public JWK.
    pub fn decoding_key(&self) -> DecodingKey {
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(self.jwk.clone()).expect("JWK parses");
        DecodingKey::from_jwk(&jwk).expect("decoding key from JWK")
    }

    /// The public key as DER `SubjectPublicKeyInfo`.
    pub fn public_key_der(&self) -> &[u8] {
        &self.material.spki_der
    }

    /// The public key as PEM `-----BEGIN PUBLIC KEY-----` (SPKI), the usual
    /// secret of the HMAC key-confusion attack.
    pub fn public_key_pem(&self) -> String {
        pem("PUBLIC KEY", &self.material.spki_der)
    }

    /// For RSA keys: the PKCS#1 `RSAPublicKey` DER.
    pub fn rsa_public_key_pkcs1_der(&self) -> Option<&[u8]> {
        self.material.rsa_pkcs1_public_der.as_deref()
    }

    /// For RSA keys: PEM `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1).
    pub fn rsa_public_key_pkcs1_pem(&self) -> Option<String> {
        self.rsa_public_key_pkcs1_der()
            .map(|der| pem("RSA PUBLIC KEY", der))
    }

    /// Raw signature over `message` with this key's algorithm.
    pub fn sign_raw(&self, message: &[u8]) -> Vec<u8> {
        self.material.sign(self.alg, message)
    }
}

/// Base64url without padding.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// PEM armour with 64-column lines.
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// Claims of a typical access token: `iss`, `aud` (a string or an array),
/// `sub`, `scope` (space-delimited string), `client_id` (`"test-client"`),
/// `iat` = now, `exp` = now + `ttl_secs` (negative → already expired), and a
/// random `jti`.
pub fn standard_claims(
    iss: &str,
    aud: impl Into<Value>,
    sub: &str,
    scope: &str,
    ttl_secs: i64,
) -> Value {
    let now = now();
    json!({
        "iss": iss,
        "aud": aud.into(),
        "sub": sub,
        "scope": scope,
        "client_id": "test-client",
        "iat": now,
        "exp": now + ttl_secs,
        "jti": uuid::Uuid::new_v4().to_string(),
    })
}

fn to_object(value: Value, what: &str) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => panic!("{what} must be a JSON object or null, got {other}"),
    }
}

fn json_b64(value: &impl Serialize) -> String {
    b64url(&serde_json::to_vec(value).expect("serialize JSON"))
}

/// A compact JWS signed by `key` with `key.alg()`.
///
/// The header starts as `{"alg": key.alg, "typ": "JWT", "kid": key.kid}`;
/// each member of `header_overrides` (an object, or `Value::Null` for none)
/// replaces or adds a member, and a member set to `null` is removed. The
/// signature is always made with the key's own algorithm, so overriding
/// `alg` yields an algorithm-confusion token.
pub fn mint(key: &TestKey, header_overrides: Value, claims: impl Serialize) -> String {
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg_name(key.alg)));
    header.insert("typ".into(), json!("JWT"));
    header.insert("kid".into(), json!(key.kid));
    for (name, value) in to_object(header_overrides, "header_overrides") {
        if value.is_null() {
            header.remove(&name);
        } else {
            header.insert(name, value);
        }
    }
    let signing_input = format!("{}.{}", json_b64(&header), json_b64(&claims));
    let signature = key.sign_raw(signing_input.as_bytes());
    format!("{signing_input}.{}", b64url(&signature))
}

/// A compact JWS signed by `key` under exactly `header` (no member added or
/// removed: a header without `kid`, with `crit`, or naming another `alg`),
/// always with the key's own algorithm.
pub fn sign_with_header(key: &TestKey, header: &Value, claims: impl Serialize) -> String {
    let signing_input = format!("{}.{}", json_b64(header), json_b64(&claims));
    sign_input(key, &signing_input)
}

/// A JWK set (`{"keys": [...]}`) of the public JWKs of `keys`, in order.
pub fn jwk_set(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.public_jwk().clone()).collect::<Vec<_>>() })
}

/// Signs an arbitrary `signing_input` (`"<header>.<payload>"`) with `key`
/// and returns the complete token; for hand-built headers or payloads.
pub fn sign_input(key: &TestKey, signing_input: &str) -> String {
    format!(
        "{signing_input}.{}",
        b64url(&key.sign_raw(signing_input.as_bytes()))
    )
}

/// A token with exactly `header` and `claims` (any JSON, e.g. `{"alg":"none"}`)
/// and `signature_b64` as the third part verbatim (may be `""`).
pub fn unsigned(header: &Value, claims: &Value, signature_b64: &str) -> String {
    format!("{}.{}.{signature_b64}", json_b64(header), json_b64(claims))
}

/// A token from raw header and payload bytes (not necessarily JSON) and a
/// verbatim signature part.
pub fn raw_jws(header: &[u8], payload: &[u8], signature_b64: &str) -> String {
    format!("{}.{}.{signature_b64}", b64url(header), b64url(payload))
}

/// An HMAC-signed token: header `{"alg": alg, "typ": "JWT"}` plus
/// `header_extra` (e.g. a victim's `kid`), signed with `secret` (e.g.
/// [`TestKey::public_key_pem`] bytes for the key-confusion attack).
///
/// # Panics
/// If `alg` is not `HS256`, `HS384` or `HS512`.
pub fn hs_signed(alg: &str, secret: &[u8], header_extra: Value, claims: impl Serialize) -> String {
    use aws_lc_rs::hmac;
    let algorithm = match alg {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        other => panic!("hs_signed supports HS256/HS384/HS512, not {other}"),
    };
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg));
    header.insert("typ".into(), json!("JWT"));
    for (name, value) in to_object(header_extra, "header_extra") {
        if value.is_null() {
            header.remove(&name);
        } else {
            header.insert(name, value);
        }
    }
    let signing_input = format!("{}.{}", json_b64(&header), json_b64(&claims));
    let tag = hmac::sign(&hmac::Key::new(algorithm, secret), signing_input.as_bytes());
    format!("{signing_input}.{}", b64url(tag.as_ref()))
}

fn split3(token: &str) -> (&str, &str, &str) {
    let mut parts = token.splitn(3, '.');
    let header = parts.next().unwrap_or_default();
    let payload = parts.next().expect("token has a payload part");
    let signature = parts.next().expect("token has a signature part");
    (header, payload, signature)
}

/// The decoded header and claims of a compact JWS (no verification).
pub fn decode_parts(token: &str) -> (Value, Value) {
    let (header, payload, _) = split3(token);
    let parse = |part: &str| -> Value {
        let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url part");
        serde_json::from_slice(&bytes).expect("JSON part")
    };
    (parse(header), parse(payload))
}

/// Keeps the header and signature of `token` but swaps in `claims`: the
/// signature no longer matches.
pub fn tamper_claims(token: &str, claims: &Value) -> String {
    let (header, _, signature) = split3(token);
    format!("{header}.{}.{signature}", json_b64(claims))
}

/// Keeps the payload and signature of `token` but swaps in `header`.
pub fn tamper_header(token: &str, header: &Value) -> String {
    let (_, payload, signature) = split3(token);
    format!("{}.{payload}.{signature}", json_b64(header))
}

/// Flips one bit of the decoded signature (still valid base64url).
pub fn corrupt_signature(token: &str) -> String {
    let (header, payload, signature) = split3(token);
    let mut bytes = URL_SAFE_NO_PAD
        .decode(signature)
        .expect("base64url signature");
    if bytes.is_empty() {
        bytes.push(0);
    }
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    format!("{header}.{payload}.{}", b64url(&bytes))
}

/// `token` with an empty signature part (`"h.p."`).
pub fn strip_signature(token: &str) -> String {
    let (header, payload, _) = split3(token);
    format!("{header}.{payload}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_keys_have_fresh_kids_and_honour_exclusions() {
        let a = TestKey::new(Algorithm::RS256);
        let b = TestKey::pooled_excluding(Algorithm::PS256, &[&a]);
        assert_ne!(a.kid(), b.kid());
        assert!(!a.same_material(&b));
        assert!(!TestKey::new(Algorithm::ES256).same_material(&TestKey::new(Algorithm::ES256)));
    }

    #[test]
    fn pem_wraps_at_64_columns() {
        let text = pem("PUBLIC KEY", &[7u8; 100]);
        assert!(text
            .lines()
            .all(|line| line.len() <= 64 || line.starts_with("-----")));
        assert!(text.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(text.ends_with("-----END PUBLIC KEY-----\n"));
    }

    #[test]
    fn overrides_remove_and_replace_header_members() {
        let key = TestKey::new(Algorithm::EdDSA);
        let token = mint(
            &key,
            json!({"typ": null, "kid": "other", "x": 1}),
            json!({"a": 1}),
        );
        let (header, claims) = decode_parts(&token);
        assert_eq!(header, json!({"alg": "EdDSA", "kid": "other", "x": 1}));
        assert_eq!(claims, json!({"a": 1}));
    }
}
