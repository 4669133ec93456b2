//! Single Logout messages (SAML core §3.7): reading a peer's LogoutRequest or
//! LogoutResponse, and building ours for the POST or Redirect binding.

use rand::{CryptoRng, RngCore};
use time::OffsetDateTime;
use vestibule_core::Clock;

use crate::binding::{redirect_url, InboundMessage, MessageKind};
use crate::crypto::encode_base64;
use crate::dsig::{sign_enveloped, VerifiedSignature};
use crate::request::{
    check_destination, check_issue_instant, check_issuer, check_replay, check_signature, expect_root, parse_instant,
    required, ReplayCache, RequestPolicy, ServiceProvider,
};
use crate::response::{format_instant, issuer, new_id, status};
use crate::xml::{Element, NS_SAML, NS_SAMLP};
use crate::{SamlError, SignatureAlgorithm, StatusCode, XmlSigner};

/// A NameID as a peer sent it: the format is kept as a URI, since peers may
/// use ones we never produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedNameId {
    pub value: String,
    pub format: Option<String>,
}

/// A peer's LogoutRequest (SAML core §3.7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    pub id: String,
    pub version: String,
    pub issue_instant: OffsetDateTime,
    pub issuer: Option<String>,
    pub destination: Option<String>,
    pub not_on_or_after: Option<OffsetDateTime>,
    pub name_id: ReceivedNameId,
    pub session_indexes: Vec<String>,
}

impl LogoutRequest {
    pub fn from_message(message: &InboundMessage) -> Result<Self, SamlError> {
        let root = expect_root(message, "LogoutRequest")?;
        if root.find(NS_SAML, "EncryptedID").is_some() {
            return Err(SamlError::Invalid { field: "NameID", value: "EncryptedID is not supported".into() });
        }
        let name_id = root.find(NS_SAML, "NameID").ok_or(SamlError::Missing("NameID"))?;
        Ok(LogoutRequest {
            id: required(root, "ID")?.to_owned(),
            version: required(root, "Version")?.to_owned(),
            issue_instant: parse_instant(required(root, "IssueInstant")?, "IssueInstant")?,
            issuer: root.child_text(NS_SAML, "Issuer"),
            destination: root.get("Destination").map(str::to_owned),
            not_on_or_after: root.get("NotOnOrAfter").map(|v| parse_instant(v, "NotOnOrAfter")).transpose()?,
            name_id: ReceivedNameId {
                value: name_id.text_content().trim().to_owned(),
                format: name_id.get("Format").map(str::to_owned),
            },
            session_indexes: root
                .find_all(NS_SAMLP, "SessionIndex")
                .map(|e| e.text_content().trim().to_owned())
                .collect(),
        })
    }
}

/// A peer's LogoutResponse (SAML core §3.7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutResponse {
    pub id: String,
    pub version: String,
    pub issue_instant: OffsetDateTime,
    pub issuer: Option<String>,
    pub destination: Option<String>,
    pub in_response_to: Option<String>,
    /// The top-level status code.
    pub status: StatusCode,
    /// The second-level status code, if any and known.
    pub sub_status: Option<StatusCode>,
}

impl LogoutResponse {
    pub fn from_message(message: &InboundMessage) -> Result<Self, SamlError> {
        let root = expect_root(message, "LogoutResponse")?;
        let top = root
            .find(NS_SAMLP, "Status")
            .and_then(|s| s.find(NS_SAMLP, "StatusCode"))
            .ok_or(SamlError::Missing("StatusCode"))?;
        let value = required(top, "Value")?;
        let status = StatusCode::from_uri(value)
            .ok_or_else(|| SamlError::Invalid { field: "StatusCode", value: value.to_owned() })?;
        Ok(LogoutResponse {
            id: required(root, "ID")?.to_owned(),
            version: required(root, "Version")?.to_owned(),
            issue_instant: parse_instant(required(root, "IssueInstant")?, "IssueInstant")?,
            issuer: root.child_text(NS_SAML, "Issuer"),
            destination: root.get("Destination").map(str::to_owned),
            in_response_to: root.get("InResponseTo").map(str::to_owned),
            status,
            sub_status: top.find(NS_SAMLP, "StatusCode").and_then(|s| s.get("Value")).and_then(StatusCode::from_uri),
        })
    }
}

/// A LogoutRequest that passed the checks of [`check_logout_request`].
#[derive(Debug, Clone)]
pub struct AcceptedLogoutRequest {
    pub request: LogoutRequest,
    pub signature: Option<VerifiedSignature>,
    pub relay_state: Option<String>,
}

/// Checks a peer's LogoutRequest, in order: Version 2.0 (core §3.2.1), Issuer
/// is the SP (core §3.7.1), signature (bindings §3.4.4.1, §3.5.4), IssueInstant
/// (core §1.3.3), NotOnOrAfter not passed (core §3.7.1), Destination
/// (bindings §3.4.5.2), ID unused (core §1.3.4).
pub fn check_logout_request(
    message: &InboundMessage,
    sp: &ServiceProvider,
    policy: &RequestPolicy,
    clock: &dyn Clock,
    replay: &dyn ReplayCache,
) -> Result<AcceptedLogoutRequest, SamlError> {
    let request = LogoutRequest::from_message(message)?;
    let now = clock.now();
    if request.version != "2.0" {
        return Err(SamlError::VersionMismatch(request.version));
    }
    check_issuer(request.issuer.as_deref(), sp)?;
    let signature = check_signature(message, sp)?;
    check_issue_instant(request.issue_instant, policy, now)?;
    if request
        .not_on_or_after
        .is_some_and(|limit| limit.checked_add(policy.clock_skew).is_none_or(|limit| now >= limit))
    {
        return Err(SamlError::IssueInstantOutOfRange);
    }
    check_destination(request.destination.as_deref(), signature.is_some(), policy)?;
    check_replay(&sp.entity_id, &request.id, request.issue_instant, policy, replay)?;
    Ok(AcceptedLogoutRequest { request, signature, relay_state: message.relay_state.clone() })
}

/// Checks an SP's answer to our LogoutRequest, in order: Version 2.0 (core
/// §3.2.1), Issuer is the SP (core §3.7.2), signature (bindings §3.4.4.1,
/// §3.5.4), IssueInstant (core §1.3.3), Destination (bindings §3.4.5.2), and
/// InResponseTo is the ID of the request we sent (core §3.2.2). The status is
/// returned for the gateway to act on, not judged here.
pub fn check_logout_response(
    message: &InboundMessage,
    sp: &ServiceProvider,
    policy: &RequestPolicy,
    clock: &dyn Clock,
    our_request_id: &str,
) -> Result<LogoutResponse, SamlError> {
    let response = LogoutResponse::from_message(message)?;
    if response.version != "2.0" {
        return Err(SamlError::VersionMismatch(response.version));
    }
    check_issuer(response.issuer.as_deref(), sp)?;
    let signature = check_signature(message, sp)?;
    check_issue_instant(response.issue_instant, policy, clock.now())?;
    check_destination(response.destination.as_deref(), signature.is_some(), policy)?;
    if response.in_response_to.as_deref() != Some(our_request_id) {
        return Err(SamlError::Invalid {
            field: "InResponseTo",
            value: response.in_response_to.clone().unwrap_or_default(),
        });
    }
    Ok(response)
}

/// Our LogoutRequest to an SP's SingleLogoutService.
#[derive(Debug, Clone)]
pub struct LogoutRequestSpec {
    pub issuer: String,
    pub destination: String,
    pub name_id: ReceivedNameId,
    pub session_indexes: Vec<String>,
}

/// Our LogoutResponse to a peer's LogoutRequest.
#[derive(Debug, Clone)]
pub struct LogoutResponseSpec {
    pub issuer: String,
    pub destination: String,
    pub in_response_to: Option<String>,
    pub status: StatusCode,
}

/// A message we built, not yet bound: sign it for POST, or send it by
/// Redirect with a query signature.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    pub id: String,
    pub kind: MessageKind,
    element: Element,
}

impl OutboundMessage {
    /// The `SAMLRequest`/`SAMLResponse` form value for HTTP-POST, with an
    /// enveloped signature when a signer is given (bindings §3.5.4).
    pub fn to_post(&self, signer: Option<(&dyn XmlSigner, SignatureAlgorithm)>) -> Result<String, SamlError> {
        let mut element = self.element.clone();
        if let Some((signer, algorithm)) = signer {
            sign_enveloped(&mut element, "ID", 1, signer, algorithm, &[])?;
        }
        Ok(encode_base64(element.canonical().as_bytes()))
    }

    /// The URL for HTTP-Redirect; the query is signed, the XML is not
    /// (bindings §3.4.4.1).
    pub fn to_redirect_url(
        &self,
        relay_state: Option<&str>,
        signer: Option<(&dyn XmlSigner, SignatureAlgorithm)>,
    ) -> Result<String, SamlError> {
        let destination = self.element.get("Destination").unwrap_or_default();
        redirect_url(destination, self.kind, &self.element.canonical(), relay_state, signer)
    }

    /// The unsigned XML.
    pub fn xml(&self) -> String {
        self.element.canonical()
    }
}

pub fn build_logout_request<R: RngCore + CryptoRng + ?Sized>(
    spec: &LogoutRequestSpec,
    clock: &dyn Clock,
    rng: &mut R,
) -> OutboundMessage {
    let id = new_id(rng);
    let mut name_id = Element::new("saml", "NameID", NS_SAML);
    if let Some(format) = &spec.name_id.format {
        name_id = name_id.attr("Format", format);
    }
    let mut element = Element::new("samlp", "LogoutRequest", NS_SAMLP)
        .attr("Destination", &spec.destination)
        .attr("ID", &id)
        .attr("IssueInstant", format_instant(clock.now()))
        .attr("Version", "2.0")
        .child(issuer(&spec.issuer))
        .child(name_id.text(&spec.name_id.value));
    for index in &spec.session_indexes {
        element = element.child(Element::new("samlp", "SessionIndex", NS_SAMLP).text(index));
    }
    OutboundMessage { id, kind: MessageKind::Request, element }
}

pub fn build_logout_response<R: RngCore + CryptoRng + ?Sized>(
    spec: &LogoutResponseSpec,
    clock: &dyn Clock,
    rng: &mut R,
) -> OutboundMessage {
    let id = new_id(rng);
    let element = Element::new("samlp", "LogoutResponse", NS_SAMLP)
        .attr("Destination", &spec.destination)
        .attr("ID", &id)
        .attr_opt("InResponseTo", spec.in_response_to.clone())
        .attr("IssueInstant", format_instant(clock.now()))
        .attr("Version", "2.0")
        .child(issuer(&spec.issuer))
        .child(status(spec.status));
    OutboundMessage { id, kind: MessageKind::Response, element }
}
