//! The SAML 2.0 identity provider end to end: metadata, IdP-initiated launches
//! from the dashboard, SP-initiated requests by Redirect and POST (with
//! sign-in first and coming back), encrypted assertions, single logout, and
//! a refusal for every Safety point of the issue. Signatures are checked with
//! the xmlsec1 command line, which most SPs sit on.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::Method;
use saml::{redirect_url, sign_message, MessageKind, SignatureAlgorithm, SigningKey, XmlSigner};
use serde_json::{json, Value};
use tests::{json_of, session};
use tests::{Backend, ClockExt, TestGateway};
use time::format_description::well_known::Rfc3339;

const ACS: &str = "https://sp.example.test/saml/acs";
const ACS2: &str = "https://sp.example.test/saml/acs2";
const SP_ENTITY: &str = "https://sp.example.test/saml/metadata";
const SP_SLO: &str = "https://sp.example.test/saml/slo";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../protocols/saml/tests/fixtures").join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

/// The service provider's key (it signs requests; assertions are encrypted to it).
fn sp_key() -> SigningKey {
    SigningKey::from_pem(&read("sp-key.pem"), &read("sp-cert.pem")).unwrap()
}

/// A key nobody registered: what an attacker signs with.
fn attacker_key() -> SigningKey {
    SigningKey::from_pem(&read("idp-key.pem"), &read("idp-cert.pem")).unwrap()
}

fn sp_cert_base64() -> String {
    sp_key().certificate_base64().to_owned()
}



struct App {
    id: String,
    name: String,
    /// The IdP signing certificate, PEM, from the keys API.
    idp_cert_pem: String,
}

impl App {
    fn sso(&self, gw: &TestGateway) -> String {
        gw.url(&format!("/app/{}/{}/sso/saml", self.name, self.id))
    }
    fn slo(&self, gw: &TestGateway) -> String {
        gw.url(&format!("/app/{}/{}/slo/saml", self.name, self.id))
    }
}

async fn create_app(gw: &TestGateway, sign_on: Value) -> App {
    let (status, app) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({
        "label": "Expenses", "signOnMode": "SAML_2_0", "settings": {"signOn": sign_on},
        "credentials": {"userNameTemplate": {"template": "${fn:substringBefore(source.login, \"@\")}", "type": "BUILT_IN"}}
    }))).await;
    assert_eq!(status, 200, "{app}");
    let id = app["id"].as_str().unwrap().to_owned();
    let (_, keys) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{id}/credentials/keys"))).await;
    let der = keys[0]["x5c"][0].as_str().unwrap();
    let body: Vec<String> = der.as_bytes().chunks(64).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
    let idp_cert_pem = format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", body.join("\n"));
    App { id, name: app["name"].as_str().unwrap().to_owned(), idp_cert_pem }
}

fn base_sign_on() -> Value {
    json!({
        "ssoAcsUrl": ACS, "audience": SP_ENTITY, "defaultRelayState": "/welcome",
        "subjectNameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        "assertionSigned": true, "responseSigned": true, "signatureAlgorithm": "RSA_SHA256",
        "allowMultipleAcsEndpoints": true, "acsEndpoints": [{"url": ACS, "index": 0}, {"url": ACS2, "index": 1}],
        "attributeStatements": [
            {"type": "EXPRESSION", "name": "firstName", "namespace": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", "values": ["user.firstName"]},
            {"type": "EXPRESSION", "name": "department", "values": ["Research & <Development>"]},
            {"type": "GROUP", "name": "groups", "namespace": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", "filterType": "STARTS_WITH", "filterValue": "Eng"}
        ],
        "spCertificate": {"x5c": [sp_cert_base64()]},
        "slo": {"enabled": true, "issuer": SP_ENTITY, "logoutUrl": SP_SLO}
    })
}

/// A person assigned to the app (username "ada"), in group Engineering and Sales.
async fn person(gw: &TestGateway, app: &App) -> String {
    let ada = gw.create_user("ada@example.com", "Ada", "Lovelace").await;
    let uid = ada["id"].as_str().unwrap().to_owned();
    for name in ["Engineering", "Sales"] {
        let (_, group) = json_of(gw.admin(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": name}}))).await;
        gw.admin(Method::PUT, &format!("/api/v1/groups/{}/users/{uid}", group["id"].as_str().unwrap())).send().await.unwrap();
    }
    let (status, _) = json_of(gw.admin(Method::POST, &format!("/api/v1/apps/{}/users", app.id)).json(&json!({"id": uid, "scope": "USER"}))).await;
    assert_eq!(status, 200);
    uid
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&amp;", "&")
}

/// The auto-submitting form: its action and hidden fields.
fn form(html: &str) -> (String, HashMap<String, String>) {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(unescape(&tag[start..end]))
    };
    let form_start = html.find("<form").expect("a form");
    let form_tag = &html[form_start..form_start + html[form_start..].find('>').unwrap()];
    let action = attr(form_tag, "action").unwrap();
    let mut fields = HashMap::new();
    for piece in html.split("<input").skip(1) {
        let tag = &piece[..piece.find('>').unwrap()];
        if let (Some(n), Some(v)) = (attr(tag, "name"), attr(tag, "value")) {
            fields.insert(n, v);
        }
    }
    (action, fields)
}

fn decode(b64: &str) -> String {
    String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap()
}

fn text_of<'a>(xml: &'a str, element: &str) -> Option<&'a str> {
    let open = [format!("<{element}>"), format!("<{element} ")].iter().filter_map(|t| xml.find(t.as_str())).min()?;
    let start = open + xml[open..].find('>')? + 1;
    let end = start + xml[start..].find(&format!("</{element}>"))?;
    Some(&xml[start..end])
}

fn scratch(name: &str, contents: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

const ID_ATTRS: [&str; 8] = [
    "--id-attr:ID",
    "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
    "--id-attr:ID",
    "urn:oasis:names:tc:SAML:2.0:protocol:Response",
    "--id-attr:ID",
    "urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse",
    "--id-attr:ID",
    "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest",
];
const ASSERTION_SIGNATURE: &str = "/*[local-name()='Response']/*[local-name()='Assertion']/*[local-name()='Signature']";
const RESPONSE_SIGNATURE: &str = "/*[local-name()='Response']/*[local-name()='Signature']";
const ROOT_SIGNATURE: &str = "/*/*[local-name()='Signature']";

/// `xmlsec1 --verify` of the signature at `xpath` with `cert_pem` only.
fn xmlsec_verify(xml: &str, cert_pem: &str, xpath: &str, name: &str) {
    let doc = scratch(&format!("{name}.xml"), xml.as_bytes());
    let cert = scratch(&format!("{name}-cert.pem"), cert_pem.as_bytes());
    let mut args = vec!["--verify".to_owned(), "--pubkey-cert-pem".into(), cert.display().to_string()];
    args.extend(ID_ATTRS.iter().map(|s| s.to_string()));
    args.extend(["--node-xpath".into(), xpath.into(), doc.display().to_string()]);
    let output = Command::new("xmlsec1").args(&args).output().expect("xmlsec1 is installed (tests/run-all.sh installs it)");
    assert!(output.status.success(), "xmlsec1 rejected {name} at {xpath}: {}\n{xml}", String::from_utf8_lossy(&output.stderr));
}

fn now(gw: &TestGateway) -> String {
    gw.clock.now_dt().format(&Rfc3339).unwrap()
}

/// An AuthnRequest as an SP writes it; `extra` is spliced into the root's attributes.
fn authn_request(gw: &TestGateway, app: &App, id: &str, issue_instant: &str, extra: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{issue_instant}" Destination="{}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" {extra}><saml:Issuer>{SP_ENTITY}</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="true"/></samlp:AuthnRequest>"#,
        app.sso(gw)
    )
}

fn redirect(gw: &TestGateway, app: &App, xml: &str, relay: Option<&str>, signer: Option<&SigningKey>) -> String {
    redirect_url(&app.sso(gw), MessageKind::Request, xml, relay, signer.map(|k| (k as &dyn XmlSigner, SignatureAlgorithm::RsaSha256))).unwrap()
}

async fn get(gw: &TestGateway, url: &str, cookie: Option<&str>) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = gw.http.get(url);
    if let Some(c) = cookie {
        request = request.header("cookie", c);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

async fn post_form(gw: &TestGateway, url: &str, fields: &[(&str, &str)], cookie: Option<&str>) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = gw.http.post(url).form(fields);
    if let Some(c) = cookie {
        request = request.header("cookie", c);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_and_idp_initiated_launch() {
    let gw = TestGateway::start(Backend::Sqlite).await;
    let app = create_app(&gw, base_sign_on()).await;
    person(&gw, &app).await;
    let cookie = session(&gw, "ada@example.com").await;

    // Metadata: entity ID from the public URL, both bindings, the app's certificate.
    let (status, headers, metadata) = get(&gw, &gw.url(&format!("/app/{}/sso/saml/metadata", app.id)), None).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/xml"));
    let entity_id = gw.url(&format!("/app/{}/sso/saml/metadata", app.id));
    assert!(metadata.contains(&format!("entityID=\"{entity_id}\"")), "{metadata}");
    for binding in ["HTTP-Redirect", "HTTP-POST"] {
        assert!(metadata.contains(&format!("<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:{binding}\" Location=\"{}\">", app.sso(&gw))), "{metadata}");
        assert!(metadata.contains(&format!("<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:{binding}\" Location=\"{}\">", app.slo(&gw))));
    }
    let der: String = app.idp_cert_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(metadata.contains(&der));
    let (_, app_json) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{}", app.id))).await;
    assert_eq!(app_json["_links"]["metadata"]["href"], entity_id);
    assert_eq!(get(&gw, &gw.url("/app/0oanothere/sso/saml/metadata"), None).await.0, 404);

    // The dashboard launch: an auto-submitting form to the ACS.
    let (status, headers, html) = get(&gw, &gw.url(&format!("/home/{}/{}/launch", app.name, app.id)), Some(&cookie)).await;
    assert_eq!(status, 200, "{html}");
    let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("form-action https://sp.example.test;"), "{csp}");
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(html.contains("<button type=\"submit\">Continue</button>"), "a visible button without JavaScript");
    let (action, fields) = form(&html);
    assert_eq!(action, ACS);
    assert_eq!(fields["RelayState"], "/welcome");
    let xml = decode(&fields["SAMLResponse"]);
    assert!(xml.contains(&format!("Destination=\"{ACS}\"")));
    assert!(!xml.contains("InResponseTo"), "unsolicited");
    assert!(xml.contains(&format!("Recipient=\"{ACS}\"")));
    assert_eq!(text_of(&xml, "saml:Audience"), Some(SP_ENTITY));
    assert_eq!(text_of(&xml, "saml:Issuer"), Some(entity_id.as_str()));
    assert!(xml.contains("<saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">ada</saml:NameID>"), "{xml}");
    assert!(xml.contains("Name=\"firstName\" NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:basic\""));
    assert!(xml.contains(">Ada</saml:AttributeValue>"));
    assert!(xml.contains(">Research &amp; &lt;Development&gt;</saml:AttributeValue>"));
    assert!(xml.contains(">Engineering</saml:AttributeValue>") && !xml.contains(">Sales<"), "the group filter");
    xmlsec_verify(&xml, &app.idp_cert_pem, ASSERTION_SIGNATURE, "idp-initiated");
    xmlsec_verify(&xml, &app.idp_cert_pem, RESPONSE_SIGNATURE, "idp-initiated");

    // Only the assertion signed, with RSA-SHA512.
    let mut sign_on = base_sign_on();
    sign_on["responseSigned"] = json!(false);
    sign_on["signatureAlgorithm"] = json!("RSA_SHA512");
    let mut body = app_json.clone();
    body["settings"]["signOn"] = sign_on;
    let (status, updated) = json_of(gw.admin(Method::PUT, &format!("/api/v1/apps/{}", app.id)).json(&body)).await;
    assert_eq!(status, 200, "{updated}");
    let (_, _, html) = get(&gw, &gw.url(&format!("/home/{}/{}/launch", app.name, app.id)), Some(&cookie)).await;
    let xml = decode(&form(&html).1["SAMLResponse"]);
    assert_eq!(xml.matches("<ds:Signature xmlns").count(), 1);
    assert!(xml.contains("xmldsig-more#rsa-sha512"));
    xmlsec_verify(&xml, &app.idp_cert_pem, ASSERTION_SIGNATURE, "assertion-only");

    let metrics = gw.http.get(gw.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"vestibule_launches_total{protocol="saml"} 2"#), "{metrics}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sp_initiated_sign_in_first_and_come_back() {
    let gw = TestGateway::start(Backend::Sqlite).await;
    let app = create_app(&gw, base_sign_on()).await;
    person(&gw, &app).await;

    // No session: the request is accepted, then the person signs in and comes back.
    let xml = authn_request(&gw, &app, "_req-redirect-1", &now(&gw), &format!("AssertionConsumerServiceURL=\"{ACS2}\""));
    let url = redirect(&gw, &app, &xml, Some("/deep/link?x=1"), None);
    let (status, headers, _) = get(&gw, &url, None).await;
    assert_eq!(status, 303);
    let location = headers[LOCATION].to_str().unwrap();
    assert_eq!(location, format!("/login?fromURI={}", urlencoding(&format!("/app/{}/{}/sso/saml?resume", app.name, app.id))));
    let pending = headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap()).find(|c| c.starts_with("vestibule_saml_pending=")).unwrap();
    assert!(pending.contains("HttpOnly") && pending.contains(&format!("Path=/app/{}/{}/sso/saml", app.name, app.id)));
    let pending = pending.split(';').next().unwrap().to_owned();

    let cookie = session(&gw, "ada@example.com").await;
    let both = format!("{cookie}; {pending}");
    let resume = format!("{}?resume", app.sso(&gw));
    let (status, _, html) = get(&gw, &resume, Some(&both)).await;
    assert_eq!(status, 200, "{html}");
    let (action, fields) = form(&html);
    assert_eq!(action, ACS2, "the requested, registered ACS");
    assert_eq!(fields["RelayState"], "/deep/link?x=1");
    let response = decode(&fields["SAMLResponse"]);
    assert!(response.contains("InResponseTo=\"_req-redirect-1\""));
    assert!(response.contains(&format!("Destination=\"{ACS2}\"")) && response.contains(&format!("Recipient=\"{ACS2}\"")));
    xmlsec_verify(&response, &app.idp_cert_pem, ASSERTION_SIGNATURE, "sp-initiated");
    // The sealed pending request is single-use.
    assert_eq!(get(&gw, &resume, Some(&both)).await.0, 400);

    // With a session: POST binding, signed, by ACS index.
    let xml = authn_request(&gw, &app, "_req-post-1", &now(&gw), "AssertionConsumerServiceIndex=\"0\"");
    let signed = sign_message(&xml, &sp_key(), SignatureAlgorithm::RsaSha256).unwrap();
    let (status, _, html) = post_form(&gw, &app.sso(&gw), &[("SAMLRequest", &STANDARD.encode(&signed)), ("RelayState", "rs-post")], Some(&cookie)).await;
    assert_eq!(status, 200, "{html}");
    let (action, fields) = form(&html);
    assert_eq!(action, ACS);
    assert_eq!(fields["RelayState"], "rs-post");
    assert!(decode(&fields["SAMLResponse"]).contains("InResponseTo=\"_req-post-1\""));

    // A signed Redirect request.
    let xml = authn_request(&gw, &app, "_req-redirect-2", &now(&gw), "");
    let (status, _, html) = get(&gw, &redirect(&gw, &app, &xml, Some("r2"), Some(&sp_key())), Some(&cookie)).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(form(&html).0, ACS, "the default ACS");

    // IsPassive without a session: a NoPassive status to the ACS, not a sign-in page.
    let xml = authn_request(&gw, &app, "_req-passive", &now(&gw), "IsPassive=\"true\"");
    let (status, _, html) = get(&gw, &redirect(&gw, &app, &xml, None, None), None).await;
    assert_eq!(status, 200);
    let response = decode(&form(&html).1["SAMLResponse"]);
    assert!(response.contains("urn:oasis:names:tc:SAML:2.0:status:NoPassive") && !response.contains("Assertion"), "{response}");
    xmlsec_verify(&response, &app.idp_cert_pem, RESPONSE_SIGNATURE, "no-passive");

    // ForceAuthn with an older session: that session ends and the person signs in again.
    gw.clock.advance(time::Duration::minutes(1));
    let xml = authn_request(&gw, &app, "_req-force", &now(&gw), "ForceAuthn=\"true\"");
    let (status, headers, _) = get(&gw, &redirect(&gw, &app, &xml, None, None), Some(&cookie)).await;
    assert_eq!(status, 303);
    assert!(headers[LOCATION].to_str().unwrap().starts_with("/login?fromURI="));
    assert!(headers.get_all(SET_COOKIE).iter().any(|c| c.to_str().unwrap().starts_with("sid=;")));
    assert_eq!(get(&gw, &gw.url("/app/UserHome"), Some(&cookie)).await.0, 303, "the old session is over");

    // A person not assigned the app gets a clear page.
    gw.create_user("eve@example.com", "Eve", "Outsider").await;
    let eve = session(&gw, "eve@example.com").await;
    let xml = authn_request(&gw, &app, "_req-eve", &now(&gw), "");
    let (status, _, html) = get(&gw, &redirect(&gw, &app, &xml, None, None), Some(&eve)).await;
    assert_eq!(status, 403);
    assert!(!html.contains("SAMLResponse"));

    // Each issued assertion and each refusal is in the System Log.
    let (_, logs) = json_of(gw.admin(Method::GET, "/api/v1/logs?limit=200")).await;
    let logs = logs.to_string();
    assert!(logs.contains("\"initiatedBy\":\"SP\"") && logs.contains("\"nameIdFormat\":\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\""), "{logs}");
    assert!(logs.contains("\"attributes\":\"firstName,department,groups\""));
    let metrics = gw.http.get(gw.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"vestibule_launches_total{protocol="saml"} 3"#), "{metrics}");
    gw.stop().await;
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

/// One refusal per Safety point of the issue. Each answers a page (never a
/// form to an unregistered place), is logged, and leaves the gateway serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_safety_point_is_refused() {
    let gw = TestGateway::start(Backend::Sqlite).await;
    let mut sign_on = base_sign_on();
    sign_on["samlSignedRequestEnabled"] = json!(false);
    let app = create_app(&gw, sign_on).await;
    person(&gw, &app).await;
    let cookie = session(&gw, "ada@example.com").await;
    let t = now(&gw);

    let refused = |status: u16, html: &str, what: &str| {
        assert_eq!(status, 400, "{what}: {html}");
        assert!(!html.contains("SAMLResponse"), "{what}: nothing is posted");
    };

    // Only registered ACS URLs receive a response (no open redirect).
    let xml = authn_request(&gw, &app, "_acs", &t, "AssertionConsumerServiceURL=\"https://evil.example/acs\"");
    let (s, _, html) = get(&gw, &redirect(&gw, &app, &xml, None, None), Some(&cookie)).await;
    refused(s, &html, "unregistered ACS");
    assert!(html.contains("has not registered"));
    let xml = authn_request(&gw, &app, "_acs_index", &t, "AssertionConsumerServiceIndex=\"9\"");
    let (s, _, html) = get(&gw, &redirect(&gw, &app, &xml, None, None), Some(&cookie)).await;
    refused(s, &html, "unknown ACS index");

    // Request IDs are single-use while valid.
    let xml = authn_request(&gw, &app, "_once", &t, "");
    let url = redirect(&gw, &app, &xml, None, None);
    assert_eq!(get(&gw, &url, Some(&cookie)).await.0, 200);
    let (s, _, html) = get(&gw, &url, Some(&cookie)).await;
    refused(s, &html, "replay");
    assert!(html.contains("already used"));
    // ...also when the copy arrives by the other binding.
    let (s, _, html) = post_form(&gw, &app.sso(&gw), &[("SAMLRequest", &STANDARD.encode(&xml))], Some(&cookie)).await;
    refused(s, &html, "replay by POST");

    // Clock skew: 3 minutes by default, either way; older requests have expired.
    let at = |minutes: i64| (gw.clock.now_dt() + time::Duration::minutes(minutes)).format(&Rfc3339).unwrap();
    let xml = authn_request(&gw, &app, "_skew_ok", &at(2), "");
    assert_eq!(get(&gw, &redirect(&gw, &app, &xml, None, None), Some(&cookie)).await.0, 200, "within the skew");
    let xml = authn_request(&gw, &app, "_future", &at(4), "");
    let (s, _, html) = get(&gw, &redirect(&gw, &app, &xml, None, None), Some(&cookie)).await;
    refused(s, &html, "from the future");
    let xml = authn_request(&gw, &app, "_expired", &at(-20), "");
    let (s, _, html) = get(&gw, &redirect(&gw, &app, &xml, None, None), Some(&cookie)).await;
    refused(s, &html, "expired");
    assert!(html.contains("expired"));

    // No DTDs, no entities.
    let xxe = format!("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{}", authn_request(&gw, &app, "_dtd", &t, "").replace(SP_ENTITY, "&x;"));
    let (s, _, html) = get(&gw, &redirect(&gw, &app, &xxe, None, None), Some(&cookie)).await;
    refused(s, &html, "DTD");
    // Bounded size after inflating: a DEFLATE bomb.
    let bomb = format!("<a>{}</a>", " ".repeat(20 * 1024 * 1024));
    let url = redirect(&gw, &app, &bomb, None, None);
    assert!(url.len() < 100_000, "the bomb is small on the wire");
    let (s, _, html) = get(&gw, &url, Some(&cookie)).await;
    refused(s, &html, "DEFLATE bomb");
    // Bounded depth.
    let deep = format!("{}{}", "<a>".repeat(5000), "</a>".repeat(5000));
    let (s, _, html) = post_form(&gw, &app.sso(&gw), &[("SAMLRequest", &STANDARD.encode(&deep))], Some(&cookie)).await;
    refused(s, &html, "deep nesting");

    // Unknown SP: an Issuer other than the app's.
    let xml = authn_request(&gw, &app, "_other_sp", &t, "").replace(&format!(">{SP_ENTITY}<"), ">https://other.example/sp<");
    let (s, _, html) = get(&gw, &redirect(&gw, &app, &xml, None, None), Some(&cookie)).await;
    refused(s, &html, "unknown SP");

    // Wrong signatures: an unregistered key (with its own certificate in
    // KeyInfo, which is never read), a tampered signed query, a tampered POST.
    let xml = authn_request(&gw, &app, "_attacker", &t, "");
    let forged = sign_message(&xml, &attacker_key(), SignatureAlgorithm::RsaSha256).unwrap();
    assert!(forged.contains("<ds:X509Certificate>"));
    let (s, _, html) = post_form(&gw, &app.sso(&gw), &[("SAMLRequest", &STANDARD.encode(&forged))], Some(&cookie)).await;
    refused(s, &html, "key from KeyInfo");
    assert!(html.contains("signature"));
    let xml = authn_request(&gw, &app, "_tampered_query", &t, "");
    let tampered = redirect(&gw, &app, &xml, Some("good"), Some(&sp_key())).replace("RelayState=good", "RelayState=evil");
    let (s, _, html) = get(&gw, &tampered, Some(&cookie)).await;
    refused(s, &html, "tampered redirect");
    let xml = authn_request(&gw, &app, "_tampered_post", &t, "");
    let signed = sign_message(&xml, &sp_key(), SignatureAlgorithm::RsaSha256).unwrap().replace("AllowCreate=\"true\"", "AllowCreate=\"false\"");
    let (s, _, html) = post_form(&gw, &app.sso(&gw), &[("SAMLRequest", &STANDARD.encode(&signed))], Some(&cookie)).await;
    refused(s, &html, "tampered POST");
    // Signature wrapping (the crate's attack fixtures are about other IDs; here a
    // genuine signed request hidden inside an unsigned evil one).
    let genuine = sign_message(&authn_request(&gw, &app, "_genuine", &t, ""), &sp_key(), SignatureAlgorithm::RsaSha256).unwrap();
    let wrapped = authn_request(&gw, &app, "_evil", &t, "AssertionConsumerServiceURL=\"https://evil.example/acs\"")
        .replace("</samlp:AuthnRequest>", &format!("<samlp:Extensions>{genuine}</samlp:Extensions></samlp:AuthnRequest>"));
    let (s, _, html) = post_form(&gw, &app.sso(&gw), &[("SAMLRequest", &STANDARD.encode(&wrapped))], Some(&cookie)).await;
    refused(s, &html, "signature wrapping");
    // SHA-1 is refused unless the app opts in.
    let xml = authn_request(&gw, &app, "_sha1", &t, "");
    let sha1 = sign_message(&xml, &sp_key(), SignatureAlgorithm::RsaSha1).unwrap();
    let (s, _, html) = post_form(&gw, &app.sso(&gw), &[("SAMLRequest", &STANDARD.encode(&sha1))], Some(&cookie)).await;
    refused(s, &html, "SHA-1");

    // RelayState is bounded (it travels in the sealed sign-in cookie).
    let xml = authn_request(&gw, &app, "_long_relay", &t, "");
    let (s, _, html) = get(&gw, &redirect(&gw, &app, &xml, Some(&"r".repeat(2000)), None), Some(&cookie)).await;
    refused(s, &html, "oversized RelayState");

    // Attacker input never panics: malformed queries and forms.
    let junk = [
        "SAMLRequest=", "SAMLRequest=%", "SAMLRequest=!!!!", "SAMLRequest=AAAA", "SigAlg=x&Signature=y", "SAMLRequest=fVLL&SAMLRequest=fVLL",
        "SAMLRequest=fVLL&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256&Signature=%%%", "&&&=&=", "SAMLRequest=%FF%FE%00",
    ];
    for query in junk {
        let (s, _, html) = get(&gw, &format!("{}?{query}", app.sso(&gw)), Some(&cookie)).await;
        refused(s, &html, query);
    }
    for value in ["", "!!!", "PD94bWw/Pg==", &STANDARD.encode("<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>")] {
        let (s, _, html) = post_form(&gw, &app.sso(&gw), &[("SAMLRequest", value)], Some(&cookie)).await;
        refused(s, &html, value);
    }
    assert_eq!(gw.http.get(gw.url("/healthz")).send().await.unwrap().status(), 200);

    // Required signatures: an unsigned request is refused once the app asks for them.
    let (_, mut body) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{}", app.id))).await;
    body["settings"]["signOn"]["samlSignedRequestEnabled"] = json!(true);
    assert_eq!(gw.admin(Method::PUT, &format!("/api/v1/apps/{}", app.id)).json(&body).send().await.unwrap().status(), 200);
    let xml = authn_request(&gw, &app, "_unsigned", &t, "");
    let (s, _, html) = get(&gw, &redirect(&gw, &app, &xml, None, None), Some(&cookie)).await;
    refused(s, &html, "unsigned when required");
    let metadata = gw.http.get(gw.url(&format!("/app/{}/sso/saml/metadata", app.id))).send().await.unwrap().text().await.unwrap();
    assert!(metadata.contains("WantAuthnRequestsSigned=\"true\""));

    // Every refusal was logged.
    let (_, logs) = json_of(gw.admin(Method::GET, "/api/v1/logs?limit=200")).await;
    let denied = logs.as_array().unwrap().iter().filter(|e| e["displayMessage"] == "SAML request refused").count();
    assert!(denied >= 20, "{denied} refusals logged");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_assertions() {
    let gw = TestGateway::start(Backend::Sqlite).await;
    for (algorithm, uri) in [("AES256_GCM", "xmlenc11#aes256-gcm"), ("AES256_CBC", "xmlenc#aes256-cbc")] {
        let mut sign_on = base_sign_on();
        sign_on["assertionEncryption"] = json!({"enabled": true, "encryptionAlgorithm": algorithm, "keyTransportAlgorithm": "RSA_OAEP", "x5c": [sp_cert_base64()]});
        let app = create_app(&gw, sign_on).await;
        if algorithm == "AES256_GCM" {
            person(&gw, &app).await;
        } else {
            let (_, users) = json_of(gw.admin(Method::GET, "/api/v1/users?q=ada")).await;
            gw.admin(Method::POST, &format!("/api/v1/apps/{}/users", app.id)).json(&json!({"id": users[0]["id"], "scope": "USER"})).send().await.unwrap();
        }
        let cookie = session(&gw, "ada@example.com").await;
        let (_, _, html) = get(&gw, &gw.url(&format!("/home/{}/{}/launch", app.name, app.id)), Some(&cookie)).await;
        let xml = decode(&form(&html).1["SAMLResponse"]);
        assert!(xml.contains("<saml:EncryptedAssertion") && xml.contains(uri), "{xml}");
        assert!(!xml.contains(">ada<"), "the NameID is not readable");
        xmlsec_verify(&xml, &app.idp_cert_pem, RESPONSE_SIGNATURE, &format!("encrypted-{algorithm}"));
        // The SP decrypts with its key, and the assertion's own signature holds.
        let doc = scratch(&format!("encrypted-{algorithm}.xml"), xml.as_bytes());
        let output = Command::new("xmlsec1")
            .args(["--decrypt", "--privkey-pem", fixture("sp-key.pem").to_str().unwrap(), doc.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let decrypted = String::from_utf8(output.stdout).unwrap();
        assert!(decrypted.contains(">ada</saml:NameID>"), "{decrypted}");
        let decrypted = decrypted.trim_start_matches(|c| c != '<').to_owned();
        let assertion_in_encrypted = "/*[local-name()='Response']/*[local-name()='EncryptedAssertion']/*[local-name()='Assertion']/*[local-name()='Signature']";
        let path = if decrypted.contains("<saml:EncryptedAssertion") { assertion_in_encrypted } else { ASSERTION_SIGNATURE };
        xmlsec_verify(&decrypted, &app.idp_cert_pem, path, &format!("decrypted-{algorithm}"));
    }
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_logout() {
    let gw = TestGateway::start(Backend::Sqlite).await;
    let app = create_app(&gw, base_sign_on()).await;
    person(&gw, &app).await;
    let logout_request = |gw: &TestGateway, name_id: &str| {
        let spec = saml::LogoutRequestSpec {
            issuer: SP_ENTITY.into(),
            destination: app.slo(gw),
            name_id: saml::ReceivedNameId { value: name_id.into(), format: Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into()) },
            session_indexes: vec![],
        };
        saml::build_logout_request(&spec, &gw.clock, &mut rand::thread_rng())
    };

    // POST binding, signed: the session ends, a signed LogoutResponse goes to the SP.
    let cookie = session(&gw, "ada@example.com").await;
    let request = logout_request(&gw, "ada");
    let value = request.to_post(Some((&sp_key() as &dyn XmlSigner, SignatureAlgorithm::RsaSha256))).unwrap();
    let (status, headers, html) = post_form(&gw, &app.slo(&gw), &[("SAMLRequest", &value), ("RelayState", "bye")], Some(&cookie)).await;
    assert_eq!(status, 200, "{html}");
    assert!(headers.get_all(SET_COOKIE).iter().any(|c| c.to_str().unwrap().starts_with("sid=;")));
    let (action, fields) = form(&html);
    assert_eq!(action, SP_SLO);
    assert_eq!(fields["RelayState"], "bye");
    let response = decode(&fields["SAMLResponse"]);
    assert!(response.contains("<samlp:LogoutResponse") && response.contains("status:Success"), "{response}");
    assert!(response.contains(&format!("Destination=\"{SP_SLO}\"")));
    xmlsec_verify(&response, &app.idp_cert_pem, ROOT_SIGNATURE, "logout-response-post");
    assert_eq!(get(&gw, &gw.url("/app/UserHome"), Some(&cookie)).await.0, 303, "signed out");
    // The same request again is a replay.
    let (status, _, _) = post_form(&gw, &app.slo(&gw), &[("SAMLRequest", &value)], None).await;
    assert_eq!(status, 400);

    // Redirect binding, signed query: answered by Redirect with a signed query.
    let cookie = session(&gw, "ada@example.com").await;
    let request = logout_request(&gw, "ada");
    let url = request.to_redirect_url(Some("r"), Some((&sp_key() as &dyn XmlSigner, SignatureAlgorithm::RsaSha256))).unwrap();
    let (status, headers, _) = get(&gw, &url, Some(&cookie)).await;
    assert_eq!(status, 303);
    let location = headers[LOCATION].to_str().unwrap();
    assert!(location.starts_with(&format!("{SP_SLO}?SAMLResponse=")) && location.contains("&RelayState=r&SigAlg=") && location.contains("&Signature="), "{location}");
    assert_eq!(get(&gw, &gw.url("/app/UserHome"), Some(&cookie)).await.0, 303);

    // Unsigned, or signed by someone else: refused, the session stays.
    let cookie = session(&gw, "ada@example.com").await;
    let unsigned = logout_request(&gw, "ada").to_redirect_url(None, None).unwrap();
    assert_eq!(get(&gw, &unsigned, Some(&cookie)).await.0, 400);
    let forged = logout_request(&gw, "ada").to_post(Some((&attacker_key() as &dyn XmlSigner, SignatureAlgorithm::RsaSha256))).unwrap();
    assert_eq!(post_form(&gw, &app.slo(&gw), &[("SAMLRequest", &forged)], Some(&cookie)).await.0, 400);
    assert_eq!(get(&gw, &gw.url("/app/UserHome"), Some(&cookie)).await.0, 200, "still signed in");
    // Another person's NameID does not end this session.
    let other = logout_request(&gw, "grace").to_post(Some((&sp_key() as &dyn XmlSigner, SignatureAlgorithm::RsaSha256))).unwrap();
    let (status, _, html) = post_form(&gw, &app.slo(&gw), &[("SAMLRequest", &other)], Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(decode(&form(&html).1["SAMLResponse"]).contains("status:UnknownPrincipal"));
    assert_eq!(get(&gw, &gw.url("/app/UserHome"), Some(&cookie)).await.0, 200);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_certificate_and_unsigned_preview() {
    let gw = TestGateway::start(Backend::Sqlite).await;
    let app = create_app(&gw, base_sign_on()).await;
    let uid = person(&gw, &app).await;

    let (status, headers, pem) = get(&gw, &gw.url(&format!("/app/{}/sso/saml/certificate", app.id)), None).await;
    assert_eq!(status, 200);
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\""));
    assert_eq!(pem.trim(), app.idp_cert_pem.trim(), "the key the metadata and keys API show");

    let preview = gw.url(&format!("/app/{}/{}/sso/saml/preview?userId={uid}", app.name, app.id));
    let body: Value = gw.http.post(gw.url("/api/v1/authn")).json(&json!({"username": tests::ADMIN_LOGIN, "password": tests::ADMIN_PASSWORD})).send().await.unwrap().json().await.unwrap();
    let r = gw.http.get(gw.url("/login/sessionCookieRedirect")).query(&[("token", body["sessionToken"].as_str().unwrap()), ("redirectUrl", "/app/UserHome")]).send().await.unwrap();
    let admin = r.headers()[SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let (status, _, html) = get(&gw, &preview, Some(&admin)).await;
    assert_eq!(status, 200, "{html}");
    assert!(unescape(&html).contains("<saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">ada</saml:NameID>"), "{html}");
    assert!(!html.contains("Signature"), "a preview is never signed: it would be a working login");
    // People without an admin role get no preview.
    let ada = session(&gw, "ada@example.com").await;
    assert_eq!(get(&gw, &preview, Some(&ada)).await.0, 403);
    assert_eq!(get(&gw, &preview, None).await.0, 303);
    gw.stop().await;
}

/// Dashboard sign-out's part: signed LogoutRequests to the apps that take
/// part in single logout, and their signed answers accepted once. (The
/// sign-out page itself calls `front_channel_logout`; this drives the pieces.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idp_initiated_logout_requests_and_their_responses() {
    let gw = TestGateway::start(Backend::Sqlite).await;
    let mut sign_on = base_sign_on();
    sign_on["participateSlo"] = json!({"enabled": true, "logoutRequestUrl": SP_SLO, "bindingType": "REDIRECT"});
    let app = create_app(&gw, sign_on).await;
    let uid = person(&gw, &app).await;
    let cookie = session(&gw, "ada@example.com").await;
    let state = gw.state();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", cookie.parse().unwrap());
    let session = gateway::auth::session(state, &headers).await.expect("session");
    let user = state.store.user(&uid).await.unwrap().unwrap().user;

    let requests = gateway::saml_idp::logout_requests(state, &user, &session).await;
    assert_eq!(requests.len(), 1);
    let label = &requests[0].label;
    let gateway::saml_idp::Delivery::Redirect(url) = &requests[0].delivery else { panic!("the Redirect binding: {:?}", requests[0].delivery) };
    assert_eq!(label, "Expenses");
    assert!(url.starts_with(&format!("{SP_SLO}?SAMLRequest=")) && url.contains("&Signature="), "{url}");
    let message = saml::InboundMessage::from_redirect_query(url.split_once('?').unwrap().1, &saml::ParseLimits::default()).unwrap();
    let idp_key = saml::TrustedKey::from_certificate_pem(app.idp_cert_pem.as_bytes()).unwrap();
    message.verify_signature(&[idp_key], &saml::AlgorithmPolicy::default()).expect("signed with the app's key");
    let request = saml::LogoutRequest::from_message(&message).unwrap();
    assert_eq!(request.name_id.value, "ada");
    assert_eq!(request.session_indexes.len(), 1);
    assert!(gateway::saml_idp::front_channel_logout(state, &user, &session, "/login").await.is_some());

    let answer = |in_response_to: &str, signer: Option<&SigningKey>| {
        let spec = saml::LogoutResponseSpec {
            issuer: SP_ENTITY.into(),
            destination: app.slo(&gw),
            in_response_to: Some(in_response_to.into()),
            status: saml::StatusCode::Success,
        };
        saml::build_logout_response(&spec, &gw.clock, &mut rand::thread_rng())
            .to_redirect_url(None, signer.map(|k| (k as &dyn XmlSigner, SignatureAlgorithm::RsaSha256)))
            .unwrap()
    };
    // Unsigned and unsolicited answers are refused; the genuine one is accepted once.
    assert_eq!(get(&gw, &answer(&request.id, None), None).await.0, 400);
    assert_eq!(get(&gw, &answer("_never_sent", Some(&sp_key())), None).await.0, 400);
    assert_eq!(get(&gw, &answer(&request.id, Some(&attacker_key())), None).await.0, 400);
    let genuine = answer(&request.id, Some(&sp_key()));
    let (status, _, html) = get(&gw, &genuine, None).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Signed out of Expenses"));
    assert_eq!(get(&gw, &genuine, None).await.0, 400, "once");

    // The same with an SP whose SLO endpoint takes HTTP-POST: an enveloped
    // signature, delivered by a form the page submits into a hidden frame.
    let (_, mut app_json) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{}", app.id))).await;
    app_json["settings"]["signOn"]["participateSlo"]["bindingType"] = json!("POST");
    let (status, updated) = json_of(gw.admin(Method::PUT, &format!("/api/v1/apps/{}", app.id)).json(&app_json)).await;
    assert_eq!(status, 200, "{updated}");
    let requests = gateway::saml_idp::logout_requests(state, &user, &session).await;
    let gateway::saml_idp::Delivery::Post { action, saml_request } = &requests[0].delivery else { panic!("the POST binding: {:?}", requests[0].delivery) };
    assert_eq!(action, SP_SLO);
    let message = saml::InboundMessage::from_post(saml::MessageKind::Request, saml_request, None, &saml::ParseLimits::default()).unwrap();
    let idp_key = saml::TrustedKey::from_certificate_pem(app.idp_cert_pem.as_bytes()).unwrap();
    message.verify_signature(&[idp_key], &saml::AlgorithmPolicy::default()).expect("signed enveloped with the app's key");
    xmlsec_verify(&decode(saml_request), &app.idp_cert_pem, ROOT_SIGNATURE, "logout-request-post");
    let request = saml::LogoutRequest::from_message(&message).unwrap();
    assert_eq!(request.name_id.value, "ada");
    // The SP answers by POST too; the signed answer is accepted once.
    let spec = saml::LogoutResponseSpec {
        issuer: SP_ENTITY.into(),
        destination: app.slo(&gw),
        in_response_to: Some(request.id.clone()),
        status: saml::StatusCode::Success,
    };
    let answer = saml::build_logout_response(&spec, &gw.clock, &mut rand::thread_rng())
        .to_post(Some((&sp_key() as &dyn XmlSigner, SignatureAlgorithm::RsaSha256)))
        .unwrap();
    let (status, _, html) = post_form(&gw, &app.slo(&gw), &[("SAMLResponse", &answer)], None).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(post_form(&gw, &app.slo(&gw), &[("SAMLResponse", &answer)], None).await.0, 400, "once");

    // Dashboard sign-out itself: the page posts the request into a hidden frame.
    let (_, headers, _) = get(&gw, &gw.url("/app/UserHome"), Some(&cookie)).await;
    let csrf = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("vestibule_csrf="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("CSRF cookie");
    let response = gw
        .http
        .post(gw.url("/login/signout"))
        .header("cookie", format!("{cookie}; vestibule_csrf={csrf}"))
        .header("origin", &gw.base)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'sha256-") && csp.contains("form-action 'self' https://sp.example.test;"), "{csp}");
    assert!(csp.contains("frame-src https://sp.example.test;"), "{csp}");
    let html = response.text().await.unwrap();
    assert!(html.contains(&format!("<form class=\"slo-post inline\" method=\"post\" action=\"{SP_SLO}\" target=\"slo-0\">")), "{html}");
    assert!(html.contains("<iframe name=\"slo-0\""), "{html}");
    assert!(html.contains("<noscript><button type=\"submit\">Sign out of Expenses</button></noscript>"), "{html}");
    let (_, fields) = form(&html);
    let request = decode(&fields["SAMLRequest"]);
    xmlsec_verify(&request, &app.idp_cert_pem, ROOT_SIGNATURE, "signout-page-post");
    gw.stop().await;
}

tests::on_both_backends!(signing_key_rotation_with_overlap);

fn pem_of(x5c: &str) -> String {
    let body: Vec<String> = x5c.as_bytes().chunks(64).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", body.join("\n"))
}

/// `xmlsec1 --verify` must refuse the signature at `xpath` with `cert_pem`.
fn xmlsec_refuses(xml: &str, cert_pem: &str, xpath: &str, name: &str) {
    let doc = scratch(&format!("{name}.xml"), xml.as_bytes());
    let cert = scratch(&format!("{name}-cert.pem"), cert_pem.as_bytes());
    let mut args = vec!["--verify".to_owned(), "--pubkey-cert-pem".into(), cert.display().to_string()];
    args.extend(ID_ATTRS.iter().map(|s| s.to_string()));
    args.extend(["--node-xpath".into(), xpath.into(), doc.display().to_string()]);
    let output = Command::new("xmlsec1").args(&args).output().expect("xmlsec1 is installed");
    assert!(!output.status.success(), "xmlsec1 accepted {name} with the wrong certificate");
}

/// The `<ds:X509Certificate>` values of IdP metadata, in order.
fn metadata_certificates(metadata: &str) -> Vec<String> {
    metadata
        .split("<ds:X509Certificate>")
        .skip(1)
        .map(|part| part.split("</ds:X509Certificate>").next().unwrap().to_owned())
        .collect()
}

/// Okta's rotation with overlap: generate (published, not signing), switch
/// `credentials.signing.kid` (signs; the old key stays published), delete the
/// old key. SPs that read metadata trust both certificates across the switch.
async fn signing_key_rotation_with_overlap(backend: Backend) {
    let gw = TestGateway::start(backend).await;
    let app = create_app(&gw, base_sign_on()).await;
    person(&gw, &app).await;
    let cookie = session(&gw, "ada@example.com").await;
    let keys_path = format!("/api/v1/apps/{}/credentials/keys", app.id);
    let (_, keys) = json_of(gw.admin(Method::GET, &keys_path)).await;
    let old_kid = keys[0]["kid"].as_str().unwrap().to_owned();
    let metadata_url = gw.url(&format!("/app/{}/sso/saml/metadata", app.id));
    let launch = |gw: &TestGateway| gw.url(&format!("/home/{}/{}/launch", app.name, app.id));

    // Okta's validity bounds, and a clear error for a missing value.
    for bad in ["", "?validityYears=1", "?validityYears=11", "?validityYears=ten"] {
        let (status, error) = json_of(gw.admin(Method::POST, &format!("{keys_path}/generate{bad}"))).await;
        assert_eq!(status, 400, "{bad}: {error}");
        assert_eq!(error["errorCode"], "E0000001");
        assert!(error["errorCauses"][0]["errorSummary"].as_str().unwrap().contains("validityYears"), "{error}");
    }
    let (status, new_key) = json_of(gw.admin(Method::POST, &format!("{keys_path}/generate?validityYears=2"))).await;
    assert_eq!(status, 201, "{new_key}");
    let new_kid = new_key["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    assert!(new_key.get("d").is_none() && new_key["x5c"][0].is_string());
    let created = time::OffsetDateTime::parse(new_key["created"].as_str().unwrap(), &Rfc3339).unwrap();
    let expires = time::OffsetDateTime::parse(new_key["expiresAt"].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!(expires - gw.clock.now_dt(), time::Duration::days(730));
    let old_created = time::OffsetDateTime::parse(keys[0]["created"].as_str().unwrap(), &Rfc3339).unwrap();
    assert!(created > old_created, "a new key is later than the app's newest, even on a clock that stands still");
    let new_pem = pem_of(new_key["x5c"][0].as_str().unwrap());
    let old_der: String = app.idp_cert_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let new_der = new_key["x5c"][0].as_str().unwrap().to_owned();

    // Overlap before the switch: both certificates published, the old one signs.
    let (_, _, metadata) = get(&gw, &metadata_url, None).await;
    assert_eq!(metadata_certificates(&metadata), [old_der.clone(), new_der.clone()], "in use first, then the next key");
    assert_eq!(metadata.matches("<md:KeyDescriptor use=\"signing\">").count(), 2, "{metadata}");
    let (_, _, html) = get(&gw, &launch(&gw), Some(&cookie)).await;
    let xml = decode(&form(&html).1["SAMLResponse"]);
    xmlsec_verify(&xml, &app.idp_cert_pem, ASSERTION_SIGNATURE, "before-switch");
    xmlsec_refuses(&xml, &new_pem, ASSERTION_SIGNATURE, "before-switch-new");

    // Switching to a kid that is not the app's is refused by field.
    let (status, error) = json_of(gw.admin(Method::PUT, &format!("/api/v1/apps/{}", app.id)).json(&json!({"credentials": {"signing": {"kid": "nope"}}}))).await;
    assert_eq!(status, 400);
    assert!(error["errorCauses"][0]["errorSummary"].as_str().unwrap().starts_with("credentials.signing.kid:"), "{error}");
    // The switch, with only the signing object, as Okta documents; the rest of the credentials stay.
    let (status, updated) = json_of(gw.admin(Method::PUT, &format!("/api/v1/apps/{}", app.id)).json(&json!({"credentials": {"signing": {"kid": new_kid}}}))).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["credentials"]["signing"]["kid"], new_kid.as_str());
    assert!(updated["credentials"]["signing"]["lastRotated"].is_string());
    assert_eq!(updated["credentials"]["userNameTemplate"]["type"], "BUILT_IN", "{updated}");
    // A later full replace that carries the old kid back is the admin's rollback; one without credentials keeps the new kid.
    let mut body = updated.clone();
    body.as_object_mut().unwrap().remove("credentials");
    let (status, kept) = json_of(gw.admin(Method::PUT, &format!("/api/v1/apps/{}", app.id)).json(&body)).await;
    assert_eq!(status, 200);
    assert_eq!(kept["credentials"]["signing"]["kid"], new_kid.as_str());

    let (_, _, html) = get(&gw, &launch(&gw), Some(&cookie)).await;
    let xml = decode(&form(&html).1["SAMLResponse"]);
    xmlsec_verify(&xml, &new_pem, ASSERTION_SIGNATURE, "after-switch");
    xmlsec_verify(&xml, &new_pem, RESPONSE_SIGNATURE, "after-switch");
    xmlsec_refuses(&xml, &app.idp_cert_pem, ASSERTION_SIGNATURE, "after-switch-old");
    let (_, _, metadata) = get(&gw, &metadata_url, None).await;
    assert_eq!(metadata_certificates(&metadata), [new_der.clone(), old_der.clone()], "the previous key stays published");
    let (_, _, pem) = get(&gw, &gw.url(&format!("/app/{}/sso/saml/certificate", app.id)), None).await;
    assert_eq!(pem.trim(), new_pem.trim(), "the download follows the key in use");

    // The key in use cannot be deleted; the previous one can, once.
    let (status, error) = json_of(gw.admin(Method::DELETE, &format!("{keys_path}/{new_kid}"))).await;
    assert_eq!(status, 400, "{error}");
    let status = gw.admin(Method::DELETE, &format!("{keys_path}/{old_kid}")).send().await.unwrap().status();
    assert_eq!(status, 204);
    assert_eq!(gw.admin(Method::DELETE, &format!("{keys_path}/{old_kid}")).send().await.unwrap().status(), 404);
    let (_, _, metadata) = get(&gw, &metadata_url, None).await;
    assert_eq!(metadata_certificates(&metadata), [new_der.clone()]);
    let (_, keys) = json_of(gw.admin(Method::GET, &keys_path)).await;
    assert_eq!(keys.as_array().unwrap().len(), 1);

    // Each step is in the System Log, without key material.
    let (_, events) = json_of(gw.admin(Method::GET, "/api/v1/logs?limit=100")).await;
    let types: Vec<&str> = events.as_array().unwrap().iter().filter_map(|e| e["eventType"].as_str()).collect();
    for wanted in ["app.keys.generate", "app.keys.rotate", "app.keys.delete"] {
        assert!(types.contains(&wanted), "{wanted} in {types:?}");
    }
    assert!(!events.to_string().contains("PRIVATE KEY"));
    gw.stop().await;
}

/// RSA-SHA1 only with the explicit opt-in; the assertion lifetime setting;
/// an app that turns SP-initiated sign-in off refuses AuthnRequests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sha1_opt_in_assertion_lifetime_and_sp_initiated_switch() {
    let gw = TestGateway::start(Backend::Sqlite).await;
    let mut sign_on = base_sign_on();
    sign_on["signatureAlgorithm"] = json!("RSA_SHA1");
    let (status, error) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({"label": "Old", "signOnMode": "SAML_2_0", "settings": {"signOn": sign_on}}))).await;
    assert_eq!(status, 400);
    assert!(error["errorCauses"][0]["errorSummary"].as_str().unwrap().starts_with("settings.signOn.signatureAlgorithm: RSA_SHA1 is weak"), "{error}");
    sign_on["allowWeakSignatureAlgorithm"] = json!(true);
    sign_on["samlAssertionLifetimeSeconds"] = json!(600);
    let app = create_app(&gw, sign_on.clone()).await;
    person(&gw, &app).await;
    let cookie = session(&gw, "ada@example.com").await;
    let (_, _, html) = get(&gw, &gw.url(&format!("/home/{}/{}/launch", app.name, app.id)), Some(&cookie)).await;
    let xml = decode(&form(&html).1["SAMLResponse"]);
    assert!(xml.contains("xmldsig#rsa-sha1"), "{xml}");
    let issued = xml.split("IssueInstant=\"").nth(1).unwrap().split('"').next().unwrap();
    let not_on_or_after = xml.split("<saml:Conditions").nth(1).unwrap().split("NotOnOrAfter=\"").nth(1).unwrap().split('"').next().unwrap();
    let issued = time::OffsetDateTime::parse(issued, &Rfc3339).unwrap();
    let until = time::OffsetDateTime::parse(not_on_or_after, &Rfc3339).unwrap();
    assert_eq!((until - issued).whole_seconds(), 600);

    sign_on["samlAssertionLifetimeSeconds"] = json!(86_400);
    let (_, mut body) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{}", app.id))).await;
    body["settings"]["signOn"] = sign_on.clone();
    let (status, error) = json_of(gw.admin(Method::PUT, &format!("/api/v1/apps/{}", app.id)).json(&body)).await;
    assert_eq!(status, 400);
    assert!(error["errorCauses"][0]["errorSummary"].as_str().unwrap().starts_with("settings.signOn.samlAssertionLifetimeSeconds:"), "{error}");

    sign_on["samlAssertionLifetimeSeconds"] = json!(300);
    sign_on["allowSpInitiated"] = json!(false);
    body["settings"]["signOn"] = sign_on;
    let (status, updated) = json_of(gw.admin(Method::PUT, &format!("/api/v1/apps/{}", app.id)).json(&body)).await;
    assert_eq!(status, 200, "{updated}");
    let request = authn_request(&gw, &app, "_sp_off_1", &now(&gw), "");
    let (status, _, html) = get(&gw, &redirect(&gw, &app, &request, None, Some(&sp_key())), Some(&cookie)).await;
    assert_eq!(status, 403, "{html}");
    assert!(html.contains("Open it from your dashboard"), "{html}");
    // The dashboard launch still works.
    assert_eq!(get(&gw, &gw.url(&format!("/home/{}/{}/launch", app.name, app.id)), Some(&cookie)).await.0, 200);
    gw.stop().await;
}

/// A form post from the harness's signed-in browser: status, Location, body.
async fn submit(browser: &tests::Browser<'_>, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
    let r = browser.post(path, fields).await;
    let status = r.status().as_u16();
    let location = r.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

/// The wizard's SAML form: metadata import for review, SHA-1 only with the
/// opt-in, every setting saved; the app's Sign On tab: editing the settings,
/// the SHA-1 warning, and rotating the signing certificate with its buttons.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_console_saml_form_and_certificates() {
    let gw = TestGateway::start(Backend::Sqlite).await;
    let browser = tests::Browser::sign_in(&gw, tests::ADMIN_LOGIN, tests::ADMIN_PASSWORD).await;
    let form = browser.page("/admin/apps/new?mode=SAML_2_0").await;
    // The metadata file picker is the script's: hidden in the page as served,
    // and the page's policy lets only our own script run.
    assert!(form.contains(r#"<div id="spMetadata-file-box" hidden"#), "{form}");
    assert!(form.contains(r#"<script src="/assets/admin-apps.js" defer>"#));
    for wanted in ["Import SP metadata", "Use this for Recipient URL and Destination URL", "Allow RSA-SHA1 for this app", "Require signed AuthnRequests", "Encrypt assertions", "Group attribute statements", "Assertion validity (seconds)", "Honor ForceAuthn", "Allow SP-initiated sign-in", "SP single logout URL"] {
        assert!(form.contains(wanted), "{wanted}");
    }

    // Import: the form comes back filled for review; nothing is created.
    let metadata = String::from_utf8(read("sp-metadata.xml")).unwrap();
    let (status, _, html) = submit(&browser, "/admin/apps/new", &[("signOnMode", "SAML_2_0"), ("label", "Imported"), ("spMetadata", &metadata), ("importMetadata", "true")]).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Filled in from the SP&#39;s metadata") || html.contains("Filled in from the SP's metadata"), "{html}");
    assert!(html.contains("value=\"https://sp.example.com\""), "the entity ID became the audience");
    assert!(html.contains("value=\"https://sp.example.com/acs\""));
    assert!(html.contains("value=\"Imported\""), "the label is kept");
    let (_, apps) = json_of(gw.admin(Method::GET, "/api/v1/apps")).await;
    assert_eq!(apps.as_array().unwrap().len(), 0, "an import never creates");
    let (status, _, html) = submit(&browser, "/admin/apps/new", &[("signOnMode", "SAML_2_0"), ("label", "Imported"), ("spMetadata", "<!DOCTYPE x [<!ENTITY e \"x\">]><x>&e;</x>")]).await;
    assert_eq!(status, 400);
    assert!(html.contains("href=\"#f-spMetadata\""), "{html}");

    let base = vec![
        ("signOnMode", "SAML_2_0"),
        ("label", "Ledger"),
        ("settings.signOn.ssoAcsUrl", ACS),
        ("useAcsForRecipient", "true"),
        ("settings.signOn.audience", SP_ENTITY),
        ("settings.signOn.subjectNameIdFormat", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"),
        ("settings.signOn.responseSigned", "true"),
        ("settings.signOn.assertionSigned", "true"),
        ("settings.signOn.digestAlgorithm", "SHA256"),
        ("settings.signOn.assertionEncryption.encryptionAlgorithm", "AES256_GCM"),
        ("settings.signOn.assertionEncryption.keyTransportAlgorithm", "RSA_OAEP"),
        ("settings.signOn.authnContextClassRef", "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"),
        ("settings.signOn.honorForceAuthn", "true"),
        ("settings.signOn.allowSpInitiated", "true"),
        ("settings.signOn.allowMultipleAcsEndpoints", "true"),
        ("settings.signOn.acsEndpoints[0].index", "0"),
        ("settings.signOn.acsEndpoints[0].url", ACS),
        ("settings.signOn.acsEndpoints[1].index", "5"),
        ("settings.signOn.acsEndpoints[1].url", ACS2),
        ("settings.signOn.attributeStatements[0].name", "email"),
        ("settings.signOn.attributeStatements[0].namespace", "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"),
        ("settings.signOn.attributeStatements[0].values", "user.email"),
        ("settings.signOn.groupAttributeStatements[0].name", "groups"),
        ("settings.signOn.groupAttributeStatements[0].namespace", "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"),
        ("settings.signOn.groupAttributeStatements[0].filterType", "CONTAINS"),
        ("settings.signOn.groupAttributeStatements[0].filterValue", "ng"),
        ("settings.signOn.participateSlo.bindingType", "POST"),
        ("settings.signOn.samlAssertionLifetimeSeconds", "120"),
    ];
    // SHA-1 without the opt-in is refused by field.
    let mut sha1 = base.clone();
    sha1.push(("settings.signOn.signatureAlgorithm", "RSA_SHA1"));
    let (status, _, html) = submit(&browser, "/admin/apps/new", &sha1).await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("href=\"#f-settings-signOn-signatureAlgorithm\""), "{html}");
    assert!(html.contains("RSA_SHA1 is weak"));
    // With the opt-in it is created, every setting in Okta's shape.
    sha1.push(("settings.signOn.allowWeakSignatureAlgorithm", "true"));
    let (status, location, html) = submit(&browser, "/admin/apps/new", &sha1).await;
    assert_eq!(status, 303, "{html}");
    let id = location.trim_start_matches("/admin/apps/").split('?').next().unwrap().to_owned();
    let (_, app) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{id}"))).await;
    let s = &app["settings"]["signOn"];
    assert_eq!(s["signatureAlgorithm"], "RSA_SHA1");
    assert_eq!(s["allowWeakSignatureAlgorithm"], true);
    assert_eq!(s["acsEndpoints"], json!([{"url": ACS, "index": 0}, {"url": ACS2, "index": 5}]));
    assert_eq!(s["attributeStatements"][1]["filterType"], "CONTAINS");
    assert_eq!(s["samlAssertionLifetimeSeconds"], 120);
    assert_eq!(s["participateSlo"]["enabled"], false);

    // The Sign On tab warns about SHA-1 and lists the certificate in use.
    let tab = browser.page(&format!("/admin/apps/{id}?tab=signon")).await;
    assert!(tab.contains("This app signs with RSA-SHA1, which is weak."), "{tab}");
    assert!(tab.contains("Signing certificates") && tab.contains("In use"));
    assert!(!tab.contains("Use this certificate"), "the key in use has no buttons");

    // Edit SAML settings: the same form, filled from the app, saved through the API.
    let edit = browser.page(&format!("/admin/apps/{id}/saml")).await;
    assert!(edit.contains(&format!("value=\"{SP_ENTITY}\"")), "{edit}");
    let mut changed: Vec<(&str, &str)> = base.iter().filter(|(k, _)| *k != "signOnMode" && *k != "label").cloned().collect();
    changed.retain(|(k, _)| *k != "settings.signOn.audience");
    changed.push(("settings.signOn.audience", "urn:ledger"));
    changed.push(("settings.signOn.signatureAlgorithm", "RSA_SHA256"));
    let (status, _, html) = submit(&browser, &format!("/admin/apps/{id}/saml"), &changed).await;
    assert_eq!(status, 303, "{html}");
    let (_, app) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{id}"))).await;
    assert_eq!(app["settings"]["signOn"]["audience"], "urn:ledger");
    assert_eq!(app["settings"]["signOn"]["allowWeakSignatureAlgorithm"], false);
    assert!(!browser.page(&format!("/admin/apps/{id}?tab=signon")).await.contains("which is weak"));
    changed.push(("settings.signOn.acsEndpoints[2].index", "5"));
    changed.push(("settings.signOn.acsEndpoints[2].url", "https://sp.example.test/saml/acs3"));
    let (status, _, html) = submit(&browser, &format!("/admin/apps/{id}/saml"), &changed).await;
    assert_eq!(status, 400, "a duplicate index");
    assert!(html.contains("href=\"#f-settings-signOn-acsEndpoints\""), "{html}");

    // Rotation from the page: generate, use, remove the previous one.
    let (_, keys) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{id}/credentials/keys"))).await;
    let old_kid = keys[0]["kid"].as_str().unwrap().to_owned();
    let (status, location, _) = submit(&browser, &format!("/admin/apps/{id}/saml/keys/generate"), &[("validityYears", "3")]).await;
    assert_eq!(status, 303);
    assert!(location.contains("tab=signon"));
    let (_, keys) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{id}/credentials/keys"))).await;
    let new_kid = keys[1]["kid"].as_str().unwrap().to_owned();
    let tab = browser.page(&format!("/admin/apps/{id}?tab=signon")).await;
    assert!(tab.contains("Next") && tab.contains(&format!("/admin/apps/{id}/saml/keys/{new_kid}/activate")));
    assert_eq!(submit(&browser, &format!("/admin/apps/{id}/saml/keys/{old_kid}/remove"), &[]).await.0, 400, "never the key in use");
    assert_eq!(submit(&browser, &format!("/admin/apps/{id}/saml/keys/{new_kid}/activate"), &[]).await.0, 303);
    let (_, app) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{id}"))).await;
    assert_eq!(app["credentials"]["signing"]["kid"], new_kid.as_str());
    assert!(browser.page(&format!("/admin/apps/{id}?tab=signon")).await.contains("Previous"));
    assert_eq!(submit(&browser, &format!("/admin/apps/{id}/saml/keys/{old_kid}/remove"), &[]).await.0, 303);
    let (_, keys) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{id}/credentials/keys"))).await;
    assert_eq!(keys.as_array().unwrap().len(), 1);
    // Without the CSRF field nothing changes.
    let r = gw.http.post(gw.url(&format!("/admin/apps/{id}/saml/keys/generate"))).header("cookie", browser.cookies()).header("origin", &gw.base).form(&[("validityYears", "3")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    gw.stop().await;
}

/// The launch path reads the person's groups and profile from caches: every
/// change to them reaches the next assertion, and a person who may no longer
/// launch cannot, on both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_the_next_assertion_through_the_caches() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let gw = TestGateway::start(backend).await;
        let app = create_app(&gw, base_sign_on()).await;
        let uid = person(&gw, &app).await;
        let cookie = session(&gw, "ada@example.com").await;
        let launch = gw.url(&format!("/home/{}/{}/launch", app.name, app.id));
        let groups_now = || async {
            let (status, _, html) = get(&gw, &launch, Some(&cookie)).await;
            assert_eq!(status, 200, "{html}");
            let xml = decode(&form(&html).1["SAMLResponse"]);
            let statement = &xml[xml.find("Name=\"groups\"").expect("the groups attribute")..];
            let statement = &statement[..statement.find("</saml:Attribute>").unwrap()];
            let mut names: Vec<String> =
                statement.split("<saml:AttributeValue").skip(1).map(|v| v[v.find('>').unwrap() + 1..v.find("</").unwrap()].to_owned()).collect();
            names.sort();
            (names, xml)
        };
        assert_eq!(groups_now().await.0, ["Engineering"]);

        let (_, leads) = json_of(gw.admin(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": "Engineering Leads"}}))).await;
        let leads_id = leads["id"].as_str().unwrap().to_owned();
        gw.admin(Method::PUT, &format!("/api/v1/groups/{leads_id}/users/{uid}")).send().await.unwrap();
        assert_eq!(groups_now().await.0, ["Engineering", "Engineering Leads"], "a membership added");

        let (_, groups) = json_of(gw.admin(Method::GET, &format!("/api/v1/users/{uid}/groups"))).await;
        let id_of = |name: &str| groups.as_array().unwrap().iter().find(|g| g["profile"]["name"] == name).unwrap()["id"].as_str().unwrap().to_owned();
        let (status, _) = json_of(gw.admin(Method::PUT, &format!("/api/v1/groups/{}", id_of("Sales"))).json(&json!({"profile": {"name": "Engineering Sales"}}))).await;
        assert_eq!(status, 200);
        assert_eq!(groups_now().await.0, ["Engineering", "Engineering Leads", "Engineering Sales"], "a group renamed");

        gw.admin(Method::DELETE, &format!("/api/v1/groups/{}/users/{uid}", id_of("Engineering"))).send().await.unwrap();
        assert_eq!(groups_now().await.0, ["Engineering Leads", "Engineering Sales"], "a membership removed");
        gw.admin(Method::DELETE, &format!("/api/v1/groups/{leads_id}")).send().await.unwrap();
        assert_eq!(groups_now().await.0, ["Engineering Sales"], "a group deleted");

        let (status, _) = json_of(gw.admin(Method::POST, &format!("/api/v1/users/{uid}")).json(&json!({"profile": {"firstName": "Augusta"}}))).await;
        assert_eq!(status, 200);
        assert!(groups_now().await.1.contains(">Augusta</saml:AttributeValue>"), "a profile change");

        // Unassigned: no more launches; deactivated: no more session.
        let removed = gw.admin(Method::DELETE, &format!("/api/v1/apps/{}/users/{uid}", app.id)).send().await.unwrap();
        assert_eq!(removed.status(), 204);
        let (status, _, html) = get(&gw, &launch, Some(&cookie)).await;
        assert!(status == 403 || status == 404, "{status}: {html}");
        assert!(!html.contains("SAMLResponse"));
        let (status, _) = json_of(gw.admin(Method::POST, &format!("/api/v1/apps/{}/users", app.id)).json(&json!({"id": uid, "scope": "USER"}))).await;
        assert_eq!(status, 200);
        assert_eq!(get(&gw, &launch, Some(&cookie)).await.0, 200);
        let (status, _) = json_of(gw.admin(Method::POST, &format!("/api/v1/users/{uid}/lifecycle/deactivate"))).await;
        assert_eq!(status, 200);
        let (status, _, html) = get(&gw, &launch, Some(&cookie)).await;
        assert!(!html.contains("SAMLResponse"), "{status}: a deactivated person launches nothing");
        gw.stop().await;
    }
}
