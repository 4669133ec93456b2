//! The HTTP-Redirect and HTTP-POST bindings (SAML bindings §3.4 and §3.5):
//! decoding what arrives, with bounds, and encoding what leaves.

use std::io::{Read, Write};

use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;

use crate::crypto::{decode_base64, encode_base64, verify_with_any, AlgorithmPolicy};
use crate::dsig::{verify_enveloped, VerifiedSignature};
use crate::xml::{parse, Element, ParseLimits, NS_SAML};
use crate::{SamlError, SignatureAlgorithm, TrustedKey, XmlSigner};

/// A SAML binding, by its URI (SAML bindings §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    HttpRedirect,
    HttpPost,
    HttpArtifact,
    Soap,
    Other(String),
}

impl Binding {
    pub fn uri(&self) -> &str {
        match self {
            Self::HttpRedirect => "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
            Self::HttpPost => "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
            Self::HttpArtifact => "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact",
            Self::Soap => "urn:oasis:names:tc:SAML:2.0:bindings:SOAP",
            Self::Other(uri) => uri,
        }
    }

    pub fn from_uri(uri: &str) -> Self {
        [Self::HttpRedirect, Self::HttpPost, Self::HttpArtifact, Self::Soap]
            .into_iter()
            .find(|b| b.uri() == uri)
            .unwrap_or_else(|| Self::Other(uri.to_owned()))
    }
}

/// Whether a message travels as `SAMLRequest` or `SAMLResponse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Request,
    Response,
}

impl MessageKind {
    pub fn parameter(self) -> &'static str {
        match self {
            Self::Request => "SAMLRequest",
            Self::Response => "SAMLResponse",
        }
    }
}

/// The parts of an HTTP-Redirect query signature, kept exactly as received.
#[derive(Debug, Clone)]
struct RedirectSignature {
    signed_bytes: String,
    algorithm: String,
    signature: Vec<u8>,
}

/// A message received from a peer, decoded and parsed, not yet trusted.
#[derive(Debug, Clone)]
pub struct InboundMessage {
    pub(crate) root: Element,
    pub binding: Binding,
    pub kind: MessageKind,
    pub relay_state: Option<String>,
    redirect_signature: Option<RedirectSignature>,
}

/// Form-urlencoding decode: `+` is a space, then percent escapes.
fn form_decode(raw: &str) -> Result<String, SamlError> {
    urlencoding::decode(&raw.replace('+', " "))
        .map(|s| s.into_owned())
        .map_err(|_| SamlError::Query("invalid percent-encoding"))
}

/// Base64 from a query or form value. Some SPs forget to escape `+`, which
/// then arrives as a space; base64 has no spaces, so put it back.
fn decode_base64_param(value: &str) -> Result<Vec<u8>, SamlError> {
    decode_base64(&value.trim().replace(' ', "+"))
}

/// Raw DEFLATE (RFC 1951), stopping with an error past `limit` output bytes
/// so a small bomb cannot inflate into memory exhaustion.
fn inflate(compressed: &[u8], limit: usize) -> Result<Vec<u8>, SamlError> {
    let mut out = Vec::new();
    DeflateDecoder::new(compressed).take(limit as u64 + 1).read_to_end(&mut out).map_err(SamlError::Inflate)?;
    if out.len() > limit {
        return Err(SamlError::TooLarge { limit });
    }
    Ok(out)
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

impl InboundMessage {
    /// Decodes an HTTP-Redirect message from the raw query string, exactly as
    /// received (no `?`), per SAML bindings §3.4.4.1. The signature, if any,
    /// is kept over the raw bytes for [`InboundMessage::verify_signature`].
    pub fn from_redirect_query(raw_query: &str, limits: &ParseLimits) -> Result<Self, SamlError> {
        if raw_query.len() > limits.max_bytes * 2 {
            return Err(SamlError::TooLarge { limit: limits.max_bytes * 2 });
        }
        let mut message: Option<(MessageKind, &str)> = None;
        let (mut relay_state, mut sig_alg, mut signature) = (None, None, None);
        for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name {
                "SAMLRequest" | "SAMLResponse" => {
                    if message.is_some() {
                        return Err(SamlError::Query("more than one SAML message"));
                    }
                    let kind = if name == "SAMLRequest" { MessageKind::Request } else { MessageKind::Response };
                    message = Some((kind, value));
                    continue;
                }
                "RelayState" => &mut relay_state,
                "SigAlg" => &mut sig_alg,
                "Signature" => &mut signature,
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(SamlError::Query("repeated parameter"));
            }
        }
        let (kind, encoded) = message.ok_or(SamlError::Query("no SAMLRequest or SAMLResponse"))?;
        let compressed = decode_base64_param(&form_decode(encoded)?)?;
        let xml = inflate(&compressed, limits.max_bytes)?;
        let root = parse(&xml, limits)?;

        let redirect_signature = match (sig_alg, signature) {
            (None, None) => None,
            (Some(raw_alg), Some(raw_signature)) => {
                let mut signed_bytes = format!("{}={encoded}", kind.parameter());
                if let Some(relay) = relay_state {
                    signed_bytes.push_str("&RelayState=");
                    signed_bytes.push_str(relay);
                }
                signed_bytes.push_str("&SigAlg=");
                signed_bytes.push_str(raw_alg);
                Some(RedirectSignature {
                    signed_bytes,
                    algorithm: form_decode(raw_alg)?,
                    signature: decode_base64_param(&form_decode(raw_signature)?)?,
                })
            }
            _ => return Err(SamlError::Query("SigAlg and Signature must come together")),
        };
        Ok(InboundMessage {
            root,
            binding: Binding::HttpRedirect,
            kind,
            relay_state: relay_state.map(form_decode).transpose()?,
            redirect_signature,
        })
    }

    /// Decodes an HTTP-POST message: the `SAMLRequest` or `SAMLResponse` form
    /// value (already form-decoded by the gateway) and RelayState (bindings §3.5.4).
    pub fn from_post(
        kind: MessageKind,
        encoded: &str,
        relay_state: Option<&str>,
        limits: &ParseLimits,
    ) -> Result<Self, SamlError> {
        if encoded.len() > limits.max_bytes / 3 * 4 + 1024 {
            return Err(SamlError::TooLarge { limit: limits.max_bytes });
        }
        let xml = decode_base64_param(encoded)?;
        let root = parse(&xml, limits)?;
        Ok(InboundMessage {
            root,
            binding: Binding::HttpPost,
            kind,
            relay_state: relay_state.map(str::to_owned),
            redirect_signature: None,
        })
    }

    /// Whether the message claims a signature (query or enveloped).
    pub fn is_signed(&self) -> bool {
        self.redirect_signature.is_some() || self.root.find(crate::xml::NS_DS, "Signature").is_some()
    }

    /// The root element's local name, e.g. `AuthnRequest`.
    pub fn message_name(&self) -> &str {
        self.root.local_name()
    }

    /// The Issuer, untrusted until the signature is verified; the gateway
    /// uses it to find which app's keys to verify with.
    pub fn issuer(&self) -> Option<String> {
        self.root.child_text(NS_SAML, "Issuer")
    }

    /// Verifies the message's signature with keys from our store (never from
    /// the message's KeyInfo). Redirect: the query signature over the raw
    /// parameters (bindings §3.4.4.1). POST: the enveloped signature on the
    /// root element.
    ///
    /// Bindings §3.4.4.1 says a Redirect message drops its XML signature, but
    /// pysaml2 (7.x) keeps one inside a query-signed request. The query
    /// signature covers the whole encoded message, embedded signature and all,
    /// so such a request is accepted on its query signature; the embedded one
    /// is never read. A Redirect message with only an embedded signature is
    /// refused as unsigned.
    pub fn verify_signature(
        &self,
        keys: &[TrustedKey],
        policy: &AlgorithmPolicy,
    ) -> Result<VerifiedSignature, SamlError> {
        match (&self.binding, &self.redirect_signature) {
            (Binding::HttpRedirect, Some(signature)) => {
                let algorithm = policy.check_signature(&signature.algorithm)?;
                verify_with_any(keys, algorithm, signature.signed_bytes.as_bytes(), &signature.signature)?;
                Ok(VerifiedSignature { algorithm })
            }
            (Binding::HttpRedirect, None) => Err(SamlError::SignatureMissing),
            _ => verify_enveloped(&self.root, keys, policy),
        }
    }
}

/// Builds an HTTP-Redirect URL for an outgoing message (bindings §3.4.4.1):
/// DEFLATE, base64, URL-encode, and sign the query when a signer is given.
pub fn redirect_url(
    endpoint: &str,
    kind: MessageKind,
    xml: &str,
    relay_state: Option<&str>,
    signer: Option<(&dyn XmlSigner, SignatureAlgorithm)>,
) -> Result<String, SamlError> {
    let mut query = format!("{}={}", kind.parameter(), urlencoding::encode(&encode_base64(&deflate(xml.as_bytes()))));
    if let Some(relay) = relay_state {
        query.push_str("&RelayState=");
        query.push_str(&urlencoding::encode(relay));
    }
    if let Some((signer, algorithm)) = signer {
        query.push_str("&SigAlg=");
        query.push_str(&urlencoding::encode(algorithm.uri()));
        let signature = signer.sign(algorithm, query.as_bytes())?;
        query.push_str("&Signature=");
        query.push_str(&urlencoding::encode(&encode_base64(&signature)));
    }
    let separator = if endpoint.contains('?') { '&' } else { '?' };
    Ok(format!("{endpoint}{separator}{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflate_stops_at_the_bound() {
        let bomb = deflate(&vec![b'a'; 10 * 1024 * 1024]);
        assert!(bomb.len() < 20 * 1024);
        assert!(matches!(inflate(&bomb, 64 * 1024), Err(SamlError::TooLarge { .. })));
        assert_eq!(inflate(&deflate(b"<a/>"), 64).unwrap(), b"<a/>");
    }

    #[test]
    fn malformed_queries_are_rejected_without_panicking() {
        let limits = ParseLimits::default();
        let good = urlencoding::encode(&encode_base64(&deflate(b"<a/>"))).into_owned();
        let cases = [
            String::new(),
            "SAMLRequest".into(),
            "SAMLRequest=%".into(),
            "SAMLRequest=!!!".into(),
            "SAMLRequest=AAAA".into(),
            format!("SAMLRequest={good}&SAMLRequest={good}"),
            format!("SAMLRequest={good}&SigAlg=x"),
            format!("SAMLRequest={good}&Signature=%%%&SigAlg=x"),
            format!("SAMLRequest={good}&RelayState=a&RelayState=b"),
            "SAMLRequest=%FF%FE".into(),
            "&&&=&=".into(),
        ];
        for query in cases {
            assert!(InboundMessage::from_redirect_query(&query, &limits).is_err(), "{query}");
        }
        let ok =
            InboundMessage::from_redirect_query(&format!("SAMLRequest={good}&RelayState=%2Fhome"), &limits).unwrap();
        assert_eq!(ok.relay_state.as_deref(), Some("/home"));
        assert!(!ok.is_signed());
        assert!(matches!(ok.verify_signature(&[], &AlgorithmPolicy::default()), Err(SamlError::SignatureMissing)));
    }
}
