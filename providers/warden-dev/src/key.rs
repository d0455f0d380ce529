//! The dev issuer's EC P-256 signing key: loaded from a PKCS#8 PEM file, or
//! generated and persisted there (mode 0600, atomically) so every process
//! using the same file signs with the same key.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::EncodingKey;
use serde_json::{json, Value};

const PEM_LABEL: &str = "PRIVATE KEY";

/// The signing key and its public JWK.
pub(crate) struct DevKey {
    pub encoding: EncodingKey,
    /// RFC 7638 JWK thumbprint (SHA-256, base64url).
    pub kid: String,
    /// The public JWK, with `kid`, `alg` and `use`.
    pub jwk: Value,
}

impl std::fmt::Debug for DevKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Loads the key at `path`; when the file does not exist, creates it there
/// (`persist`) or only in memory (a dry run that must write nothing).
pub(crate) fn load(path: &Path, persist: bool) -> Result<DevKey, String> {
    let pem = match fs::read_to_string(path) {
        Ok(pem) => {
            warn_if_readable_by_others(path);
            pem
        }
        Err(e) if e.kind() == ErrorKind::NotFound && persist => create(path)?,
        Err(e) if e.kind() == ErrorKind::NotFound => generate()?,
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    from_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))
}

fn from_pem(pem: &str) -> Result<DevKey, String> {
    let der = pem_to_der(pem)?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
        .map_err(|e| format!("not a PKCS#8 EC P-256 private key ({e})"))?;
    let point = pair.public_key().as_ref();
    if point.len() != 65 || point[0] != 4 {
        return Err("unexpected EC public key encoding".into());
    }
    let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
    let y = URL_SAFE_NO_PAD.encode(&point[33..]);
    // RFC 7638 §3.2: required members only, lexicographic order, no whitespace.
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    let kid = URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes()).as_ref());
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "x": x, "y": y,
        "kid": kid, "alg": "ES256", "use": "sig",
    });
    Ok(DevKey {
        encoding: EncodingKey::from_ec_der(&der),
        kid,
        jwk,
    })
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {PEM_LABEL}-----");
    let end = format!("-----END {PEM_LABEL}-----");
    let start = pem
        .find(&begin)
        .ok_or_else(|| format!("no \"{begin}\" block (a PKCS#8 PEM is expected)"))?
        + begin.len();
    let stop = pem[start..]
        .find(&end)
        .ok_or_else(|| format!("no \"{end}\" line"))?
        + start;
    let body: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(body)
        .map_err(|_| "the PEM body is not base64".to_owned())
}

fn der_to_pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {PEM_LABEL}-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {PEM_LABEL}-----\n"));
    pem
}

/// A new key as PKCS#8 PEM, in memory only.
fn generate() -> Result<String, String> {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(|e| format!("key generation failed: {e}"))?;
    Ok(der_to_pem(pkcs8.as_ref()))
}

/// Generates a key and publishes it at `path` without ever overwriting a
/// file another process created first (then that file wins).
fn create(path: &Path) -> Result<String, String> {
    let show = |e: std::io::Error| format!("{}: {e}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let pem = generate()?;
    let tmp = temp_path(path);
    let written = write_private(&tmp, pem.as_bytes());
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(show(e));
    }
    let published = match fs::hard_link(&tmp, path) {
        Ok(()) => Ok(pem),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => fs::read_to_string(path).map_err(show),
        // File systems without hard links: rename is still atomic.
        Err(_) => fs::rename(&tmp, path).map(|_| pem).map_err(show),
    };
    let _ = fs::remove_file(&tmp);
    if published.is_ok() {
        tracing::info!(path = %path.display(), "generated the dev issuer signing key");
    }
    published
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    path.with_file_name(name)
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the dev signing key is readable by other users; chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        std::env::temp_dir()
            .join(format!("warden-dev-key-{}", uuid::Uuid::new_v4()))
            .join(name)
    }

    #[test]
    fn generates_persists_and_reloads() {
        let path = scratch("k.pem");
        let first = load(&path, true).unwrap();
        let second = load(&path, true).unwrap();
        assert_eq!(first.kid, second.kid);
        assert_eq!(first.jwk, second.jwk);
        assert_eq!(first.kid.len(), 43);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers = fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temp files remain");
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn rejects_other_keys() {
        assert!(from_pem("garbage").unwrap_err().contains("PKCS#8"));
        let p384 = EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            &SystemRandom::new(),
        )
        .unwrap();
        assert!(from_pem(&der_to_pem(p384.as_ref()))
            .unwrap_err()
            .contains("P-256"));
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint() {
        let key = from_pem(&der_to_pem(
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap()
                .as_ref(),
        ))
        .unwrap();
        // jsonwebtoken's independent implementation agrees.
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.jwk.clone()).unwrap();
        let expected = jwk
            .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
            .unwrap();
        assert_eq!(key.kid, expected);
        assert_eq!(key.jwk["kid"], key.kid.as_str());
    }
}
