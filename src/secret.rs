//! Secrets: passwords, codes, answers and keys. A [`Secret`] never prints (Debug and Display show `***`)
//! and is zeroized when dropped. [`SecretSource`] says where a configured secret comes from — a file or a
//! systemd credential — because secrets are never written inline in a configuration file.

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A secret value. Compare with [`Secret::ct_eq`]; read with [`Secret::expose`] only where it is used.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself. Call this only at the point of use (a bind, an encryption), never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compares in time that depends only on the lengths, not on where the values differ.
    pub fn ct_eq(&self, other: &Secret) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl Secret {
    /// A purpose-specific 32-byte key derived from this secret (HMAC-SHA256 as the KDF), so one
    /// device key serves the outbox, decoys and more without any two uses sharing a key.
    pub fn derive_key(&self, purpose: &[u8]) -> zeroize::Zeroizing<[u8; 32]> {
        use hmac::{Hmac, KeyInit, Mac};
        // HMAC takes keys of any length: this never fails.
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(self.0.as_bytes()) else {
            return zeroize::Zeroizing::new([0; 32]);
        };
        mac.update(purpose);
        zeroize::Zeroizing::new(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a configured secret is read from. Written in TOML as `{ credential = "name" }` (a systemd
/// credential, found in `$CREDENTIALS_DIRECTORY`) or `{ file = "/etc/sspr-kiosk/secret" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Credential(String),
    File(PathBuf),
}

/// Why a secret could not be loaded; each variant tells the admin what to fix.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The unit has no `LoadCredential=`: the service cannot start until it is added.
    #[error(
        "secret credential `{name}` is configured, but $CREDENTIALS_DIRECTORY is not set: add \
         `LoadCredential={name}:/path/to/file` (or LoadCredentialEncrypted=) to the systemd unit"
    )]
    NoCredentialsDirectory { name: String },
    /// The file is missing or unreadable for this user.
    #[error("cannot read secret file {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Anyone on the machine could read it: refused until the permissions are fixed.
    #[error(
        "secret file {path} is readable by other users (mode {mode:o}): run `chmod 600 {path}`"
    )]
    WorldReadable { path: PathBuf, mode: u32 },
    /// An empty secret is always a deployment mistake.
    #[error("secret file {path} is empty")]
    Empty { path: PathBuf },
}

impl SecretSource {
    /// A short description for summaries and logs (names the source, never the value).
    pub fn describe(&self) -> String {
        match self {
            SecretSource::Credential(name) => format!("systemd credential `{name}`"),
            SecretSource::File(path) => format!("file {}", path.display()),
        }
    }

    /// Reads the secret, with `credentials_dir` standing for `$CREDENTIALS_DIRECTORY`.
    /// One trailing newline is removed (files written by `echo` have one).
    pub fn load(&self, credentials_dir: Option<&Path>) -> Result<Secret, SecretError> {
        let path = match self {
            SecretSource::File(path) => {
                refuse_world_readable(path)?;
                path.clone()
            }
            SecretSource::Credential(name) => match credentials_dir {
                Some(dir) => dir.join(name),
                None => return Err(SecretError::NoCredentialsDirectory { name: name.clone() }),
            },
        };
        let mut bytes = std::fs::read(&path).map_err(|source| SecretError::Unreadable {
            path: path.clone(),
            source,
        })?;
        let text = String::from_utf8(std::mem::take(&mut bytes)).map_err(|e| {
            let mut raw = e.into_bytes();
            raw.zeroize();
            SecretError::Unreadable {
                path: path.clone(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"),
            }
        })?;
        let mut secret = Secret(text);
        if secret.0.ends_with('\n') {
            secret.0.pop();
            if secret.0.ends_with('\r') {
                secret.0.pop();
            }
        }
        if secret.is_empty() {
            return Err(SecretError::Empty { path });
        }
        Ok(secret)
    }

    /// Loads with the process's own `$CREDENTIALS_DIRECTORY`.
    pub fn load_from_env(&self) -> Result<Secret, SecretError> {
        let dir = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
        self.load(dir.as_deref())
    }
}

fn refuse_world_readable(path: &Path) -> Result<(), SecretError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| SecretError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o007 != 0 {
        return Err(SecretError::WorldReadable {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(Secret(***))");
    }

    #[test]
    fn constant_time_compare_is_equality() {
        assert!(Secret::new("abc").ct_eq(&Secret::new("abc")));
        assert!(!Secret::new("abc").ct_eq(&Secret::new("abd")));
        assert!(!Secret::new("abc").ct_eq(&Secret::new("abcd")));
    }

    #[test]
    fn file_secret_loads_and_trims_one_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret value\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let secret = SecretSource::File(path).load(None).unwrap();
        assert_eq!(secret.expose(), "s3cret value");
    }

    #[test]
    fn world_readable_file_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "x").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = SecretSource::File(path).load(None).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn credential_needs_the_credentials_directory() {
        let source = SecretSource::Credential("ldap-bind".into());
        let err = source.load(None).unwrap_err();
        assert!(
            err.to_string().contains("LoadCredential=ldap-bind"),
            "{err}"
        );

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ldap-bind"), "from-credential").unwrap();
        assert_eq!(
            source.load(Some(dir.path())).unwrap().expose(),
            "from-credential"
        );
    }

    #[test]
    fn empty_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k"), "\n").unwrap();
        let err = SecretSource::Credential("k".into())
            .load(Some(dir.path()))
            .unwrap_err();
        assert!(matches!(err, SecretError::Empty { .. }));
    }
}
