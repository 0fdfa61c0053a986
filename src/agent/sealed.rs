//! The registration record as stored in the directory: encrypted with the fleet registration key
//! (XChaCha20-Poly1305), bound to the entry's DN, tagged with the key id for rotation. Many directory
//! users can read the attribute; without the key they learn nothing, and a blob copied onto another
//! person's entry does not open.
//!
//! Format: `sspr1.<key-id>.<base64url(nonce ‖ ciphertext)>`; the plaintext is JSON of [`Stored`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::flow::registration::Registration;
use crate::gates::lockout::FailureCounter;

const PREFIX: &str = "sspr1";

/// What the blob holds: the registration and the fleet-wide SSPR failure counter.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stored {
    #[serde(default)]
    pub registration: Registration,
    #[serde(default)]
    pub failures: FailureCounter,
}

/// A 32-byte key with its id.
pub struct SealKey {
    pub id: String,
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealKey({}, ***)", self.id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The key material is not 32 bytes in base64 or hex: an admin must fix the credential.
    #[error("registration key `{0}` is not 32 bytes of base64 or hex")]
    BadKey(String),
    /// Written with a key this kiosk does not have (rotation not finished): treated as unregistered.
    #[error("registration record was sealed with key `{0}`, which this kiosk does not have")]
    UnknownKey(String),
    /// Tampered with, copied from another entry, or corrupt: treated as unregistered.
    #[error("registration record does not open (tampered, copied from another entry, or corrupt)")]
    Corrupt,
}

impl SealKey {
    /// Parses key material: 32 bytes as base64 (standard or URL-safe) or 64 hex digits.
    pub fn parse(id: &str, material: &str) -> Result<SealKey, SealError> {
        let text = material.trim();
        let bytes = Zeroizing::new(
            hex(text)
                .or_else(|| base64::engine::general_purpose::STANDARD.decode(text).ok())
                .or_else(|| URL_SAFE_NO_PAD.decode(text).ok())
                .ok_or_else(|| SealError::BadKey(id.to_owned()))?,
        );
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SealError::BadKey(id.to_owned()))?;
        Ok(SealKey {
            id: id.to_owned(),
            key: Zeroizing::new(key),
        })
    }
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    (0..32)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
        .collect()
}

fn aad(dn: &str) -> Vec<u8> {
    format!("sspr-kiosk registration\0{}", dn.to_lowercase()).into_bytes()
}

/// Encrypts `stored` for the entry `dn` with `key`.
pub fn seal(stored: &Stored, dn: &str, key: &SealKey) -> Result<String, SealError> {
    let plaintext = Zeroizing::new(serde_json::to_vec(stored).map_err(|_| SealError::Corrupt)?);
    let mut nonce = [0u8; 24];
    rand::rng().fill(&mut nonce);
    let cipher = XChaCha20Poly1305::new(key.key.as_ref().into());
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plaintext,
                aad: &aad(dn),
            },
        )
        .map_err(|_| SealError::Corrupt)?;
    let mut bytes = nonce.to_vec();
    bytes.extend(ciphertext);
    Ok(format!(
        "{PREFIX}.{}.{}",
        key.id,
        URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// Opens a blob written by [`seal`] for `dn` with one of `keys`.
pub fn open(blob: &str, dn: &str, keys: &[SealKey]) -> Result<Stored, SealError> {
    let mut parts = blob.trim().splitn(3, '.');
    let (Some(PREFIX), Some(id), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SealError::Corrupt);
    };
    let key = keys
        .iter()
        .find(|k| k.id == id)
        .ok_or_else(|| SealError::UnknownKey(id.to_owned()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(data)
        .map_err(|_| SealError::Corrupt)?;
    if bytes.len() < 24 + 16 {
        return Err(SealError::Corrupt);
    }
    let (nonce, ciphertext) = bytes.split_at(24);
    let cipher = XChaCha20Poly1305::new(key.key.as_ref().into());
    let plaintext = Zeroizing::new(
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad(dn),
                },
            )
            .map_err(|_| SealError::Corrupt)?,
    );
    serde_json::from_slice(&plaintext).map_err(|_| SealError::Corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn key(id: &str, byte: u8) -> SealKey {
        SealKey::parse(id, &format!("{byte:02x}").repeat(32)).unwrap()
    }

    #[test]
    fn round_trip_and_binding_to_the_entry() {
        let mut stored = Stored::default();
        stored.registration.totp_secret = Some(Secret::new("JBSWY3DPEHPK3PXP"));
        stored
            .registration
            .confirmed_emails
            .push("a@example.com".into());
        let k1 = key("k1", 1);
        let blob = seal(&stored, "uid=a,dc=x", &k1).unwrap();
        assert!(blob.starts_with("sspr1.k1."));
        assert!(!blob.contains("JBSW") && !blob.contains("example"));
        let opened = open(&blob, "UID=A,DC=X", &[key("k0", 0), key("k1", 1)]).unwrap();
        assert_eq!(
            opened.registration.totp_secret.unwrap().expose(),
            "JBSWY3DPEHPK3PXP"
        );
        // Copied onto another entry: refused.
        assert!(matches!(
            open(&blob, "uid=b,dc=x", &[key("k1", 1)]),
            Err(SealError::Corrupt)
        ));
        // Another key with the same id: refused; a missing id: named.
        assert!(matches!(
            open(&blob, "uid=a,dc=x", &[key("k1", 2)]),
            Err(SealError::Corrupt)
        ));
        assert!(
            matches!(open(&blob, "uid=a,dc=x", &[key("k2", 1)]), Err(SealError::UnknownKey(id)) if id == "k1")
        );
        // Tampering with one character: refused.
        let mut tampered = blob.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(open(&tampered, "uid=a,dc=x", &[key("k1", 1)]).is_err());
    }

    #[test]
    fn key_material_is_checked() {
        assert!(SealKey::parse("k", &"ab".repeat(32)).is_ok());
        assert!(SealKey::parse("k", "oNzTdG1spN7Jl4XcLFnM0iV1guLuwbj6WiMh+mnJCkg=").is_ok());
        assert!(matches!(
            SealKey::parse("k", "too-short"),
            Err(SealError::BadKey(_))
        ));
        assert!(format!("{:?}", key("k1", 1)).contains("***"));
    }
}
