//! EncryptedAssertion (SAML core §2.3.4) with XML Encryption 1.1: a fresh
//! AES-256 key encrypts the assertion, RSA-OAEP carries the key to the SP.

use openssl::encrypt::Encrypter;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Public};
use openssl::rsa::Padding;
use openssl::symm::{encrypt, encrypt_aead, Cipher};
use openssl::x509::X509;
use rand::{CryptoRng, RngCore};

use crate::crypto::{decode_base64, encode_base64};
use crate::xml::{Element, NS_DS, NS_SAML, NS_XENC};
use crate::SamlError;

/// The block cipher over the assertion (XML Encryption 1.1 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentEncryption {
    #[default]
    Aes256Gcm,
    /// For SPs without GCM; CBC is unauthenticated, so prefer GCM.
    Aes256Cbc,
}

impl ContentEncryption {
    pub fn uri(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "http://www.w3.org/2009/xmlenc11#aes256-gcm",
            Self::Aes256Cbc => "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
        }
    }
}

/// How the content key is encrypted to the SP (XML Encryption 1.1 §5.5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyTransport {
    /// `xmlenc#rsa-oaep-mgf1p`: OAEP with SHA-1 and MGF1-SHA1. What most SPs
    /// (and xmlsec1 1.2) understand, so the default.
    #[default]
    RsaOaepMgf1p,
    /// `xmlenc11#rsa-oaep` with a SHA-256 digest and MGF1-SHA1 (the default MGF).
    RsaOaep,
}

impl KeyTransport {
    pub fn uri(self) -> &'static str {
        match self {
            Self::RsaOaepMgf1p => "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
            Self::RsaOaep => "http://www.w3.org/2009/xmlenc11#rsa-oaep",
        }
    }

    fn digest(self) -> (MessageDigest, &'static str) {
        match self {
            Self::RsaOaepMgf1p => (MessageDigest::sha1(), "http://www.w3.org/2000/09/xmldsig#sha1"),
            Self::RsaOaep => (MessageDigest::sha256(), "http://www.w3.org/2001/04/xmlenc#sha256"),
        }
    }
}

/// The SP's encryption key and the algorithms to use with it.
#[derive(Clone)]
pub struct AssertionEncryption {
    key: PKey<Public>,
    pub content: ContentEncryption,
    pub key_transport: KeyTransport,
}

impl std::fmt::Debug for AssertionEncryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionEncryption")
            .field("content", &self.content)
            .field("key_transport", &self.key_transport)
            .finish_non_exhaustive()
    }
}

impl AssertionEncryption {
    /// To the RSA key in the SP's certificate (from its metadata or the app's settings).
    pub fn new(certificate: &X509, content: ContentEncryption, key_transport: KeyTransport) -> Result<Self, SamlError> {
        let key = certificate.public_key()?;
        if key.rsa().is_err() {
            return Err(SamlError::Key("encryption certificate must hold an RSA key"));
        }
        Ok(AssertionEncryption { key, content, key_transport })
    }

    pub fn from_certificate_base64(
        b64: &str,
        content: ContentEncryption,
        key_transport: KeyTransport,
    ) -> Result<Self, SamlError> {
        let certificate = X509::from_der(&decode_base64(b64)?).map_err(|_| SamlError::Key("certificate DER"))?;
        Self::new(&certificate, content, key_transport)
    }
}

/// Encrypts the canonical (possibly signed) assertion into an
/// `saml:EncryptedAssertion`. The cipher value is IV ‖ ciphertext (‖ tag for GCM).
pub(crate) fn encrypt_assertion<R: RngCore + CryptoRng + ?Sized>(
    assertion: &str,
    encryption: &AssertionEncryption,
    rng: &mut R,
) -> Result<Element, SamlError> {
    let mut key = [0u8; 32];
    rng.fill_bytes(&mut key);
    let cipher_value = match encryption.content {
        ContentEncryption::Aes256Gcm => {
            let mut iv = [0u8; 12];
            rng.fill_bytes(&mut iv);
            let mut tag = [0u8; 16];
            let ciphertext = encrypt_aead(Cipher::aes_256_gcm(), &key, Some(&iv), &[], assertion.as_bytes(), &mut tag)?;
            [&iv[..], &ciphertext, &tag].concat()
        }
        ContentEncryption::Aes256Cbc => {
            let mut iv = [0u8; 16];
            rng.fill_bytes(&mut iv);
            // PKCS#7 padding is one of the paddings XML Encryption §5.2 allows.
            let ciphertext = encrypt(Cipher::aes_256_cbc(), &key, Some(&iv), assertion.as_bytes())?;
            [&iv[..], &ciphertext].concat()
        }
    };

    let (md, digest_uri) = encryption.key_transport.digest();
    let mut encrypter = Encrypter::new(&encryption.key)?;
    encrypter.set_rsa_padding(Padding::PKCS1_OAEP)?;
    encrypter.set_rsa_oaep_md(md)?;
    encrypter.set_rsa_mgf1_md(MessageDigest::sha1())?;
    let mut encrypted_key = vec![0u8; encrypter.encrypt_len(&key)?];
    let written = encrypter.encrypt(&key, &mut encrypted_key)?;
    encrypted_key.truncate(written);

    let key_method = Element::new("xenc", "EncryptionMethod", NS_XENC)
        .attr("Algorithm", encryption.key_transport.uri())
        .child(Element::new("ds", "DigestMethod", NS_DS).attr("Algorithm", digest_uri));
    let encrypted_data =
        Element::new("xenc", "EncryptedData", NS_XENC)
            .attr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
            .child(Element::new("xenc", "EncryptionMethod", NS_XENC).attr("Algorithm", encryption.content.uri()))
            .child(Element::new("ds", "KeyInfo", NS_DS).child(
                Element::new("xenc", "EncryptedKey", NS_XENC).child(key_method).child(cipher_data(&encrypted_key)),
            ))
            .child(cipher_data(&cipher_value));
    Ok(Element::new("saml", "EncryptedAssertion", NS_SAML).child(encrypted_data))
}

fn cipher_data(bytes: &[u8]) -> Element {
    Element::new("xenc", "CipherData", NS_XENC)
        .child(Element::new("xenc", "CipherValue", NS_XENC).text(encode_base64(bytes)))
}

#[cfg(test)]
mod tests {
    use openssl::encrypt::Decrypter;
    use openssl::symm::{decrypt, decrypt_aead};
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::xml::{parse, ParseLimits};

    /// Decrypts as an SP would, with OpenSSL directly, reading the algorithms
    /// from the document.
    fn decrypt_as_sp(encrypted: &Element) -> String {
        let xml = encrypted.canonical();
        let root = parse(xml.as_bytes(), &ParseLimits::default()).unwrap();
        let data = root.find(NS_XENC, "EncryptedData").unwrap();
        let content_uri = data.find(NS_XENC, "EncryptionMethod").unwrap().get("Algorithm").unwrap().to_owned();
        let encrypted_key = data.find(NS_DS, "KeyInfo").unwrap().find(NS_XENC, "EncryptedKey").unwrap();
        let key_method = encrypted_key.find(NS_XENC, "EncryptionMethod").unwrap();
        let digest = key_method.find(NS_DS, "DigestMethod").unwrap().get("Algorithm").unwrap();
        let cipher_value = |e: &Element| {
            decode_base64(&e.find(NS_XENC, "CipherData").unwrap().find(NS_XENC, "CipherValue").unwrap().text_content())
                .unwrap()
        };

        let private = PKey::private_key_from_pem(include_bytes!("../tests/fixtures/sp-key.pem")).unwrap();
        let mut decrypter = Decrypter::new(&private).unwrap();
        decrypter.set_rsa_padding(Padding::PKCS1_OAEP).unwrap();
        let md = if digest.ends_with("sha256") { MessageDigest::sha256() } else { MessageDigest::sha1() };
        decrypter.set_rsa_oaep_md(md).unwrap();
        decrypter.set_rsa_mgf1_md(MessageDigest::sha1()).unwrap();
        let wrapped = cipher_value(encrypted_key);
        let mut key = vec![0u8; decrypter.decrypt_len(&wrapped).unwrap()];
        let n = decrypter.decrypt(&wrapped, &mut key).unwrap();
        key.truncate(n);

        let body = cipher_value(data);
        let plain = if content_uri == ContentEncryption::Aes256Gcm.uri() {
            let (iv, rest) = body.split_at(12);
            let (ciphertext, tag) = rest.split_at(rest.len() - 16);
            decrypt_aead(Cipher::aes_256_gcm(), &key, Some(iv), &[], ciphertext, tag).unwrap()
        } else {
            let (iv, ciphertext) = body.split_at(16);
            decrypt(Cipher::aes_256_cbc(), &key, Some(iv), ciphertext).unwrap()
        };
        String::from_utf8(plain).unwrap()
    }

    #[test]
    fn every_algorithm_pair_round_trips() {
        let certificate = X509::from_pem(include_bytes!("../tests/fixtures/sp-cert.pem")).unwrap();
        let assertion = "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">ada</saml:Assertion>";
        let mut rng = StdRng::seed_from_u64(1);
        for content in [ContentEncryption::Aes256Gcm, ContentEncryption::Aes256Cbc] {
            for transport in [KeyTransport::RsaOaepMgf1p, KeyTransport::RsaOaep] {
                let encryption = AssertionEncryption::new(&certificate, content, transport).unwrap();
                let encrypted = encrypt_assertion(assertion, &encryption, &mut rng).unwrap();
                assert!(encrypted.canonical().contains(transport.uri()));
                assert_eq!(decrypt_as_sp(&encrypted), assertion, "{content:?} {transport:?}");
            }
        }
    }
}
