//! Enveloped XML signatures (XML-DSig 1.1) over exclusive canonicalization,
//! the only profile SAML uses (SAML core §5.4).

use crate::crypto::{decode_base64, encode_base64, verify_with_any, AlgorithmPolicy, DigestAlgorithm};
use crate::xml::{Canonicalizer, Element, Node, NS_DS};
use crate::{SamlError, SignatureAlgorithm, TrustedKey, XmlSigner};

pub(crate) const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// Signs `element` (which must carry an `id_attribute`) with an enveloped
/// signature inserted as child number `position` (after the Issuer, per the
/// SAML schema). The digest is over `element`'s canonical form without the
/// signature, which is exactly what the enveloped-signature transform yields.
///
/// `inclusive` is the exc-c14n InclusiveNamespaces PrefixList: prefixes used
/// only inside attribute values (`xs` in `xsi:type="xs:string"`), which
/// exclusive C14N would otherwise drop. The document must then be written with
/// [`Element::canonical_with`] and the same list.
pub(crate) fn sign_enveloped(
    element: &mut Element,
    id_attribute: &str,
    position: usize,
    signer: &dyn XmlSigner,
    algorithm: SignatureAlgorithm,
    inclusive: &[&str],
) -> Result<(), SamlError> {
    let id = element.get(id_attribute).ok_or(SamlError::Missing("ID to sign"))?.to_owned();
    let digest = DigestAlgorithm::Sha256.digest(element.canonical_with(inclusive).as_bytes())?;
    let mut c14n_transform = Element::new("ds", "Transform", NS_DS).attr("Algorithm", EXC_C14N);
    if !inclusive.is_empty() {
        c14n_transform = c14n_transform
            .child(Element::new("ec", "InclusiveNamespaces", EXC_C14N).attr("PrefixList", inclusive.join(" ")));
    }
    let signed_info = Element::new("ds", "SignedInfo", NS_DS)
        .child(Element::new("ds", "CanonicalizationMethod", NS_DS).attr("Algorithm", EXC_C14N))
        .child(Element::new("ds", "SignatureMethod", NS_DS).attr("Algorithm", algorithm.uri()))
        .child(
            Element::new("ds", "Reference", NS_DS)
                .attr("URI", format!("#{id}"))
                .child(
                    Element::new("ds", "Transforms", NS_DS)
                        .child(Element::new("ds", "Transform", NS_DS).attr("Algorithm", ENVELOPED))
                        .child(c14n_transform),
                )
                .child(Element::new("ds", "DigestMethod", NS_DS).attr("Algorithm", DigestAlgorithm::Sha256.uri()))
                .child(Element::new("ds", "DigestValue", NS_DS).text(encode_base64(&digest))),
        );
    // SignedInfo declares ds itself, so its canonical form as an apex is the
    // same wherever the Signature lands.
    let signature_value = signer.sign(algorithm, signed_info.canonical().as_bytes())?;
    let signature = Element::new("ds", "Signature", NS_DS)
        .child(signed_info)
        .child(Element::new("ds", "SignatureValue", NS_DS).text(encode_base64(&signature_value)))
        .child(
            Element::new("ds", "KeyInfo", NS_DS).child(
                Element::new("ds", "X509Data", NS_DS)
                    .child(Element::new("ds", "X509Certificate", NS_DS).text(signer.certificate_base64())),
            ),
        );
    let position = position.min(element.children.len());
    element.children.insert(position, Node::Element(signature));
    Ok(())
}

/// Signs a whole message the way a peer does: parses `xml` (with the usual
/// bounds), inserts an enveloped signature after its Issuer, and returns the
/// canonical signed document. What the test service providers and SP-side
/// tooling use; the IdP's own messages are signed as they are built.
pub fn sign_message(xml: &str, signer: &dyn XmlSigner, algorithm: SignatureAlgorithm) -> Result<String, SamlError> {
    let mut root = crate::xml::parse(xml.as_bytes(), &crate::xml::ParseLimits::default())?;
    let issuer_at = root
        .children
        .iter()
        .position(|n| matches!(n, Node::Element(e) if e.local_name() == "Issuer"))
        .map_or(0, |i| i + 1);
    sign_enveloped(&mut root, "ID", issuer_at, signer, algorithm, &[])?;
    Ok(root.canonical())
}

/// Which signature a verified message carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedSignature {
    pub algorithm: SignatureAlgorithm,
}

/// Verifies the enveloped signature on `root`, the whole message, with keys
/// from our store only.
///
/// Checks, in order (XML-DSig core validation §3.2, hardened against
/// signature wrapping as in the SAML 2.0 security considerations §6.1.5):
/// 1. exactly one `ds:Signature` in the document, a child of the root;
/// 2. exclusive C14N and an allowed signature algorithm in SignedInfo;
/// 3. exactly one Reference, whose URI is `#` + the root's ID, an ID no
///    other element carries;
/// 4. transforms are enveloped-signature then exclusive C14N, nothing else;
/// 5. the digest over the root without the signature matches;
/// 6. a trusted key verifies SignatureValue over canonical SignedInfo.
pub(crate) fn verify_enveloped(
    root: &Element,
    keys: &[TrustedKey],
    policy: &AlgorithmPolicy,
) -> Result<VerifiedSignature, SamlError> {
    let mut signatures = 0usize;
    root.walk(&mut |e| {
        if e.is(NS_DS, "Signature") {
            signatures += 1;
        }
    });
    let signature = match signatures {
        0 => return Err(SamlError::SignatureMissing),
        1 => root.find(NS_DS, "Signature").ok_or(SamlError::SignatureStructure("signature is not on the root"))?,
        _ => return Err(SamlError::SignatureStructure("more than one signature")),
    };
    let signed_info = only_child(signature, "SignedInfo")?;

    let c14n_method = only_child(signed_info, "CanonicalizationMethod")?;
    if c14n_method.get("Algorithm") != Some(EXC_C14N) {
        return Err(SamlError::AlgorithmNotAllowed(c14n_method.get("Algorithm").unwrap_or("").to_owned()));
    }
    let algorithm =
        policy.check_signature(only_child(signed_info, "SignatureMethod")?.get("Algorithm").unwrap_or(""))?;

    let reference = only_child(signed_info, "Reference")?;
    let root_id = root.get("ID").filter(|id| !id.is_empty()).ok_or(SamlError::Missing("ID"))?;
    if reference.get("URI").and_then(|uri| uri.strip_prefix('#')) != Some(root_id) {
        return Err(SamlError::SignatureStructure("reference does not point at the message root"));
    }
    let mut holders = 0usize;
    root.walk(&mut |e| {
        if e.attributes
            .iter()
            .any(|a| a.value == root_id && (a.name == "ID" || a.name.ends_with(":Id") || a.name == "Id"))
        {
            holders += 1;
        }
    });
    if holders != 1 {
        return Err(SamlError::SignatureStructure("the signed ID is not unique"));
    }

    let transforms = only_child(reference, "Transforms")?;
    let mut enveloped = false;
    let mut inclusive = None;
    for (index, transform) in transforms.elements().enumerate() {
        if !transform.is(NS_DS, "Transform") {
            return Err(SamlError::SignatureStructure("unexpected element in Transforms"));
        }
        match (index, transform.get("Algorithm")) {
            (0, Some(ENVELOPED)) => enveloped = true,
            (1, Some(EXC_C14N)) => inclusive = Some(inclusive_prefixes(transform)),
            (_, other) => return Err(SamlError::AlgorithmNotAllowed(other.unwrap_or("").to_owned())),
        }
    }
    let inclusive = match (enveloped, inclusive) {
        (true, Some(inclusive)) => inclusive,
        _ => return Err(SamlError::SignatureStructure("transforms must be enveloped-signature, exc-c14n")),
    };
    let digest_algorithm =
        policy.check_digest(only_child(reference, "DigestMethod")?.get("Algorithm").unwrap_or(""))?;
    let expected = decode_base64(&only_child(reference, "DigestValue")?.text_content())?;

    let mut canonical = String::new();
    Canonicalizer { inclusive, skip: Some(signature), ..Default::default() }.write(root, &mut canonical);
    let actual = digest_algorithm.digest(canonical.as_bytes())?;
    if actual.len() != expected.len() || !openssl::memcmp::eq(&actual, &expected) {
        return Err(SamlError::DigestMismatch);
    }

    let mut signed_info_c14n = String::new();
    let scope = root.namespaces.iter().chain(&signature.namespaces).cloned().collect();
    Canonicalizer { scope, inclusive: inclusive_prefixes(c14n_method), ..Default::default() }
        .write(signed_info, &mut signed_info_c14n);
    let signature_value = decode_base64(&only_child(signature, "SignatureValue")?.text_content())?;
    verify_with_any(keys, algorithm, signed_info_c14n.as_bytes(), &signature_value)?;
    Ok(VerifiedSignature { algorithm })
}

/// The one `ds:{local}` child of `parent`; none or several is a rejection.
fn only_child<'a>(parent: &'a Element, local: &'static str) -> Result<&'a Element, SamlError> {
    let mut found = parent.find_all(NS_DS, local);
    match (found.next(), found.next()) {
        (Some(element), None) => Ok(element),
        (None, _) => Err(SamlError::SignatureStructure(local)),
        (Some(_), Some(_)) => Err(SamlError::SignatureStructure("duplicated signature element")),
    }
}

/// The PrefixList of an `ec:InclusiveNamespaces` child, `#default` as `""`.
fn inclusive_prefixes(method: &Element) -> Vec<String> {
    method
        .find(EXC_C14N, "InclusiveNamespaces")
        .and_then(|e| e.get("PrefixList"))
        .map(|list| {
            list.split_ascii_whitespace().map(|p| if p == "#default" { String::new() } else { p.to_owned() }).collect()
        })
        .unwrap_or_default()
}
