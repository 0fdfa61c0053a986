//! A throwaway PKI per server: a CA and a server certificate for `127.0.0.1` and `localhost` (rustls
//! needs a subjectAltName; Samba's generated certificate has none), written as PEM files.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};

#[derive(Debug, Clone)]
pub struct TestPki {
    pub ca_pem: PathBuf,
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
}

impl TestPki {
    /// Writes `ca.pem`, `server.pem` and `server.key` (mode 0600) into `dir`.
    pub fn create(dir: &Path, ca_name: &str) -> TestPki {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, ca_name);
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign CA");
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().expect("server key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned()]).expect("server params");
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let server_cert = params
            .signed_by(&server_key, &issuer)
            .expect("sign server cert");

        let pki = TestPki {
            ca_pem: dir.join("ca.pem"),
            cert_pem: dir.join("server.pem"),
            key_pem: dir.join("server.key"),
        };
        std::fs::write(&pki.ca_pem, ca_cert.pem()).expect("write ca.pem");
        std::fs::write(&pki.cert_pem, server_cert.pem()).expect("write server.pem");
        std::fs::write(&pki.key_pem, server_key.serialize_pem()).expect("write server.key");
        set_mode(&pki.key_pem, 0o600);
        pki
    }

    /// A rustls client configuration that trusts only this PKI's CA.
    pub fn client_config(&self) -> rustls::ClientConfig {
        let pem = std::fs::read(&self.ca_pem).expect("read ca.pem");
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
            roots.add(cert.expect("parse CA PEM")).expect("add CA root");
        }
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
    }
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
