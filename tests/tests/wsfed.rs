//! WS-Federation passive requestor profile against xmlsec1: SP- and
//! IdP-initiated sign-in with SAML 1.1 and SAML 2.0 tokens (signature,
//! realm, audience, lifetime and claims checked), the signed federation
//! metadata, refusals (unregistered wreply, unknown realm, wrong wa, not
//! assigned) that post nothing, and wsignout1.0 / wsignoutcleanup1.0.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use reqwest::header::SET_COOKIE;
use reqwest::Method;
use serde_json::{json, Value};
use tests::{json_of, session};
use tests::{Backend, ClockExt, TestGateway};
use time::format_description::well_known::Rfc3339;

const REALM: &str = "urn:claims-app";
const REPLY: &str = "https://rp.example/signin-wsfed";
const ALT_REPLY: &str = "https://rp.example/alt";
const CLAIMS: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";



fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&amp;", "&")
}

/// The auto-submitting form: its action and hidden fields.
fn form(html: &str) -> (String, HashMap<String, String>) {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
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

fn text_of<'a>(xml: &'a str, element: &str) -> Option<&'a str> {
    let open = [format!("<{element}>"), format!("<{element} ")].iter().filter_map(|t| xml.find(t.as_str())).min()?;
    let start = open + xml[open..].find('>')? + 1;
    let end = start + xml[start..].find(&format!("</{element}>"))?;
    Some(&xml[start..end])
}

fn attr_of<'a>(xml: &'a str, element: &str, attribute: &str) -> Option<&'a str> {
    let open = xml.find(&format!("<{element} "))?;
    let tag = &xml[open..open + xml[open..].find('>')?];
    let start = tag.find(&format!(" {attribute}=\""))? + attribute.len() + 3;
    Some(&tag[start..start + tag[start..].find('"')?])
}

fn scratch(name: &str, contents: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// `xmlsec1 --verify` of the signature at `xpath`, trusting only `cert_pem`.
fn xmlsec_verify(xml: &str, cert_pem: &str, id_attr: (&str, &str), xpath: &str, name: &str) {
    let doc = scratch(&format!("wsfed-{name}.xml"), xml.as_bytes());
    let cert = scratch(&format!("wsfed-{name}-cert.pem"), cert_pem.as_bytes());
    let output = Command::new("xmlsec1")
        .args(["--verify", "--pubkey-cert-pem", &cert.display().to_string(), &format!("--id-attr:{}", id_attr.0), id_attr.1, "--node-xpath", xpath])
        .arg(&doc)
        .output()
        .expect("xmlsec1 is installed (tests/run-all.sh installs it)");
    assert!(output.status.success(), "xmlsec1 rejected {name}: {}\n{xml}", String::from_utf8_lossy(&output.stderr));
}

const SAML11_ID: (&str, &str) = ("AssertionID", "urn:oasis:names:tc:SAML:1.0:assertion:Assertion");
const SAML20_ID: (&str, &str) = ("ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion");
const ASSERTION_SIGNATURE: &str = "//*[local-name()='Assertion']/*[local-name()='Signature']";

struct App {
    id: String,
    name: String,
    cert_pem: String,
}

impl App {
    fn passive(&self, query: &str) -> String {
        format!("/app/{}/{}/sso/wsfed/passive?{query}", self.name, self.id)
    }
}

async fn create_app(gw: &TestGateway, label: &str, realm: &str, extra: Value) -> App {
    let mut settings = json!({
        "realm": realm,
        "wReplyURL": REPLY,
        "wReplyOverride": true,
        "wReplyURLs": [ALT_REPLY],
        "attributeStatements": format!("givenname|${{user.firstName}}|{CLAIMS},emailaddress|user.email|{CLAIMS},department|Research|"),
        "groupFilter": "team-.*",
        "usernameAttribute": "upn",
    });
    for (k, v) in extra.as_object().unwrap() {
        settings[k] = v.clone();
    }
    let (status, app) = json_of(gw.admin(Method::POST, "/api/v1/apps").json(&json!({"name": "template_wsfed", "label": label, "signOnMode": "WS_FEDERATION", "settings": {"app": settings}}))).await;
    assert_eq!(status, 200, "{app}");
    let id = app["id"].as_str().unwrap().to_owned();
    assert_eq!(app["_links"]["metadata"]["href"], gw.url(&format!("/app/{id}/sso/wsfed/metadata")));
    let (_, keys) = json_of(gw.admin(Method::GET, &format!("/api/v1/apps/{id}/credentials/keys"))).await;
    let der = keys[0]["x5c"][0].as_str().unwrap();
    let body: Vec<String> = der.as_bytes().chunks(64).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
    let cert_pem = format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", body.join("\n"));
    App { id, name: app["name"].as_str().unwrap().to_owned(), cert_pem }
}

/// Ada, assigned to `apps`, in groups team-blue and sales.
async fn person(gw: &TestGateway, apps: &[&App]) -> String {
    let ada = gw.create_user("ada@example.com", "Ada", "Lovelace").await;
    let uid = ada["id"].as_str().unwrap().to_owned();
    for name in ["team-blue", "sales"] {
        let (_, group) = json_of(gw.admin(Method::POST, "/api/v1/groups").json(&json!({"profile": {"name": name}}))).await;
        gw.admin(Method::PUT, &format!("/api/v1/groups/{}/users/{uid}", group["id"].as_str().unwrap())).send().await.unwrap();
    }
    for app in apps {
        let (status, _) = json_of(gw.admin(Method::POST, &format!("/api/v1/apps/{}/users", app.id)).json(&json!({"id": uid, "scope": "USER"}))).await;
        assert_eq!(status, 200);
    }
    uid
}

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

async fn get(gw: &TestGateway, path: &str, cookie: Option<&str>) -> Page {
    let mut request = gw.http.get(gw.url(path));
    if let Some(c) = cookie {
        request = request.header("cookie", c);
    }
    let response = request.send().await.unwrap();
    Page { status: response.status().as_u16(), headers: response.headers().clone(), body: response.text().await.unwrap() }
}

fn instant(gw: &TestGateway, plus_minutes: i64) -> String {
    let t = gw.clock.now_dt() + time::Duration::minutes(plus_minutes);
    let text = t.format(&Rfc3339).unwrap();
    // The gateway writes milliseconds: 2026-03-02T09:00:00.000Z.
    format!("{}.000Z", text.trim_end_matches('Z'))
}

/// The token posted to `reply`: checks the form, then the RSTR around the token.
fn rstr_from(gw: &TestGateway, page: &Page, reply: &str, wctx: Option<&str>, token_type: &str) -> String {
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.headers["cache-control"], "no-store");
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("form-action https://rp.example;"), "{csp}");
    let (action, fields) = form(&page.body);
    assert_eq!(action, reply);
    assert_eq!(fields["wa"], "wsignin1.0");
    assert_eq!(fields.get("wctx").map(String::as_str), wctx);
    let rstr = fields["wresult"].clone();
    assert!(rstr.starts_with("<t:RequestSecurityTokenResponse xmlns:t=\"http://schemas.xmlsoap.org/ws/2005/02/trust\">"), "{rstr}");
    assert_eq!(text_of(&rstr, "wsu:Created"), Some(instant(gw, 0).as_str()));
    assert_eq!(text_of(&rstr, "wsu:Expires"), Some(instant(gw, 5).as_str()));
    assert_eq!(text_of(&rstr, "wsa:Address"), Some(REALM));
    assert_eq!(text_of(&rstr, "t:TokenType"), Some(token_type));
    assert_eq!(text_of(&rstr, "t:RequestType"), Some("http://schemas.xmlsoap.org/ws/2005/02/trust/Issue"));
    rstr
}

fn check_saml11(gw: &TestGateway, app: &App, rstr: &str, name: &str) {
    xmlsec_verify(rstr, &app.cert_pem, SAML11_ID, ASSERTION_SIGNATURE, name);
    assert_eq!(attr_of(rstr, "saml:Assertion", "Issuer"), Some(gw.url(&format!("/app/{}/sso/wsfed/metadata", app.id)).as_str()));
    assert_eq!(attr_of(rstr, "saml:Assertion", "MajorVersion"), Some("1"));
    assert_eq!(text_of(rstr, "saml:Audience"), Some(REALM));
    assert_eq!(attr_of(rstr, "saml:Conditions", "NotBefore"), Some(instant(gw, -3).as_str()));
    assert_eq!(attr_of(rstr, "saml:Conditions", "NotOnOrAfter"), Some(instant(gw, 5).as_str()));
    assert_eq!(text_of(rstr, "saml:NameIdentifier"), Some("ada@example.com"));
    assert_eq!(text_of(rstr, "saml:ConfirmationMethod"), Some("urn:oasis:names:tc:SAML:1.0:cm:bearer"));
    assert_eq!(attr_of(rstr, "saml:AuthenticationStatement", "AuthenticationMethod"), Some("urn:oasis:names:tc:SAML:1.0:am:password"));
    let claim = |name: &str| -> Vec<String> {
        rstr.split("<saml:Attribute ")
            .skip(1)
            .filter(|a| a.starts_with(&format!("AttributeName=\"{name}\"")))
            .flat_map(|a| a[..a.find("</saml:Attribute>").unwrap()].split("<saml:AttributeValue>").skip(1).map(|v| v[..v.find('<').unwrap()].to_owned()).collect::<Vec<_>>())
            .collect()
    };
    assert_eq!(claim("givenname"), ["Ada"]);
    assert_eq!(claim("emailaddress"), ["ada@example.com"]);
    assert_eq!(claim("upn"), ["ada@example.com"]);
    assert_eq!(claim("department"), ["Research"]);
    assert_eq!(claim("role"), ["team-blue"], "only groups passing the filter");
    assert!(rstr.contains(&format!("AttributeName=\"givenname\" AttributeNamespace=\"{CLAIMS}\"")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sp_and_idp_initiated_saml11() {
    let gw = TestGateway::start(Backend::Sqlite).await;
    let app = create_app(&gw, "Claims App", REALM, json!({})).await;
    person(&gw, &[&app]).await;

    // Without a session: sign in first, and the request itself is where to come back.
    let query = format!("wa=wsignin1.0&wtrealm={}&wctx={}", enc(REALM), enc("rm=0&id=passive&ru=/"));
    let anonymous = get(&gw, &app.passive(&query), None).await;
    assert_eq!(anonymous.status, 303);
    let location = anonymous.headers["location"].to_str().unwrap();
    let back: String = url::form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes()).find(|(k, _)| k == "fromURI").unwrap().1.into_owned();
    assert_eq!(back, app.passive(&query));

    let cookie = session(&gw, "ada@example.com").await;
    let page = get(&gw, &back, Some(&cookie)).await;
    let rstr = rstr_from(&gw, &page, REPLY, Some("rm=0&id=passive&ru=/"), "urn:oasis:names:tc:SAML:1.0:assertion");
    check_saml11(&gw, &app, &rstr, "sp-saml11");

    // A registered alternative reply URL (wReplyOverride) is honoured.
    let alt = get(&gw, &app.passive(&format!("wa=wsignin1.0&wtrealm={REALM}&wreply={}", enc(ALT_REPLY))), Some(&cookie)).await;
    rstr_from(&gw, &alt, ALT_REPLY, None, "urn:oasis:names:tc:SAML:1.0:assertion");

    // IdP-initiated from the dashboard: posted to wReplyURL, no wctx.
    let launch = get(&gw, &format!("/home/{}/{}/launch", app.name, app.id), Some(&cookie)).await;
    let rstr = rstr_from(&gw, &launch, REPLY, None, "urn:oasis:names:tc:SAML:1.0:assertion");
    check_saml11(&gw, &app, &rstr, "idp-saml11");

    // A tampered token does not verify (xmlsec1 is really checking).
    let tampered = rstr.replace("<saml:AttributeValue>Research<", "<saml:AttributeValue>Admin<");
    let doc = scratch("wsfed-tampered.xml", tampered.as_bytes());
    let cert = scratch("wsfed-tampered-cert.pem", app.cert_pem.as_bytes());
    let out = Command::new("xmlsec1")
        .args(["--verify", "--pubkey-cert-pem", &cert.display().to_string(), "--id-attr:AssertionID", SAML11_ID.1, "--node-xpath", ASSERTION_SIGNATURE])
        .arg(&doc)
        .output()
        .unwrap();
    assert!(!out.status.success());

    // Counted per protocol, and in the System Log.
    let metrics = gw.http.get(gw.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.lines().any(|l| l.starts_with("vestibule_launches_total{protocol=\"wsfed\"} ")), "{metrics}");
    let (_, events) = json_of(gw.admin(Method::GET, "/api/v1/logs?limit=100")).await;
    let sso: Vec<&Value> = events.as_array().unwrap().iter().filter(|e| e["eventType"] == "user.authentication.sso" && e["outcome"]["result"] == "SUCCESS").collect();
    assert!(sso.len() >= 3, "{events}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saml20_tokens_and_signed_metadata() {
    let gw = TestGateway::start(Backend::Sqlite).await;
    let app = create_app(&gw, "Claims App 2", REALM, json!({"tokenType": "SAML_2_0", "audienceRestriction": "https://rp.example/", "nameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"})).await;
    person(&gw, &[&app]).await;
    let cookie = session(&gw, "ada@example.com").await;
    for (name, page) in [
        ("sp-saml20", get(&gw, &app.passive(&format!("wa=wsignin1.0&wtrealm={REALM}&wctx=abc")), Some(&cookie)).await),
        ("idp-saml20", get(&gw, &format!("/home/{}/{}/launch", app.name, app.id), Some(&cookie)).await),
    ] {
        let wctx = (name == "sp-saml20").then_some("abc");
        let rstr = rstr_from(&gw, &page, REPLY, wctx, "urn:oasis:names:tc:SAML:2.0:assertion");
        xmlsec_verify(&rstr, &app.cert_pem, SAML20_ID, ASSERTION_SIGNATURE, name);
        assert_eq!(attr_of(&rstr, "saml:Assertion", "Version"), Some("2.0"));
        assert_eq!(text_of(&rstr, "saml:Issuer"), Some(gw.url(&format!("/app/{}/sso/wsfed/metadata", app.id)).as_str()));
        assert_eq!(text_of(&rstr, "saml:Audience"), Some("https://rp.example/"));
        assert_eq!(attr_of(&rstr, "saml:NameID", "Format"), Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"));
        assert_eq!(text_of(&rstr, "saml:NameID"), Some("ada@example.com"));
        assert_eq!(attr_of(&rstr, "saml:SubjectConfirmationData", "Recipient"), Some(REPLY));
        assert_eq!(attr_of(&rstr, "saml:Conditions", "NotOnOrAfter"), Some(instant(&gw, 5).as_str()));
        assert_eq!(text_of(&rstr, "saml:AuthnContextClassRef"), Some("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"));
        assert!(rstr.contains(&format!("<saml:Attribute Name=\"{CLAIMS}/givenname\"><saml:AttributeValue>Ada</saml:AttributeValue>")), "{rstr}");
        assert!(rstr.contains("<saml:Attribute Name=\"http://schemas.microsoft.com/ws/2008/06/identity/claims/role\"><saml:AttributeValue>team-blue</saml:AttributeValue></saml:Attribute>"));
        assert!(!rstr.contains("sales"));
    }

    // Signed federation metadata, verifiable with the app's certificate.
    let metadata = get(&gw, &format!("/app/{}/sso/wsfed/metadata", app.id), None).await;
    assert_eq!(metadata.status, 200);
    assert!(metadata.headers["content-type"].to_str().unwrap().starts_with("application/xml"));
    let xml = metadata.body;
    xmlsec_verify(&xml, &app.cert_pem, ("ID", "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor"), "/*/*[local-name()='Signature']", "metadata");
    assert_eq!(attr_of(&xml, "md:EntityDescriptor", "entityID"), Some(gw.url(&format!("/app/{}/sso/wsfed/metadata", app.id)).as_str()));
    assert!(xml.contains("xsi:type=\"fed:SecurityTokenServiceType\""));
    assert!(xml.contains("xmlns:fed=\"http://docs.oasis-open.org/wsfed/federation/200706\""), "the fed prefix stays declared where xsi:type uses it");
    assert_eq!(text_of(&xml, "wsa:Address"), Some(gw.url(&app.passive("")).trim_end_matches('?')));
    assert!(xml.contains("<fed:TokenType Uri=\"urn:oasis:names:tc:SAML:2.0:assertion\">"));
    let der: String = app.cert_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(xml.contains(&format!("<ds:X509Certificate>{der}</ds:X509Certificate>")));
    assert_eq!(get(&gw, "/app/0oanotanapp/sso/wsfed/metadata", None).await.status, 404);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_post_nothing() {
    let gw = TestGateway::start(Backend::Sqlite).await;
    let app = create_app(&gw, "Claims App", REALM, json!({})).await;
    let strict = create_app(&gw, "Strict App", "urn:strict", json!({"wReplyOverride": false})).await;
    person(&gw, &[&app, &strict]).await;
    let cookie = session(&gw, "ada@example.com").await;
    let cases = [
        (app.passive(&format!("wa=wsignin1.0&wtrealm={REALM}&wreply={}", enc("https://evil.example/steal"))), 400, "has not registered"),
        (strict.passive(&format!("wa=wsignin1.0&wtrealm=urn:strict&wreply={}", enc(ALT_REPLY))), 400, "has not registered"),
        (app.passive("wa=wsignin1.0&wtrealm=urn%3Asomeone-else"), 400, "realm this app does not have"),
        (app.passive("wa=wsignin1.0"), 400, "realm this app does not have"),
        (app.passive(&format!("wa=wsignin2.0&wtrealm={REALM}")), 400, "does not support"),
        (app.passive(&format!("wtrealm={REALM}")), 400, "does not support"),
        (app.passive(&format!("wa=wsignin1.0&wa=wsignin1.0&wtrealm={REALM}")), 400, "repeats a parameter"),
        (format!("/app/other_name/{}/sso/wsfed/passive?wa=wsignin1.0&wtrealm={REALM}", app.id), 404, "no active WS-Federation app"),
    ];
    for (path, status, message) in cases {
        let page = get(&gw, &path, Some(&cookie)).await;
        assert_eq!(page.status, status, "{path}: {}", page.body);
        assert!(page.body.contains(message), "{path}: {}", page.body);
        assert!(!page.body.contains("wresult") && !page.body.contains("<form"), "no token on a refusal: {path}");
    }
    // Not assigned: refused after sign-in, and logged.
    let bob = gw.create_user("bob@example.com", "Bob", "Builder").await;
    let bob_cookie = session(&gw, "bob@example.com").await;
    let page = get(&gw, &app.passive(&format!("wa=wsignin1.0&wtrealm={REALM}")), Some(&bob_cookie)).await;
    assert_eq!(page.status, 403);
    assert!(!page.body.contains("wresult"));
    let (_, events) = json_of(gw.admin(Method::GET, "/api/v1/logs?limit=100")).await;
    let refused = events.as_array().unwrap().iter().filter(|e| e["displayMessage"] == "WS-Federation request refused").count();
    assert_eq!(refused, 7);
    assert!(events.as_array().unwrap().iter().any(|e| e["eventType"] == "app.generic.unauth_app_access_attempt" && e["actor"]["id"] == bob["id"]));
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_and_cleanup() {
    let gw = TestGateway::start(Backend::Sqlite).await;
    let app = create_app(&gw, "Claims App", REALM, json!({})).await;
    let other = create_app(&gw, "Other App", "urn:other", json!({"wReplyURL": "https://other.example/wsfed"})).await;
    person(&gw, &[&app, &other]).await;
    let cookie = session(&gw, "ada@example.com").await;
    assert_eq!(get(&gw, &app.passive(&format!("wa=wsignin1.0&wtrealm={REALM}")), Some(&cookie)).await.status, 200);
    assert_eq!(get(&gw, &other.passive("wa=wsignin1.0&wtrealm=urn:other"), Some(&cookie)).await.status, 200);

    // wsignout1.0 with an unregistered wreply is refused and the session stays.
    let refused = get(&gw, &app.passive(&format!("wa=wsignout1.0&wreply={}", enc("https://evil.example/"))), Some(&cookie)).await;
    assert_eq!(refused.status, 400);
    assert_eq!(get(&gw, "/app/UserHome", Some(&cookie)).await.status, 200);

    // wsignout1.0: the session ends and the other app is asked to clean up.
    let out = get(&gw, &app.passive(&format!("wa=wsignout1.0&wreply={}", enc(REPLY))), Some(&cookie)).await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(out.body.contains("<img src=\"https://other.example/wsfed?wa=wsignoutcleanup1.0\""), "{}", out.body);
    assert!(!out.body.contains("rp.example/signin-wsfed?wa=wsignoutcleanup1.0"), "the app that asked is not sent cleanup");
    assert!(out.headers["content-security-policy"].to_str().unwrap().contains("img-src 'self' data: https://other.example;"));
    assert!(out.headers.get_all(SET_COOKIE).iter().any(|c| c.to_str().unwrap().starts_with("sid=;")));
    assert!(out.body.contains(&format!("href=\"{REPLY}\"")));
    assert_eq!(get(&gw, "/app/UserHome", Some(&cookie)).await.status, 303, "the session is over");

    // wsignoutcleanup1.0 ends the session too, then returns to the registered reply URL.
    let cookie = session(&gw, "ada@example.com").await;
    let cleanup = get(&gw, &other.passive(&format!("wa=wsignoutcleanup1.0&wreply={}", enc("https://other.example/wsfed"))), Some(&cookie)).await;
    assert_eq!(cleanup.status, 303);
    assert_eq!(cleanup.headers["location"], "https://other.example/wsfed");
    assert_eq!(get(&gw, "/app/UserHome", Some(&cookie)).await.status, 303);
    gw.stop().await;
}
