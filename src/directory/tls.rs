//! The rustls client configuration for the directory: only the configured CA is trusted (a pinned
//! trust anchor, not the system store), and the server's host name is verified. [`ca_certificates`]
//! is the same loader for adapters whose TLS library builds its own config (the SMTP relay).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Why a trust anchor could not be loaded: the admin must fix the `[trust]` entry naming the file.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read the CA file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the CA file {path} holds no PEM certificate")]
    Empty { path: String },
    #[error("the CA file {path} is not usable: {detail}")]
    Invalid { path: String, detail: String },
}

/// A client config trusting exactly the certificates in the PEM file at `ca_file`.
pub fn client_config(ca_file: &Path) -> Result<Arc<rustls::ClientConfig>, TrustError> {
    let path = ca_file.display().to_string();
    let mut roots = rustls::RootCertStore::empty();
    for cert in ca_certificates(ca_file)? {
        roots.add(cert).map_err(|e| TrustError::Invalid {
            path: path.clone(),
            detail: e.to_string(),
        })?;
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

/// The certificates in the PEM file at `ca_file`, each checked to be a usable trust anchor; at least one.
pub fn ca_certificates(ca_file: &Path) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    let path = ca_file.display().to_string();
    let pem = std::fs::read(ca_file).map_err(|source| TrustError::Read {
        path: path.clone(),
        source,
    })?;
    let mut certs = Vec::new();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| TrustError::Invalid {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        // Parsing it as a trust anchor now turns a broken file into a start-up error, not a failed send.
        rustls::RootCertStore::empty()
            .add(cert.clone())
            .map_err(|e| TrustError::Invalid {
                path: path.clone(),
                detail: e.to_string(),
            })?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(TrustError::Empty { path });
    }
    Ok(certs)
}
