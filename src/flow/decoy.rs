//! Decoys: what an unknown (or unregistered, ineligible, blocked) claim looks like. Derived from a keyed
//! hash of the normalised claim, so typing the same name again shows the same methods, and nobody
//! without the kiosk's key can predict or recognise them.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::kiosk::Method;

use super::config::FlowConfig;
use super::session::{Decoy, DecoyReason, MethodOption};

/// The keyed hash of a claim (case and surrounding space do not matter, as in directory lookups).
pub fn claim_hash(config: &FlowConfig, claim: &str) -> [u8; 32] {
    let normalised = claim.trim().to_lowercase();
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&config.decoy_key) else {
        return [0; 32];
    };
    mac.update(b"sspr-kiosk decoy v1\0");
    mac.update(normalised.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The name of a decoy's counters: the first half of the keyed hash, in hex.
pub fn decoy_key(config: &FlowConfig, claim: &str) -> String {
    claim_hash(config, claim)[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn decoy(config: &FlowConfig, claim: &str, reason: DecoyReason) -> Decoy {
    let hash = claim_hash(config, claim);
    let key = decoy_key(config, claim);
    let letter = |b: u8| char::from(b'a' + b % 26);
    let mut options = Vec::new();
    let offer = |m: Method| config.methods.contains(&m);
    if offer(Method::Email) {
        let masked = if claim.contains('@') {
            crate::mask::email(claim)
        } else {
            crate::mask::email(&format!("{}@{}", letter(hash[16]), config.mail_domain))
        };
        options.push(MethodOption {
            id: "email:0".into(),
            method: Method::Email,
            destination: None,
            masked: Some(masked),
        });
    }
    // Most people register a phone; about three in four decoys have one.
    let has_phone = hash[17] % 4 != 0;
    let phone = format!(
        "{}{:010}",
        config_country(config),
        u64::from_le_bytes([hash[18], hash[19], hash[20], hash[21], 0, 0, 0, 0]) % 10_000_000_000
    );
    for (method, id) in [(Method::Sms, "sms:0"), (Method::Voice, "voice:0")] {
        if offer(method) && has_phone {
            options.push(MethodOption {
                id: id.into(),
                method,
                destination: None,
                masked: Some(crate::mask::phone(&phone)),
            });
        }
    }
    let questions = pick_questions(config, &hash);
    if offer(Method::Qa) && hash[22] % 2 == 0 && questions.len() == config.qa.ask as usize {
        options.push(MethodOption {
            id: "qa".into(),
            method: Method::Qa,
            destination: None,
            masked: None,
        });
    }
    if offer(Method::Totp) && hash[23] % 3 != 0 {
        options.push(MethodOption {
            id: "totp".into(),
            method: Method::Totp,
            destination: None,
            masked: None,
        });
    }
    // A decoy must be able to meet the requirement, like any registered person.
    if options.len() < config.policy.methods_required as usize {
        for method in [Method::Totp, Method::Qa] {
            if offer(method) && !options.iter().any(|o| o.method == method) {
                let id = if method == Method::Totp { "totp" } else { "qa" };
                options.push(MethodOption {
                    id: id.into(),
                    method,
                    destination: None,
                    masked: None,
                });
            }
        }
    }
    Decoy {
        key,
        options,
        questions,
        reason,
        dn: None,
    }
}

fn config_country(config: &FlowConfig) -> &str {
    &config.phone_country_code
}

/// `ask` distinct question ids from the catalogue, chosen by the hash.
fn pick_questions(config: &FlowConfig, hash: &[u8; 32]) -> Vec<String> {
    let mut ids: Vec<&String> = config.qa.questions.keys().collect();
    let ask = (config.qa.ask as usize).min(ids.len());
    for i in 0..ask {
        let j = i + usize::from(hash[24 + i % 8]) % (ids.len() - i);
        ids.swap(i, j);
    }
    ids.into_iter().take(ask).cloned().collect()
}
