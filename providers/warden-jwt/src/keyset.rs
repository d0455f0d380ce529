//! A parsed JWK set: every usable signing key turned into a
//! [`DecodingKey`] once, looked up by `(kid, alg)`.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};
use serde_json::Value;
use warden_core::KeyInfo;

use crate::JwtError;

/// The kind of public key, which decides the algorithms it can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl KeyKind {
    fn supports(self, alg: Algorithm) -> bool {
        match self {
            KeyKind::Rsa => alg.family() == AlgorithmFamily::Rsa,
            KeyKind::P256 => alg == Algorithm::ES256,
            KeyKind::P384 => alg == Algorithm::ES384,
            KeyKind::Ed25519 => alg == Algorithm::EdDSA,
        }
    }

    fn default_alg(self) -> Algorithm {
        match self {
            KeyKind::Rsa => Algorithm::RS256,
            KeyKind::P256 => Algorithm::ES256,
            KeyKind::P384 => Algorithm::ES384,
            KeyKind::Ed25519 => Algorithm::EdDSA,
        }
    }
}

/// One usable verification key.
#[derive(Clone)]
struct ParsedKey {
    kid: Option<String>,
    alg: Option<Algorithm>,
    kind: KeyKind,
    key: Arc<DecodingKey>,
}

impl ParsedKey {
    fn fits(&self, alg: Algorithm) -> bool {
        self.kind.supports(alg) && self.alg.is_none_or(|a| a == alg)
    }
}

/// A set of public signing keys, parsed once from a JWK set (RFC 7517).
///
/// Keys whose `use` is not `sig`, whose `key_ops` lack `verify`, whose `kty`
/// or `crv` is unsupported (only RSA ≥ 2048 bits, EC P-256/P-384 and OKP
/// Ed25519 are), symmetric (`oct`) keys and keys declaring an HMAC or
/// unknown `alg` are skipped.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Vec<ParsedKey>,
    skipped: usize,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("keys", &self.key_infos())
            .field("skipped", &self.skipped)
            .finish()
    }
}

impl KeySet {
    /// Parses a JWK set document (`{"keys": [...]}`), keeping the usable keys.
    ///
    /// Fails when the document has no `keys` array or no usable key at all.
    pub fn from_jwks(jwks: &Value) -> Result<KeySet, JwtError> {
        let Some(items) = jwks.get("keys").and_then(Value::as_array) else {
            return Err(JwtError::InvalidKeySet {
                reason: "no \"keys\" array".into(),
            });
        };
        let mut set = KeySet::default();
        for item in items {
            match parse_key(item) {
                Some(key) => set.keys.push(key),
                None => set.skipped += 1,
            }
        }
        if set.keys.is_empty() {
            return Err(JwtError::InvalidKeySet {
                reason: format!("none of the {} keys is a usable signing key", items.len()),
            });
        }
        Ok(set)
    }

    /// The key that verifies a token with this `kid` and `alg`.
    ///
    /// With a `kid`, the key must carry the same `kid`. Without one, the key
    /// is used only when exactly one key of the set fits `alg`.
    pub fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<Arc<DecodingKey>> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid) && k.fits(alg))
                .map(|k| k.key.clone()),
            None => {
                let mut fitting = self.keys.iter().filter(|k| k.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(only), None) => Some(only.key.clone()),
                    _ => None,
                }
            }
        }
    }

    /// `kid` and algorithm of every key (`kid` empty when absent).
    pub fn key_infos(&self) -> Vec<KeyInfo> {
        self.keys
            .iter()
            .map(|k| KeyInfo {
                kid: k.kid.clone().unwrap_or_default(),
                alg: format!("{:?}", k.alg.unwrap_or_else(|| k.kind.default_alg())),
            })
            .collect()
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Number of keys in the document that were skipped as unusable.
    pub fn skipped(&self) -> usize {
        self.skipped
    }
}

fn str_field<'a>(jwk: &'a Value, name: &str) -> Option<&'a str> {
    jwk.get(name).and_then(Value::as_str)
}

fn parse_key(jwk: &Value) -> Option<ParsedKey> {
    if let Some(u) = jwk.get("use") {
        if u.as_str() != Some("sig") {
            return None;
        }
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verify = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|o| o.as_str() == Some("verify")));
        if !verify {
            return None;
        }
    }
    let alg = match jwk.get("alg") {
        None => None,
        Some(v) => {
            let alg: Algorithm = v.as_str()?.parse().ok()?;
            if alg.family() == AlgorithmFamily::Hmac {
                return None;
            }
            Some(alg)
        }
    };
    let (kind, key) = match (str_field(jwk, "kty")?, str_field(jwk, "crv")) {
        ("RSA", _) => {
            let key = DecodingKey::from_rsa_components(str_field(jwk, "n")?, str_field(jwk, "e")?)
                .ok()?;
            match key.kind() {
                DecodingKeyKind::RsaModulusExponent { n, e } => {
                    let bits = n.iter().skip_while(|b| **b == 0).count() * 8;
                    if bits < 2048 || e.is_empty() {
                        return None;
                    }
                }
                DecodingKeyKind::SecretOrDer(_) => return None,
            }
            (KeyKind::Rsa, key)
        }
        ("EC", Some(crv @ ("P-256" | "P-384"))) => {
            let key =
                DecodingKey::from_ec_components(str_field(jwk, "x")?, str_field(jwk, "y")?).ok()?;
            let (kind, len) = if crv == "P-256" {
                (KeyKind::P256, 65)
            } else {
                (KeyKind::P384, 97)
            };
            if key.try_get_as_bytes().ok()?.len() != len {
                return None;
            }
            (kind, key)
        }
        ("OKP", Some("Ed25519")) => {
            let key = DecodingKey::from_ed_components(str_field(jwk, "x")?).ok()?;
            if key.try_get_as_bytes().ok()?.len() != 32 {
                return None;
            }
            (KeyKind::Ed25519, key)
        }
        _ => return None,
    };
    if alg.is_some_and(|a| !kind.supports(a)) {
        return None;
    }
    Some(ParsedKey {
        kid: str_field(jwk, "kid").map(str::to_owned),
        alg,
        kind,
        key: Arc::new(key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // A P-256 point (the RFC 7515 A.3 example key).
    const X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

    fn ec(kid: Option<&str>) -> Value {
        let mut k = json!({"kty": "EC", "crv": "P-256", "x": X, "y": Y});
        if let Some(kid) = kid {
            k["kid"] = json!(kid);
        }
        k
    }

    #[test]
    fn parses_ec_and_skips_unusable_keys() {
        let jwks = json!({"keys": [
            ec(Some("a")),
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "EC", "crv": "P-521", "x": X, "y": Y, "kid": "p521"},
            {"kty": "EC", "crv": "P-256", "x": X, "y": Y, "kid": "enc", "use": "enc"},
            {"kty": "EC", "crv": "P-256", "x": X, "y": Y, "kid": "hs", "alg": "HS256"},
            {"kty": "EC", "crv": "P-384", "x": X, "y": Y, "kid": "short"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "tiny-rsa"},
            {"kty": "EC", "crv": "P-256", "x": X, "y": Y, "kid": "ops", "key_ops": ["sign"]},
        ]});
        let set = KeySet::from_jwks(&jwks).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set.skipped(), 7);
        assert!(set.find(Some("a"), Algorithm::ES256).is_some());
        assert!(set.find(Some("a"), Algorithm::ES384).is_none());
        assert!(set.find(Some("a"), Algorithm::RS256).is_none());
        assert!(set.find(Some("b"), Algorithm::ES256).is_none());
        assert_eq!(
            set.key_infos(),
            vec![KeyInfo {
                kid: "a".into(),
                alg: "ES256".into()
            }]
        );
    }

    #[test]
    fn kidless_lookup_needs_exactly_one_fitting_key() {
        let one = KeySet::from_jwks(&json!({"keys": [ec(None)]})).unwrap();
        assert!(one.find(None, Algorithm::ES256).is_some());
        assert!(one.find(Some("x"), Algorithm::ES256).is_none());
        let two = KeySet::from_jwks(&json!({"keys": [ec(None), ec(Some("b"))]})).unwrap();
        assert!(two.find(None, Algorithm::ES256).is_none());
        assert!(two.find(Some("b"), Algorithm::ES256).is_some());
    }

    #[test]
    fn rejects_documents_without_usable_keys() {
        assert!(KeySet::from_jwks(&json!({"nokeys": []})).is_err());
        assert!(KeySet::from_jwks(&json!({"keys": []})).is_err());
        assert!(KeySet::from_jwks(&json!({"keys": [{"kty": "oct", "k": "AA"}]})).is_err());
    }
}
