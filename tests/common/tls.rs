//! Certificates made for one test: a CA (rcgen) and what it signs.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

/// A certificate authority made for one test.
pub struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Authority {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self { issuer }
    }

    /// Writes `<name>.pem` (the CA's certificate) into `dir`.
    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        super::write_file(dir, &format!("{name}.pem"), self.issuer.pem().as_bytes())
    }

    /// A certificate for 127.0.0.1 and localhost (server or client), written as
    /// `<name>.crt` and `<name>.key`.
    pub fn issue(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        (
            super::write_file(dir, &format!("{name}.crt"), certificate.pem().as_bytes()),
            super::write_file(dir, &format!("{name}.key"), key.serialize_pem().as_bytes()),
        )
    }
}
