//! The cluster's PKI, made with `rcgen`: one CA, the apiserver's serving certificate, client
//! certificates for any user, and the service-account signing key. All keys are ECDSA P-256.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A PEM certificate with its PEM (PKCS#8) private key.
#[derive(Debug, Clone)]
pub struct CertPair {
    pub cert_pem: String,
    pub key_pem: String,
}

/// The CA that signs every serving and client certificate of one control plane.
pub struct Pki {
    ca: Issuer<'static, KeyPair>,
    /// The CA certificate (PEM), trusted by every client and by the apiserver for client certs.
    pub ca_pem: String,
    /// Private key that signs service-account tokens (PEM, PKCS#8).
    pub sa_key_pem: String,
    /// Public half of `sa_key_pem` (PEM), for `--service-account-key-file`.
    pub sa_pub_pem: String,
}

impl Pki {
    /// Generates a fresh CA and service-account key.
    pub fn generate() -> Pki {
        let key = new_key();
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "kube-runbooks-harness-ca");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params
            .self_signed(&key)
            .unwrap_or_else(|e| panic!("cannot self-sign the CA: {e}"));
        let sa = new_key();
        Pki {
            ca: Issuer::new(params, key),
            ca_pem: cert.pem(),
            sa_key_pem: sa.serialize_pem(),
            sa_pub_pem: sa.public_key_pem(),
        }
    }

    /// The CA's private key (PEM), for the controller-manager's CSR signer.
    pub fn ca_key_pem(&self) -> String {
        self.ca.key().serialize_pem()
    }

    /// A serving certificate for `sans` (DNS names or IP addresses).
    pub fn serving_cert(&self, sans: &[&str]) -> CertPair {
        let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(sans.clone())
            .unwrap_or_else(|e| panic!("invalid serving SANs {sans:?}: {e}"));
        params
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    /// A client certificate authenticating as `user` (CN) in `groups` (O). Kubernetes reads every
    /// O of the subject; `rcgen` can encode at most two, so more than two groups panics.
    pub fn client_cert(&self, user: &str, groups: &[&str]) -> CertPair {
        assert!(
            groups.len() <= 2,
            "client certificates support at most 2 groups, got {groups:?}"
        );
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, user);
        if let Some(first) = groups.first() {
            params
                .distinguished_name
                .push(DnType::OrganizationName, *first);
        }
        if let Some(second) = groups.get(1) {
            // Same OID as OrganizationName (2.5.4.10) under a distinct key, so both are encoded.
            params
                .distinguished_name
                .push(DnType::CustomDnType(vec![2, 5, 4, 10]), *second);
        }
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> CertPair {
        let key = new_key();
        let cert = params
            .signed_by(&key, &self.ca)
            .unwrap_or_else(|e| panic!("cannot sign a certificate: {e}"));
        CertPair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

fn new_key() -> KeyPair {
    KeyPair::generate().unwrap_or_else(|e| panic!("cannot generate a key pair: {e}"))
}
