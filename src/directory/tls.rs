//! The rustls client configuration for the directory: only the configured CA is trusted (a pinned
//! trust anchor, not the system store), and the server's host name is verified.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Why the trust anchor could not be loaded: the admin must fix `[trust] directory_ca`.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read the directory CA {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the directory CA {path} holds no PEM certificate")]
    Empty { path: String },
    #[error("the directory CA {path} is not usable: {detail}")]
    Invalid { path: String, detail: String },
}

/// A client config trusting exactly the certificates in the PEM file at `ca_file`.
pub fn client_config(ca_file: &Path) -> Result<Arc<rustls::ClientConfig>, TrustError> {
    let path = ca_file.display().to_string();
    let pem = std::fs::read(ca_file).map_err(|source| TrustError::Read {
        path: path.clone(),
        source,
    })?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| TrustError::Invalid {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        roots.add(cert).map_err(|e| TrustError::Invalid {
            path: path.clone(),
            detail: e.to_string(),
        })?;
    }
    if roots.is_empty() {
        return Err(TrustError::Empty { path });
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError::Invalid {
            path: path.clone(),
            detail: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
