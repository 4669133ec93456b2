//! Keys, algorithms and the signing trait. All cryptography is OpenSSL's.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private, Public};
use openssl::sign::{Signer, Verifier};
use openssl::x509::X509;

use crate::SamlError;

/// An XML-DSig signature algorithm (RFC 6931 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureAlgorithm {
    /// Only for peers that cannot do better; never chosen by default.
    RsaSha1,
    #[default]
    RsaSha256,
    RsaSha384,
    RsaSha512,
}

impl SignatureAlgorithm {
    pub fn uri(self) -> &'static str {
        match self {
            Self::RsaSha1 => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
            Self::RsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            Self::RsaSha384 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
            Self::RsaSha512 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        }
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        [Self::RsaSha1, Self::RsaSha256, Self::RsaSha384, Self::RsaSha512].into_iter().find(|a| a.uri() == uri)
    }

    pub(crate) fn message_digest(self) -> MessageDigest {
        match self {
            Self::RsaSha1 => MessageDigest::sha1(),
            Self::RsaSha256 => MessageDigest::sha256(),
            Self::RsaSha384 => MessageDigest::sha384(),
            Self::RsaSha512 => MessageDigest::sha512(),
        }
    }
}

/// An XML-DSig digest algorithm. Outgoing references always use SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DigestAlgorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgorithm {
    pub fn uri(self) -> &'static str {
        match self {
            Self::Sha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
            Self::Sha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
            Self::Sha384 => "http://www.w3.org/2001/04/xmldsig-more#sha384",
            Self::Sha512 => "http://www.w3.org/2001/04/xmlenc#sha512",
        }
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        [Self::Sha1, Self::Sha256, Self::Sha384, Self::Sha512].into_iter().find(|a| a.uri() == uri)
    }

    pub fn digest(self, data: &[u8]) -> Result<Vec<u8>, SamlError> {
        let md = match self {
            Self::Sha1 => MessageDigest::sha1(),
            Self::Sha256 => MessageDigest::sha256(),
            Self::Sha384 => MessageDigest::sha384(),
            Self::Sha512 => MessageDigest::sha512(),
        };
        Ok(openssl::hash::hash(md, data)?.to_vec())
    }
}

/// Which algorithms a peer's signatures may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlgorithmPolicy {
    /// Accept RSA-SHA1 signatures and SHA-1 digests. Off unless an app opts in.
    pub allow_sha1: bool,
}

impl AlgorithmPolicy {
    pub(crate) fn check_signature(&self, uri: &str) -> Result<SignatureAlgorithm, SamlError> {
        match SignatureAlgorithm::from_uri(uri) {
            Some(SignatureAlgorithm::RsaSha1) if !self.allow_sha1 => Err(SamlError::AlgorithmNotAllowed(uri.into())),
            Some(algorithm) => Ok(algorithm),
            None => Err(SamlError::AlgorithmNotAllowed(uri.into())),
        }
    }

    pub(crate) fn check_digest(&self, uri: &str) -> Result<DigestAlgorithm, SamlError> {
        match DigestAlgorithm::from_uri(uri) {
            Some(DigestAlgorithm::Sha1) if !self.allow_sha1 => Err(SamlError::AlgorithmNotAllowed(uri.into())),
            Some(algorithm) => Ok(algorithm),
            None => Err(SamlError::AlgorithmNotAllowed(uri.into())),
        }
    }
}

/// Makes raw signatures for XML-DSig and the HTTP-Redirect binding.
///
/// The XML around the signature is this crate's; only the private-key
/// operation is behind the trait, so the key can live in an HSM or KMS.
pub trait XmlSigner: Send + Sync {
    /// Signs `data` (PKCS#1 v1.5 with the algorithm's hash).
    fn sign(&self, algorithm: SignatureAlgorithm, data: &[u8]) -> Result<Vec<u8>, SamlError>;
    /// The signing certificate, base64 DER, for `ds:KeyInfo` and metadata.
    fn certificate_base64(&self) -> &str;
}

/// An RSA private key and its certificate, parsed once at start.
pub struct SigningKey {
    key: PKey<Private>,
    certificate_base64: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("key", &"[redacted]").finish_non_exhaustive()
    }
}

impl SigningKey {
    /// From a PEM private key (PKCS#8 or PKCS#1) and a PEM certificate.
    /// Fails unless the certificate is for this key.
    pub fn from_pem(key_pem: &[u8], certificate_pem: &[u8]) -> Result<Self, SamlError> {
        let key = PKey::private_key_from_pem(key_pem).map_err(|_| SamlError::Key("private key PEM"))?;
        let certificate = X509::from_pem(certificate_pem).map_err(|_| SamlError::Key("certificate PEM"))?;
        Self::new(key, &certificate)
    }

    pub fn new(key: PKey<Private>, certificate: &X509) -> Result<Self, SamlError> {
        if key.rsa().is_err() {
            return Err(SamlError::Key("only RSA keys are supported"));
        }
        let public = certificate.public_key()?;
        if !key.public_eq(&public) {
            return Err(SamlError::Key("certificate does not match the private key"));
        }
        let certificate_base64 = STANDARD.encode(certificate.to_der()?);
        Ok(SigningKey { key, certificate_base64 })
    }
}

impl XmlSigner for SigningKey {
    fn sign(&self, algorithm: SignatureAlgorithm, data: &[u8]) -> Result<Vec<u8>, SamlError> {
        let mut signer = Signer::new(algorithm.message_digest(), &self.key)?;
        Ok(signer.sign_oneshot_to_vec(data)?)
    }

    fn certificate_base64(&self) -> &str {
        &self.certificate_base64
    }
}

/// A peer's public key from our store (never from a message's KeyInfo).
#[derive(Clone)]
pub struct TrustedKey {
    key: PKey<Public>,
}

impl std::fmt::Debug for TrustedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrustedKey")
    }
}

impl TrustedKey {
    pub fn from_certificate(certificate: &X509) -> Result<Self, SamlError> {
        Ok(TrustedKey { key: certificate.public_key()? })
    }

    pub fn from_certificate_pem(pem: &[u8]) -> Result<Self, SamlError> {
        Self::from_certificate(&X509::from_pem(pem).map_err(|_| SamlError::Key("certificate PEM"))?)
    }

    /// From base64 DER, as in metadata's `ds:X509Certificate` (whitespace allowed).
    pub fn from_certificate_base64(b64: &str) -> Result<Self, SamlError> {
        let der = decode_base64(b64)?;
        Self::from_certificate(&X509::from_der(&der).map_err(|_| SamlError::Key("certificate DER"))?)
    }

    pub(crate) fn verify(&self, algorithm: SignatureAlgorithm, data: &[u8], signature: &[u8]) -> bool {
        Verifier::new(algorithm.message_digest(), &self.key)
            .and_then(|mut v| v.verify_oneshot(signature, data))
            .unwrap_or(false)
    }
}

/// Whether any of `keys` verifies `signature` over `data`.
pub(crate) fn verify_with_any(
    keys: &[TrustedKey],
    algorithm: SignatureAlgorithm,
    data: &[u8],
    signature: &[u8],
) -> Result<(), SamlError> {
    if keys.iter().any(|k| k.verify(algorithm, data, signature)) {
        Ok(())
    } else {
        Err(SamlError::SignatureInvalid)
    }
}

/// Standard base64, ignoring the whitespace XML puts into long values.
pub(crate) fn decode_base64(b64: &str) -> Result<Vec<u8>, SamlError> {
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).map_err(SamlError::Base64)
}

pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}
