//! Sealing what a queued operation carries (a new password, a registration blob): XChaCha20-Poly1305
//! under a key derived from the device key, bound to the operation (idempotency key, kind, DN) so a
//! ciphertext copied onto another row does not open. No database here; plaintext lives only in
//! `Zeroizing` buffers and [`Secret`]s, never in a `String` that outlives the call.

use chacha20poly1305::aead::{Aead, KeyInit as _, Payload as AeadPayload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::Rng as _;
use zeroize::{Zeroize, Zeroizing};

use crate::secret::Secret;

use super::Kind;

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const PASSWORD: u8 = b'P';
const REGISTRATION: u8 = b'R';
const REGISTRATION_REMOVED: u8 = b'D';

/// The outbox's own key: HMAC-SHA256(device key, purpose), like every key the agent derives.
pub(super) struct SealingKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(***)")
    }
}

/// Sealing or opening failed; the caller decides what that means for the row.
#[derive(Debug)]
pub(super) struct SealFailed;

impl SealingKey {
    pub(super) fn derive(device_key: &Secret) -> Result<SealingKey, SealFailed> {
        Ok(SealingKey(
            device_key.derive_key(b"sspr-kiosk outbox key v1"),
        ))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().into())
    }
}

/// What a queued operation needs beyond its DN.
#[derive(Debug)]
pub(super) enum Payload {
    Password(Secret),
    /// The registration attribute's new value; `None` removes it.
    Registration(Option<Secret>),
}

impl Payload {
    pub(super) fn fits(&self, kind: Kind) -> bool {
        matches!(
            (self, kind),
            (Payload::Password(_), Kind::Reset | Kind::ResetAndUnlock)
                | (Payload::Registration(_), Kind::Registration)
        )
    }
}

/// The associated data: which operation a ciphertext belongs to.
fn binding(idempotency_key: &str, kind: Kind, dn: &str) -> Vec<u8> {
    format!(
        "sspr-kiosk outbox v1\0{idempotency_key}\0{}\0{dn}",
        kind.as_str()
    )
    .into_bytes()
}

/// `nonce ‖ ciphertext` of the payload, bound to the operation.
pub(super) fn seal(
    key: &SealingKey,
    payload: &Payload,
    idempotency_key: &str,
    kind: Kind,
    dn: &str,
) -> Result<Vec<u8>, SealFailed> {
    let mut plaintext = Zeroizing::new(Vec::new());
    match payload {
        Payload::Password(password) => {
            plaintext.push(PASSWORD);
            plaintext.extend_from_slice(password.expose().as_bytes());
        }
        Payload::Registration(Some(blob)) => {
            plaintext.push(REGISTRATION);
            plaintext.extend_from_slice(blob.expose().as_bytes());
        }
        Payload::Registration(None) => plaintext.push(REGISTRATION_REMOVED),
    }
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill(&mut nonce);
    let aad = binding(idempotency_key, kind, dn);
    let ciphertext = key
        .cipher()
        .encrypt(
            XNonce::from_slice(&nonce),
            AeadPayload {
                msg: &plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| SealFailed)?;
    let mut sealed = nonce.to_vec();
    sealed.extend(ciphertext);
    Ok(sealed)
}

/// Opens what [`seal`] wrote for the same operation; anything else (another key, another row,
/// tampering) fails.
pub(super) fn open(
    key: &SealingKey,
    sealed: &[u8],
    idempotency_key: &str,
    kind: Kind,
    dn: &str,
) -> Result<Payload, SealFailed> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(SealFailed);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let aad = binding(idempotency_key, kind, dn);
    let plaintext = Zeroizing::new(
        key.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                AeadPayload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| SealFailed)?,
    );
    let (tag, rest) = plaintext.split_first().ok_or(SealFailed)?;
    let text = || -> Result<Secret, SealFailed> {
        String::from_utf8(rest.to_vec())
            .map(Secret::new)
            .map_err(|e| {
                e.into_bytes().zeroize();
                SealFailed
            })
    };
    match *tag {
        PASSWORD => Ok(Payload::Password(text()?)),
        REGISTRATION => Ok(Payload::Registration(Some(text()?))),
        REGISTRATION_REMOVED if rest.is_empty() => Ok(Payload::Registration(None)),
        _ => Err(SealFailed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(material: &str) -> SealingKey {
        SealingKey::derive(&Secret::new(material)).unwrap()
    }

    #[test]
    fn round_trip_and_binding_to_the_operation() {
        let k = key("device-key-1");
        let payload = Payload::Password(Secret::new("Tangerine-Orbit-42"));
        let sealed = seal(&k, &payload, "idem-1", Kind::Reset, "uid=a,dc=x").unwrap();
        let needle = b"Tangerine";
        assert!(!sealed.windows(needle.len()).any(|w| w == needle));

        let Payload::Password(opened) =
            open(&k, &sealed, "idem-1", Kind::Reset, "uid=a,dc=x").unwrap()
        else {
            panic!("wrong payload kind")
        };
        assert_eq!(opened.expose(), "Tangerine-Orbit-42");

        // Another row, kind, person or device key: refused.
        assert!(open(&k, &sealed, "idem-2", Kind::Reset, "uid=a,dc=x").is_err());
        assert!(open(&k, &sealed, "idem-1", Kind::ResetAndUnlock, "uid=a,dc=x").is_err());
        assert!(open(&k, &sealed, "idem-1", Kind::Reset, "uid=b,dc=x").is_err());
        assert!(
            open(
                &key("device-key-2"),
                &sealed,
                "idem-1",
                Kind::Reset,
                "uid=a,dc=x"
            )
            .is_err()
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(open(&k, &tampered, "idem-1", Kind::Reset, "uid=a,dc=x").is_err());
        assert!(open(&k, &sealed[..30], "idem-1", Kind::Reset, "uid=a,dc=x").is_err());
    }

    #[test]
    fn registration_payloads_keep_removal_apart_from_an_empty_value() {
        let k = key("device-key-1");
        for payload in [
            Payload::Registration(None),
            Payload::Registration(Some(Secret::new(""))),
            Payload::Registration(Some(Secret::new("sspr1.k1.abc"))),
        ] {
            let sealed = seal(&k, &payload, "i", Kind::Registration, "uid=a").unwrap();
            let opened = open(&k, &sealed, "i", Kind::Registration, "uid=a").unwrap();
            match (payload, opened) {
                (Payload::Registration(a), Payload::Registration(b)) => assert_eq!(a, b),
                other => panic!("{other:?}"),
            }
        }
        assert!(format!("{k:?}").contains("***"));
    }
}
