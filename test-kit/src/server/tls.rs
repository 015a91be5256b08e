//! TLS material for the emulator: PEM files from the command line, or a self-signed
//! certificate generated for tests.

use std::path::Path;

use anyhow::Context;

#[derive(Clone)]
pub struct TlsMaterial {
    /// The server's certificate chain.
    pub cert_pem: String,
    pub key_pem: String,
    /// What clients should trust: the generated CA, or the certificate itself for files.
    pub ca_pem: String,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsMaterial(..)")
    }
}

impl TlsMaterial {
    /// A throwaway CA and a certificate it signed for `localhost` and `127.0.0.1`; clients
    /// trust `ca_pem`. (OpenSSL-based clients refuse a bare self-signed leaf as a trust anchor.)
    pub fn self_signed() -> anyhow::Result<Self> {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).context("CA parameters")?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "trino-emulator test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)
            .context("signing the CA")?;
        let leaf_key = KeyPair::generate()?;
        let mut leaf =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .context("certificate parameters")?;
        leaf.distinguished_name
            .push(DnType::CommonName, "localhost");
        let cert = leaf
            .signed_by(&leaf_key, &ca)
            .context("signing the server certificate")?;
        let ca_pem = ca.pem();
        Ok(TlsMaterial {
            cert_pem: format!("{}{}", cert.pem(), ca_pem),
            key_pem: leaf_key.serialize_pem(),
            ca_pem,
        })
    }

    pub fn from_files(cert: &Path, key: &Path) -> anyhow::Result<Self> {
        let cert_pem = std::fs::read_to_string(cert)
            .with_context(|| format!("reading TLS certificate {}", cert.display()))?;
        let key_pem = std::fs::read_to_string(key)
            .with_context(|| format!("reading TLS key {}", key.display()))?;
        Ok(TlsMaterial {
            ca_pem: cert_pem.clone(),
            cert_pem,
            key_pem,
        })
    }
}

/// rustls needs one process-wide crypto provider; we use ring everywhere (no C toolchain).
pub(crate) fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
