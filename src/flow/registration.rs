//! What a person registered, as the flow core sees it once the agent has decrypted the registration
//! blob from the directory. Serialisable: this is the plaintext inside the encrypted blob.

use serde::{Deserialize, Serialize};

use crate::gates::qa::StoredAnswer;
use crate::secret::Secret;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// Argon2id hashes of the normalised security answers.
    #[serde(default)]
    pub answers: Vec<StoredAnswer>,
    /// Base32 TOTP secret, if an authenticator app was enrolled.
    #[serde(default, with = "secret_opt")]
    pub totp_secret: Option<Secret>,
    /// Time step of the last accepted TOTP code (replay protection).
    #[serde(default)]
    pub totp_last_step: Option<u64>,
    /// Addresses and numbers confirmed with a code at a kiosk (normalised).
    #[serde(default)]
    pub confirmed_emails: Vec<String>,
    #[serde(default)]
    pub confirmed_mobiles: Vec<String>,
}

mod secret_opt {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::secret::Secret;

    pub fn serialize<S: Serializer>(value: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
        value.as_ref().map(Secret::expose).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(Secret::new))
    }
}
