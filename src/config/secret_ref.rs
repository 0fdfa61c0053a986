//! `SecretRef`: how a configuration file names a secret — `{ credential = "name" }` or
//! `{ file = "/path" }` — and never the secret itself. An inline string is refused with the fix.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::secret::SecretSource;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef(pub SecretSource);

const EXPECTED: &str = "{ credential = \"name\" } or { file = \"/path/to/file\" }";

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SecretRefVisitor)
    }
}

struct SecretRefVisitor;

impl<'de> Visitor<'de> for SecretRefVisitor {
    type Value = SecretRef;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_str<E: de::Error>(self, _value: &str) -> Result<SecretRef, E> {
        Err(E::custom(format!(
            "secrets are never written in the configuration: store it in a file readable only by \
             the service (chmod 600) or a systemd credential, and write {EXPECTED}"
        )))
    }

    /// TOML has no null: a unit only comes from the checker's placeholder for a value already reported
    /// as wrong, and the result is never used.
    fn visit_unit<E: de::Error>(self) -> Result<SecretRef, E> {
        Ok(SecretRef(SecretSource::Credential(String::new())))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretRef, A::Error> {
        let mut found: Option<SecretSource> = None;
        while let Some(key) = map.next_key::<String>()? {
            let source = match key.as_str() {
                "credential" => {
                    let name: String = map.next_value()?;
                    if name.is_empty() || name.contains('/') {
                        return Err(de::Error::custom(
                            "a credential name is a plain file name as in LoadCredential=NAME:…",
                        ));
                    }
                    SecretSource::Credential(name)
                }
                "file" => {
                    let path: PathBuf = map.next_value()?;
                    if !path.is_absolute() {
                        return Err(de::Error::custom("a secret file path must be absolute"));
                    }
                    SecretSource::File(path)
                }
                other => {
                    return Err(de::Error::custom(format!(
                        "unknown key `{other}` in a secret reference: write {EXPECTED}"
                    )));
                }
            };
            if found.replace(source).is_some() {
                return Err(de::Error::custom(format!(
                    "a secret reference names exactly one source: write {EXPECTED}"
                )));
            }
        }
        found
            .map(SecretRef)
            .ok_or_else(|| de::Error::custom(format!("empty secret reference: write {EXPECTED}")))
    }
}
