"""Signing-key rotation with overlap, and IdP-initiated logout by HTTP-POST,
against real SPs.

Rotation: python3-saml (strict) and pysaml2 configured from the IdP metadata
read during the overlap (two signing certificates) keep accepting responses
before the switch, after it, and after the previous key is deleted; an SP
that only ever read the old metadata stops accepting after the switch, which
shows the switch really happened.

Logout: dashboard sign-out posts a signed LogoutRequest (enveloped signature)
to a pysaml2 SP whose single logout endpoint takes HTTP-POST; pysaml2
verifies it against the IdP metadata, ends its session, and posts back a
signed LogoutResponse that the gateway accepts once.
"""

import base64
import html
import os
import re
import subprocess
import tempfile

import requests
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from test_saml_sps import (  # noqa: F401  (api and ada are fixtures)
    SP_HOST,
    acs_request,
    ada,
    api,
    auto_post,
    auto_post_pysaml2,
    browser,
    make_app,
    onelogin_consume,
    onelogin_settings,
    pysaml2_client,
    pysaml2_consume,
    xmlsec_verify,
)

SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
DIGEST_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


def pem(der_b64: str) -> str:
    lines = [der_b64[i : i + 64] for i in range(0, len(der_b64), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def metadata_certificates(metadata: str):
    return re.findall(r"<ds:X509Certificate>([^<]+)</ds:X509Certificate>", metadata)


ASSERTION_SIGNATURE = "/*[local-name()='Response']/*[local-name()='Assertion']/*[local-name()='Signature']"


def test_rotation_keeps_metadata_reading_sps_working(gateway, api, ada, tmp_path):
    sp = "rotate"
    app, acs, old_metadata = make_app(api, ada, sp)
    metadata_url = app["_links"]["metadata"]["href"]
    old_only = onelogin_settings(old_metadata, sp, False)
    b = browser(gateway)

    def launch():
        r = b.get(gateway.url(f"/home/{app['name']}/{app['id']}/launch"), allow_redirects=False)
        assert r.status_code == 200, r.text
        return auto_post(r.text)[1]

    def refused_by(settings, fields):
        auth = OneLogin_Saml2_Auth(acs_request(acs, fields), settings)
        auth.process_response()
        return auth.get_errors() != [] and not auth.is_authenticated()

    old_kid = api.call("GET", f"/api/v1/apps/{app['id']}/credentials/keys")[0]["kid"]
    new_key = api.call("POST", f"/api/v1/apps/{app['id']}/credentials/keys/generate?validityYears=2", expect=201)
    new_kid, new_der = new_key["kid"], new_key["x5c"][0]

    # The SPs re-read metadata during the overlap: both certificates.
    overlap = requests.get(metadata_url).text
    assert len(metadata_certificates(overlap)) == 2
    assert len(OneLogin_Saml2_IdPMetadataParser.parse(overlap)["idp"]["x509certMulti"]["signing"]) == 2
    settings = onelogin_settings(overlap, sp, False)
    client = pysaml2_client(overlap, sp, False, str(tmp_path))

    # Before the switch the old key signs; every SP accepts.
    onelogin_consume(settings, acs, launch(), None)
    onelogin_consume(old_only, acs, launch(), None)
    pysaml2_consume(client, launch(), {})

    # The switch: Okta's credentials.signing.kid.
    updated = api.call("PUT", f"/api/v1/apps/{app['id']}", {"credentials": {"signing": {"kid": new_kid}}})
    assert updated["credentials"]["signing"]["kid"] == new_kid
    fields = launch()
    xmlsec_verify(base64.b64decode(fields["SAMLResponse"]), pem(new_der), ASSERTION_SIGNATURE)
    onelogin_consume(settings, acs, fields, None)
    pysaml2_consume(client, launch(), {})
    assert refused_by(old_only, launch()), "an SP that never saw the new certificate must refuse: the new key signs"
    assert len(metadata_certificates(requests.get(metadata_url).text)) == 2, "the previous key stays published"

    # Retiring the previous key: metadata shrinks, the SPs still accept.
    r = api.http.delete(gateway.url(f"/api/v1/apps/{app['id']}/credentials/keys/{old_kid}"))
    assert r.status_code == 204, r.text
    assert metadata_certificates(requests.get(metadata_url).text) == [new_der]
    onelogin_consume(settings, acs, launch(), None)
    pysaml2_consume(client, launch(), {})


def test_idp_initiated_logout_by_post_with_pysaml2(gateway, api, ada, tmp_path):
    from saml2 import BINDING_HTTP_POST

    sp = "slo-post"
    app, acs, _ = make_app(api, ada, sp)
    slo = f"https://{SP_HOST}/{sp}/slo"
    app["settings"]["signOn"]["participateSlo"] = {"enabled": True, "logoutRequestUrl": slo, "bindingType": "POST", "sessionIndexRequired": True}
    api.call("PUT", f"/api/v1/apps/{app['id']}", {"settings": app["settings"]})
    metadata = requests.get(app["_links"]["metadata"]["href"]).text
    idp_cert = pem(metadata_certificates(metadata)[0])
    client = pysaml2_client(metadata, sp, False, str(tmp_path))
    b = browser(gateway)

    # Ada signs in to the SP from the dashboard: pysaml2 now holds her session.
    r = b.get(gateway.url(f"/home/{app['name']}/{app['id']}/launch"), allow_redirects=False)
    response = pysaml2_consume(client, auto_post(r.text)[1], {})

    # She signs out of the dashboard: the page posts a LogoutRequest into a frame.
    home = b.get(gateway.url("/app/UserHome"))
    csrf = re.search(r'name="csrf" value="([^"]+)"', home.text).group(1)
    r = b.post(gateway.url("/login/signout"), data={"csrf": csrf}, headers={"Origin": gateway.base}, allow_redirects=False)
    assert r.status_code == 200, r.text
    form = re.search(r'<form class="slo-post[^"]*" method="post" action="([^"]+)" target="slo-\d+">(.*?)</form>', r.text, re.S)
    assert form, r.text
    assert html.unescape(form.group(1)) == slo
    saml_request = html.unescape(re.search(r'name="SAMLRequest" value="([^"]+)"', form.group(2)).group(1))
    request_xml = base64.b64decode(saml_request)
    assert b"<ds:Signature" in request_xml
    with_ids = ["--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest"]
    with tempfile.TemporaryDirectory() as d:
        doc, cert = os.path.join(d, "req.xml"), os.path.join(d, "cert.pem")
        open(doc, "wb").write(request_xml)
        open(cert, "w").write(idp_cert)
        run = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", cert, *with_ids, doc], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
    assert b.get(gateway.url("/app/UserHome"), allow_redirects=False).status_code == 303, "signed out of the gateway"

    # pysaml2 takes the POSTed request (checking it against the IdP metadata),
    # ends Ada's session, and answers by POST, signed.
    http_args = client.handle_logout_request(saml_request, response.name_id, BINDING_HTTP_POST, sign=True, sign_alg=SHA256, digest_alg=DIGEST_SHA256)
    assert client.users.subjects() == [], "pysaml2 ended the session"
    action, fields = auto_post_pysaml2(http_args)
    assert action == gateway.url(f"/app/{app['name']}/{app['id']}/slo/saml")
    answer = base64.b64decode(fields["SAMLResponse"]).decode()
    assert "status:Success" in answer and re.search(r"<\w+:Signature[ >]", answer), answer
    r = requests.post(action, data=fields, allow_redirects=False)
    assert r.status_code == 200, r.text
    assert f"Signed out of {app['label']}" in r.text
    assert requests.post(action, data=fields, allow_redirects=False).status_code == 400, "accepted once"
