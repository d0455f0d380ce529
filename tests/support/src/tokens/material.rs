//! Key material: generation with aws-lc-rs, the public forms of each key,
//! raw signing, and the process-wide pool of RSA key pairs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaEncoding, RsaKeyPair,
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, RSA_PKCS1_SHA256,
    RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256, RSA_PSS_SHA384, RSA_PSS_SHA512,
};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Map, Value};

use super::{b64url, pem, TestKey};

/// How many key pairs of each kind the process-wide pool holds at most.
pub const POOL_SIZE: usize = 3;

/// The kind of key pair an algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// RSA 2048 (RS256/384/512, PS256/384/512).
    Rsa2048,
    /// NIST P-256 (ES256).
    P256,
    /// NIST P-384 (ES384).
    P384,
    /// Ed25519 (EdDSA).
    Ed25519,
}

impl KeyKind {
    /// The key kind that signs `alg`.
    ///
    /// # Panics
    /// For HMAC algorithms (use [`hs_signed`] for those).
    pub fn for_alg(alg: Algorithm) -> KeyKind {
        match alg {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyKind::Rsa2048,
            Algorithm::ES256 => KeyKind::P256,
            Algorithm::ES384 => KeyKind::P384,
            Algorithm::EdDSA => KeyKind::Ed25519,
            other => panic!("TestKey has no asymmetric key for {other:?}; use tokens::hs_signed"),
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The JOSE name of an algorithm (`"RS256"`, `"EdDSA"`, …).
pub fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
        other => panic!("no JOSE name known for {other:?}"),
    }
}

enum Secret {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// One generated key pair with every public form precomputed.
pub(super) struct Material {
    pub(super) kind: KeyKind,
    secret: Secret,
    /// kty/crv/n/e/x/y members of the public JWK.
    pub(super) jwk_params: Map<String, Value>,
    pub(super) spki_der: Vec<u8>,
    pub(super) rsa_pkcs1_public_der: Option<Vec<u8>>,
    pub(super) encoding_key: EncodingKey,
}

impl Material {
    pub(super) fn generate(kind: KeyKind) -> Material {
        match kind {
            KeyKind::Rsa2048 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("generate RSA key");
                let pkcs8: Pkcs8V1Der<'static> = pair.as_der().expect("RSA PKCS#8");
                let encoding_key =
                    EncodingKey::from_rsa_pem(pem("PRIVATE KEY", pkcs8.as_ref()).as_bytes())
                        .expect("jsonwebtoken accepts the RSA key");
                let public = pair.public_key();
                let spki: PublicKeyX509Der<'static> = public.as_der().expect("RSA SPKI");
                let mut jwk_params = Map::new();
                jwk_params.insert("kty".into(), json!("RSA"));
                jwk_params.insert(
                    "n".into(),
                    json!(b64url(public.modulus().big_endian_without_leading_zero())),
                );
                jwk_params.insert(
                    "e".into(),
                    json!(b64url(public.exponent().big_endian_without_leading_zero())),
                );
                Material {
                    kind,
                    jwk_params,
                    spki_der: spki.as_ref().to_vec(),
                    rsa_pkcs1_public_der: Some(public.as_ref().to_vec()),
                    encoding_key,
                    secret: Secret::Rsa(pair),
                }
            }
            KeyKind::P256 | KeyKind::P384 => {
                let (alg, crv, len) = if kind == KeyKind::P256 {
                    (&ECDSA_P256_SHA256_FIXED_SIGNING, "P-256", 32)
                } else {
                    (&ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", 48)
                };
                let pair = EcdsaKeyPair::generate(alg).expect("generate EC key");
                let pkcs8 = pair.to_pkcs8v1().expect("EC PKCS#8");
                let encoding_key = EncodingKey::from_ec_der(pkcs8.as_ref());
                let public = pair.public_key();
                let point = public.as_ref();
                assert_eq!(point.len(), 1 + 2 * len, "uncompressed EC point");
                let spki: PublicKeyX509Der<'static> = public.as_der().expect("EC SPKI");
                let mut jwk_params = Map::new();
                jwk_params.insert("kty".into(), json!("EC"));
                jwk_params.insert("crv".into(), json!(crv));
                jwk_params.insert("x".into(), json!(b64url(&point[1..=len])));
                jwk_params.insert("y".into(), json!(b64url(&point[1 + len..])));
                Material {
                    kind,
                    jwk_params,
                    spki_der: spki.as_ref().to_vec(),
                    rsa_pkcs1_public_der: None,
                    encoding_key,
                    secret: Secret::Ec(pair),
                }
            }
            KeyKind::Ed25519 => {
                let pair = Ed25519KeyPair::generate().expect("generate Ed25519 key");
                let pkcs8 = pair.to_pkcs8v1().expect("Ed25519 PKCS#8 v1");
                let encoding_key = EncodingKey::from_ed_der(pkcs8.as_ref());
                let public = pair.public_key();
                let spki: PublicKeyX509Der<'static> = public.as_der().expect("Ed25519 SPKI");
                let mut jwk_params = Map::new();
                jwk_params.insert("kty".into(), json!("OKP"));
                jwk_params.insert("crv".into(), json!("Ed25519"));
                jwk_params.insert("x".into(), json!(b64url(public.as_ref())));
                Material {
                    kind,
                    jwk_params,
                    spki_der: spki.as_ref().to_vec(),
                    rsa_pkcs1_public_der: None,
                    encoding_key,
                    secret: Secret::Ed(pair),
                }
            }
        }
    }

    pub(super) fn sign(&self, alg: Algorithm, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.secret {
            Secret::Rsa(pair) => {
                let encoding: &'static dyn RsaEncoding = match alg {
                    Algorithm::RS256 => &RSA_PKCS1_SHA256,
                    Algorithm::RS384 => &RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &RSA_PKCS1_SHA512,
                    Algorithm::PS256 => &RSA_PSS_SHA256,
                    Algorithm::PS384 => &RSA_PSS_SHA384,
                    Algorithm::PS512 => &RSA_PSS_SHA512,
                    other => panic!("an RSA key cannot sign {other:?}"),
                };
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(encoding, &rng, message, &mut signature)
                    .expect("RSA signature");
                signature
            }
            Secret::Ec(pair) => pair
                .sign(&rng, message)
                .expect("ECDSA signature")
                .as_ref()
                .to_vec(),
            Secret::Ed(pair) => pair.sign(message).as_ref().to_vec(),
        }
    }
}

/// Process-wide pool of RSA key material (the slot list is indexed by
/// [`KeyKind`]; only the RSA slot is ever filled).
pub(super) struct Pool {
    slots: [Mutex<Vec<Arc<Material>>>; 4],
    next: AtomicUsize,
}

pub(super) fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        slots: Default::default(),
        next: AtomicUsize::new(0),
    })
}

impl Pool {
    /// Pooled material of `kind` that is not in `exclude` (compared by
    /// identity). Generates (outside the lock) while the pool is not full; when
    /// it is full and everything is excluded, generates unpooled material.
    pub(super) fn pick(&self, kind: KeyKind, exclude: &[&TestKey]) -> Arc<Material> {
        if kind != KeyKind::Rsa2048 {
            // EC and Ed25519 keys take microseconds: never share them.
            return Arc::new(Material::generate(kind));
        }
        let slot = &self.slots[kind.index()];
        let excluded = |m: &Arc<Material>| exclude.iter().any(|k| Arc::ptr_eq(&k.material, m));
        {
            let pooled = slot.lock().expect("key pool lock");
            if pooled.len() >= POOL_SIZE {
                let start = self.next.fetch_add(1, Ordering::Relaxed);
                for i in 0..pooled.len() {
                    let candidate = &pooled[(start + i) % pooled.len()];
                    if !excluded(candidate) {
                        return candidate.clone();
                    }
                }
                drop(pooled);
                return Arc::new(Material::generate(kind));
            }
        }
        let fresh = Arc::new(Material::generate(kind));
        let mut pooled = slot.lock().expect("key pool lock");
        if pooled.len() < POOL_SIZE {
            pooled.push(fresh.clone());
        }
        fresh
    }
}
