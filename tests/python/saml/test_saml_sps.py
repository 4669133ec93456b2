"""Real SAML service providers against the real gateway binary.

python3-saml (OneLogin) in strict mode, and pysaml2, each configured from the
gateway's IdP metadata, accept SP-initiated (Redirect and POST, signed) and
IdP-initiated responses, plain and encrypted, and complete single logout.
Every signature the gateway makes is also checked with `xmlsec1 --verify`.

No SP web server is needed: the browser's part (following the redirect,
submitting the auto-post form) is played by `requests`, and what the browser
would POST to the SP's ACS is handed to the SP library as its request data.
"""

import base64
import html
import os
import re
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

import pytest
import requests
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser


FIXTURES = Path(__file__).resolve().parents[3] / "protocols" / "saml" / "tests" / "fixtures"
SP_KEY = (FIXTURES / "sp-key.pem").read_text()
SP_CERT = (FIXTURES / "sp-cert.pem").read_text()
PASSWORD = "Plum-Orchard-Lantern-42"
SP_HOST = "sp.example.test"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


def cert_body(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


class Api:
    def __init__(self, gateway):
        self.gw = gateway
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"SSWS {gateway.token}", "Accept": "application/json"})

    def call(self, method, path, body=None, expect=200):
        r = self.http.request(method, self.gw.url(path), json=body)
        assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.text else None


@pytest.fixture(scope="module")
def api(gateway):
    return Api(gateway)


@pytest.fixture(scope="module")
def ada(api):
    user = api.call(
        "POST",
        "/api/v1/users?activate=true",
        {
            "profile": {"login": "ada@example.com", "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"},
            "credentials": {"password": {"value": PASSWORD}},
        },
    )
    group = api.call("POST", "/api/v1/groups", {"profile": {"name": "Engineering"}})
    api.http.put(api.gw.url(f"/api/v1/groups/{group['id']}/users/{user['id']}"))
    return user


def browser(gateway) -> requests.Session:
    """A browser signed in as Ada: the session cookie from a session token."""
    b = requests.Session()
    token = b.post(gateway.url("/api/v1/authn"), json={"username": "ada@example.com", "password": PASSWORD}).json()["sessionToken"]
    r = b.get(gateway.url("/login/sessionCookieRedirect"), params={"token": token, "redirectUrl": "/app/UserHome"}, allow_redirects=False)
    assert r.status_code in (302, 303) and "sid" in b.cookies
    return b


def make_app(api, ada, sp: str, encrypted=False, both_signed=True):
    acs = f"https://{SP_HOST}/{sp}/acs"
    sign_on = {
        "ssoAcsUrl": acs,
        "audience": f"https://{SP_HOST}/{sp}/metadata",
        "subjectNameIdFormat": EMAIL,
        "assertionSigned": True,
        "responseSigned": both_signed,
        "signatureAlgorithm": "RSA_SHA256",
        "samlSignedRequestEnabled": True,
        "spCertificate": {"x5c": [cert_body(SP_CERT)]},
        "slo": {"enabled": True, "issuer": f"https://{SP_HOST}/{sp}/metadata", "logoutUrl": f"https://{SP_HOST}/{sp}/slo"},
        "attributeStatements": [
            {"type": "EXPRESSION", "name": "firstName", "namespace": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", "values": ["user.firstName"]},
            {"type": "GROUP", "name": "groups", "namespace": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", "filterType": "REGEX", "filterValue": ".*"},
        ],
    }
    if encrypted:
        sign_on["assertionEncryption"] = {
            "enabled": True,
            "encryptionAlgorithm": "AES256_CBC" if sp == "pysaml2-enc" else "AES256_GCM",
            "keyTransportAlgorithm": "RSA_OAEP",
            "x5c": [cert_body(SP_CERT)],
        }
    app = api.call(
        "POST",
        "/api/v1/apps",
        {
            "label": f"SP {sp}",
            "signOnMode": "SAML_2_0",
            "settings": {"signOn": sign_on},
            "credentials": {"userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"}},
        },
    )
    api.call("POST", f"/api/v1/apps/{app['id']}/users", {"id": ada["id"], "scope": "USER"})
    metadata = requests.get(app["_links"]["metadata"]["href"]).text
    return app, acs, metadata


def auto_post(page: str):
    """The action and hidden fields of the gateway's auto-submitting form."""
    action = html.unescape(re.search(r'<form[^>]* action="([^"]*)"', page).group(1))
    fields = {html.unescape(n): html.unescape(v) for n, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', page)}
    return action, fields


ID_ATTRS = []
for element in ("assertion:Assertion", "protocol:Response", "protocol:LogoutResponse"):
    ID_ATTRS += ["--id-attr:ID", f"urn:oasis:names:tc:SAML:2.0:{element}"]


def xmlsec_verify(xml: bytes, cert_pem: str, xpath: str):
    with tempfile.TemporaryDirectory() as d:
        doc, cert = os.path.join(d, "doc.xml"), os.path.join(d, "cert.pem")
        Path(doc).write_bytes(xml)
        Path(cert).write_text(cert_pem)
        run = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", cert, *ID_ATTRS, "--node-xpath", xpath, doc], capture_output=True, text=True)
        assert run.returncode == 0, f"xmlsec1 --verify {xpath}: {run.stderr}\n{xml.decode()}"


def xmlsec_verify_every_signature(b64_response: str, idp_cert_pem: str):
    xml = base64.b64decode(b64_response)
    text = xml.decode()
    checked = 0
    if re.search(r"<samlp:Response[^>]*>(<saml:Issuer[^<]*</saml:Issuer>)?<ds:Signature", text):
        xmlsec_verify(xml, idp_cert_pem, "/*[local-name()='Response']/*[local-name()='Signature']")
        checked += 1
    if "<saml:Assertion" in text and re.search(r"<saml:Assertion[^>]*>(<saml:Issuer[^>]*>[^<]*</saml:Issuer>)<ds:Signature", text):
        xmlsec_verify(xml, idp_cert_pem, "/*[local-name()='Response']/*[local-name()='Assertion']/*[local-name()='Signature']")
        checked += 1
    assert checked >= 1, text
    return checked


def idp_cert_pem(metadata: str) -> str:
    body = re.search(r"<ds:X509Certificate>([^<]+)</ds:X509Certificate>", metadata).group(1)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


# python3-saml ----------------------------------------------------------------


def onelogin_settings(metadata: str, sp: str, encrypted: bool):
    idp = OneLogin_Saml2_IdPMetadataParser.parse(metadata)
    settings = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": f"https://{SP_HOST}/{sp}/metadata",
            "assertionConsumerService": {"url": f"https://{SP_HOST}/{sp}/acs", "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST},
            "singleLogoutService": {"url": f"https://{SP_HOST}/{sp}/slo", "binding": OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT},
            "NameIDFormat": EMAIL,
            "x509cert": cert_body(SP_CERT),
            "privateKey": SP_KEY,
        },
        "idp": idp["idp"],
        "security": {
            "authnRequestsSigned": True,
            "logoutRequestSigned": True,
            "logoutResponseSigned": True,
            "wantMessagesSigned": True,
            "wantAssertionsSigned": True,
            "wantAssertionsEncrypted": encrypted,
            "wantNameId": True,
            "rejectDeprecatedAlgorithm": True,
            "signatureAlgorithm": OneLogin_Saml2_Constants.RSA_SHA256,
            "digestAlgorithm": OneLogin_Saml2_Constants.SHA256,
        },
    }
    return settings


def acs_request(acs_url: str, fields: dict):
    parsed = urllib.parse.urlparse(acs_url)
    return {"https": "on", "http_host": parsed.netloc, "script_name": parsed.path, "get_data": {}, "post_data": fields}


def onelogin_consume(settings, acs, fields, request_id):
    auth = OneLogin_Saml2_Auth(acs_request(acs, fields), settings)
    auth.process_response(request_id=request_id)
    assert auth.get_errors() == [], f"{auth.get_errors()}: {auth.get_last_error_reason()}"
    assert auth.is_authenticated()
    assert auth.get_nameid() == "ada@example.com"
    assert auth.get_nameid_format() == EMAIL
    assert auth.get_attributes()["firstName"] == ["Ada"]
    assert "Engineering" in auth.get_attributes()["groups"]
    return auth


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_python3_saml_strict(gateway, api, ada, encrypted):
    sp = "onelogin-enc" if encrypted else "onelogin"
    app, acs, metadata = make_app(api, ada, sp, encrypted=encrypted)
    idp_cert = idp_cert_pem(metadata)
    settings = onelogin_settings(metadata, sp, encrypted)
    b = browser(gateway)

    # SP-initiated, HTTP-Redirect with a signed query.
    auth = OneLogin_Saml2_Auth(acs_request(acs, {}), settings)
    login_url = auth.login(return_to=f"https://{SP_HOST}/{sp}/after")
    assert "Signature=" in login_url
    r = b.get(login_url, allow_redirects=False)
    assert r.status_code == 200, r.text
    action, fields = auto_post(r.text)
    assert action == acs and fields["RelayState"] == f"https://{SP_HOST}/{sp}/after"
    xmlsec_verify_every_signature(fields["SAMLResponse"], idp_cert)
    onelogin_consume(settings, acs, fields, auth.get_last_request_id())

    # SP-initiated, a fresh sign-in first: the request is kept while Ada signs in.
    fresh = requests.Session()
    auth = OneLogin_Saml2_Auth(acs_request(acs, {}), settings)
    r = fresh.get(auth.login(return_to="rs-2"), allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].startswith("/login?fromURI=")
    page = fresh.get(gateway.url(r.headers["Location"]))
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    from_uri = html.unescape(re.search(r'name="fromURI" value="([^"]+)"', page.text).group(1))
    r = fresh.post(gateway.url("/login"), data={"csrf": csrf, "fromURI": from_uri, "username": "ada@example.com", "password": PASSWORD}, allow_redirects=False)
    assert r.status_code in (302, 303), r.text
    r = fresh.get(gateway.url(r.headers["Location"]), allow_redirects=False)
    assert r.status_code == 200, r.text
    action, fields = auto_post(r.text)
    onelogin_consume(settings, acs, fields, auth.get_last_request_id())

    # IdP-initiated, from the dashboard.
    r = b.get(gateway.url(f"/home/{app['name']}/{app['id']}/launch"), allow_redirects=False)
    assert r.status_code == 200, r.text
    action, fields = auto_post(r.text)
    assert action == acs
    xmlsec_verify_every_signature(fields["SAMLResponse"], idp_cert)
    onelogin_consume(settings, acs, fields, None)

    # Single logout, SP-initiated by Redirect: signed request, signed response.
    auth = OneLogin_Saml2_Auth(acs_request(acs, {}), settings)
    logout_url = auth.logout(name_id="ada@example.com", name_id_format=EMAIL, return_to="bye")
    r = b.get(logout_url, allow_redirects=False)
    assert r.status_code == 303, r.text
    back = urllib.parse.urlparse(r.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"https://{SP_HOST}/{sp}/slo"
    query = dict(urllib.parse.parse_qsl(back.query))
    slo_request = {"https": "on", "http_host": SP_HOST, "script_name": f"/{sp}/slo", "get_data": query, "post_data": {}}
    sp_auth = OneLogin_Saml2_Auth(slo_request, settings)
    sp_auth.process_slo(request_id=auth.get_last_request_id(), keep_local_session=True)
    assert sp_auth.get_errors() == [], f"{sp_auth.get_errors()}: {sp_auth.get_last_error_reason()}"
    assert b.get(gateway.url("/app/UserHome"), allow_redirects=False).status_code == 303, "signed out of the gateway"


def test_python3_saml_rejects_tampering(gateway, api, ada):
    """The strict SP notices a changed response: our signatures cover what matters."""
    app, acs, metadata = make_app(api, ada, "onelogin-tamper")
    settings = onelogin_settings(metadata, "onelogin-tamper", False)
    b = browser(gateway)
    r = b.get(gateway.url(f"/home/{app['name']}/{app['id']}/launch"))
    _, fields = auto_post(r.text)
    xml = base64.b64decode(fields["SAMLResponse"]).decode().replace(">ada@example.com<", ">eve@example.com<")
    auth = OneLogin_Saml2_Auth(acs_request(acs, {"SAMLResponse": base64.b64encode(xml.encode()).decode()}), settings)
    auth.process_response()
    assert auth.get_errors() != [] and not auth.is_authenticated()


# pysaml2 ---------------------------------------------------------------------


def pysaml2_client(metadata: str, sp: str, encrypted: bool, workdir: str):
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    key_file, cert_file = os.path.join(workdir, "sp-key.pem"), os.path.join(workdir, "sp-cert.pem")
    Path(key_file).write_text(SP_KEY)
    Path(cert_file).write_text(SP_CERT)
    config = {
        "entityid": f"https://{SP_HOST}/{sp}/metadata",
        "key_file": key_file,
        "cert_file": cert_file,
        "encryption_keypairs": [{"key_file": key_file, "cert_file": cert_file}],
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "metadata": {"inline": [metadata]},
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(f"https://{SP_HOST}/{sp}/acs", BINDING_HTTP_POST)],
                    "single_logout_service": [(f"https://{SP_HOST}/{sp}/slo", BINDING_HTTP_REDIRECT)],
                },
                "allow_unsolicited": True,
                "authn_requests_signed": True,
                "logout_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": True,
                "want_assertions_or_response_signed": True,
                "name_id_format": EMAIL,
                "signing_algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                "digest_algorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
            }
        },
        "allow_unknown_attributes": True,
    }
    return Saml2Client(config=SPConfig().load(config))


def pysaml2_consume(client, fields, outstanding):
    from saml2 import BINDING_HTTP_POST

    response = client.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST, outstanding=outstanding)
    assert response is not None
    assert response.name_id.text == "ada@example.com"
    assert response.name_id.format == EMAIL
    assert response.ava["firstName"] == ["Ada"]
    return response


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_pysaml2(gateway, api, ada, encrypted, tmp_path):
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

    sp = "pysaml2-enc" if encrypted else "pysaml2"
    app, acs, metadata = make_app(api, ada, sp, encrypted=encrypted)
    idp_cert = idp_cert_pem(metadata)
    client = pysaml2_client(metadata, sp, encrypted, str(tmp_path))
    idp_entity = re.search(r'entityID="([^"]+)"', metadata).group(1)
    b = browser(gateway)

    # SP-initiated by Redirect, signed query.
    request_id, info = client.prepare_for_authenticate(
        entityid=idp_entity, relay_state="rs-redirect", binding=BINDING_HTTP_REDIRECT, sigalg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    )
    location = dict(info["headers"])["Location"]
    assert "Signature=" in location
    r = b.get(location, allow_redirects=False)
    assert r.status_code == 200, r.text
    action, fields = auto_post(r.text)
    assert action == acs and fields["RelayState"] == "rs-redirect"
    xmlsec_verify_every_signature(fields["SAMLResponse"], idp_cert)
    pysaml2_consume(client, fields, {request_id: "/"})

    # SP-initiated by POST, enveloped signature.
    request_id, info = client.prepare_for_authenticate(entityid=idp_entity, relay_state="rs-post", binding=BINDING_HTTP_POST)
    post_action, post_fields = auto_post_pysaml2(info)
    assert re.search(r"<\w+:Signature[ >]", base64.b64decode(post_fields["SAMLRequest"]).decode())
    r = b.post(post_action, data=post_fields, allow_redirects=False)
    assert r.status_code == 200, r.text
    action, fields = auto_post(r.text)
    assert fields["RelayState"] == "rs-post"
    pysaml2_consume(client, fields, {request_id: "/"})

    # IdP-initiated.
    r = b.get(gateway.url(f"/home/{app['name']}/{app['id']}/launch"), allow_redirects=False)
    action, fields = auto_post(r.text)
    xmlsec_verify_every_signature(fields["SAMLResponse"], idp_cert)
    response = pysaml2_consume(client, fields, {})

    # Single logout, SP-initiated by Redirect.
    result = client.global_logout(response.name_id, reason="test", sign=True, sign_alg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    (binding, http_args), = result.values()
    assert binding == BINDING_HTTP_REDIRECT
    location = dict(http_args["headers"])["Location"]
    r = b.get(location, allow_redirects=False)
    assert r.status_code == 303, r.text
    back = urllib.parse.urlparse(r.headers["Location"])
    query = dict(urllib.parse.parse_qsl(back.query))
    done = client.parse_logout_request_response(query["SAMLResponse"], BINDING_HTTP_REDIRECT)
    assert done is not None and done.status_ok()
    assert b.get(gateway.url("/app/UserHome"), allow_redirects=False).status_code == 303


def auto_post_pysaml2(info):
    """pysaml2's own auto-post page for the POST binding."""
    page = info["data"]
    action = html.unescape(re.search(r'action="([^"]*)"', page).group(1))
    fields = {n: html.unescape(v) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page)}
    return action, fields
