"""Authlib as a real relying party against the real gateway binary.

The browser is a `requests` session that keeps cookies and signs in on the
gateway's own sign-in page. Authlib runs the code flow with PKCE, checks the
ID token (signature against the published JWKS, issuer, audience, nonce,
expiry and at_hash), refreshes with rotation, calls UserInfo, introspects,
revokes and logs out; an API service app calls the management API with a
client_credentials token. The gateway runs on the real clock here.
"""

import re
import secrets
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

ALICE = "alice@example.com"
PASSWORD = "Plum-Orchard-Lantern-42"
REDIRECT = "https://rp.example.com/callback"
BYE = "https://rp.example.com/signed-out"


def admin(gateway, method, path, body=None):
    headers = {"Authorization": f"SSWS {gateway.token}", "Accept": "application/json"}
    return requests.request(method, gateway.url(path), json=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def alice(gateway):
    body = {
        "profile": {"login": ALICE, "email": ALICE, "firstName": "Alice", "lastName": "Liddell"},
        "credentials": {"password": {"value": PASSWORD}},
    }
    r = admin(gateway, "POST", "/api/v1/users?activate=true", body)
    assert r.status_code == 200, r.text
    return r.json()["id"]


def make_app(gateway, settings, credentials=None, assign=None):
    body = {
        "name": "oidc_client",
        "label": "Authlib RP",
        "signOnMode": "OPENID_CONNECT",
        "settings": {"oauthClient": settings},
        "credentials": {"oauthClient": credentials or {}},
    }
    r = admin(gateway, "POST", "/api/v1/apps", body)
    assert r.status_code == 200, r.text
    app_id = r.json()["id"]
    # Okta's shape: the client id is the app id, the secret is shown once, at creation.
    oauth = r.json()["credentials"]["oauthClient"]
    assert oauth["client_id"] == app_id
    secret = oauth["client_secret"]
    if assign:
        r = admin(gateway, "POST", f"/api/v1/apps/{app_id}/users", {"id": assign})
        assert r.status_code == 200, r.text
    return app_id, secret


@pytest.fixture(scope="module")
def web_app(gateway, alice):
    settings = {
        "redirect_uris": [REDIRECT],
        "post_logout_redirect_uris": [BYE],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "application_type": "web",
        "initiate_login_uri": "https://rp.example.com/start-login",
    }
    return make_app(gateway, settings, {"token_endpoint_auth_method": "client_secret_basic"}, alice)


def metadata(issuer):
    r = requests.get(issuer + "/.well-known/openid-configuration", timeout=30)
    assert r.status_code == 200
    doc = r.json()
    assert doc["issuer"] == issuer
    return doc


def follow_and_sign_in(gateway, browser, url):
    """Follows redirects, signing in on the sign-in page, until the gateway
    sends the browser to the relying party; returns that URL."""
    for _ in range(10):
        if url.startswith("https://rp.example.com"):
            return url
        if url.startswith("/"):
            url = gateway.url(url)
        r = browser.get(url, allow_redirects=False, timeout=30)
        if "Location" in r.headers:
            url = r.headers["Location"]
            continue
        assert r.status_code == 200, r.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
        from_uri = re.search(r'name="fromURI" value="([^"]+)"', r.text).group(1).replace("&amp;", "&")
        r = browser.post(
            gateway.url("/login"),
            data={"csrf": csrf, "username": ALICE, "password": PASSWORD, "fromURI": from_uri},
            headers={"Origin": gateway.base},
            allow_redirects=False,
            timeout=30,
        )
        url = r.headers["Location"]
    raise AssertionError("too many redirects")


def validated_id_token(meta, client_id, token, nonce):
    jwks = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=30).json())
    claims = jwt.decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": meta["issuer"]}, "aud": {"essential": True, "value": client_id}},
        claims_params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
    )
    claims.validate()  # exp, iat, iss, aud, nonce and at_hash
    assert "at_hash" in claims
    return claims


@pytest.mark.parametrize("server", ["org", "default"])
def test_code_flow_with_pkce_refresh_userinfo_introspect_revoke_logout(gateway, alice, web_app, server):
    client_id, secret = web_app
    issuer = gateway.base if server == "org" else gateway.url("/oauth2/default")
    meta = metadata(issuer)
    client = OAuth2Session(
        client_id,
        secret,
        scope="openid profile email offline_access",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    uri, state = client.create_authorization_url(meta["authorization_endpoint"], nonce=nonce, code_verifier=verifier)
    browser = requests.Session()
    callback = follow_and_sign_in(gateway, browser, uri)
    query = parse_qs(urlparse(callback).query)
    assert query["state"] == [state]
    assert query["iss"] == [issuer]
    token = client.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    claims = validated_id_token(meta, client_id, token, nonce)
    assert claims["sub"] == alice
    assert claims["email"] == ALICE

    info = client.get(meta["userinfo_endpoint"]).json()
    assert (info["sub"], info["email"], info["family_name"]) == (alice, ALICE, "Liddell")

    first = token["refresh_token"]
    refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=first)
    assert refreshed["refresh_token"] != first
    active = client.introspect_token(meta["introspection_endpoint"], token=refreshed["access_token"]).json()
    assert active["active"] is True and active["sub"] == alice and active["client_id"] == client_id

    client.revoke_token(meta["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token")
    after = client.introspect_token(meta["introspection_endpoint"], token=refreshed["access_token"]).json()
    assert after == {"active": False}

    query = urlencode({"id_token_hint": token["id_token"], "post_logout_redirect_uri": BYE, "state": "s-1"})
    out = browser.get(meta["end_session_endpoint"] + "?" + query, allow_redirects=False, timeout=30)
    assert out.status_code == 302 and out.headers["Location"] == BYE + "?state=s-1"
    me = browser.get(gateway.url("/api/v1/sessions/me"), timeout=30)
    assert me.status_code != 200


def test_refused_pkce_mismatch_and_refresh_reuse(gateway, alice, web_app):
    client_id, secret = web_app
    meta = metadata(gateway.url("/oauth2/default"))
    client = OAuth2Session(client_id, secret, scope="openid offline_access", redirect_uri=REDIRECT, code_challenge_method="S256")
    browser = requests.Session()

    verifier = secrets.token_urlsafe(48)
    uri, _ = client.create_authorization_url(meta["authorization_endpoint"], nonce="n1", code_verifier=verifier)
    callback = follow_and_sign_in(gateway, browser, uri)
    with pytest.raises(OAuthError) as refused:
        client.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=secrets.token_urlsafe(48))
    assert refused.value.error == "invalid_grant"

    verifier = secrets.token_urlsafe(48)
    uri, _ = client.create_authorization_url(meta["authorization_endpoint"], nonce="n2", code_verifier=verifier)
    callback = follow_and_sign_in(gateway, browser, uri)
    token = client.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    with pytest.raises(OAuthError):  # the code is single-use
        client.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    # The replay revoked the grant, refresh token included.
    with pytest.raises(OAuthError) as revoked:
        client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert revoked.value.error == "invalid_grant"

    bad = OAuth2Session(client_id, "not-the-secret", scope="openid")
    with pytest.raises(OAuthError) as wrong_secret:
        bad.fetch_token(meta["token_endpoint"], grant_type="refresh_token", refresh_token="x")
    assert wrong_secret.value.error == "invalid_client"


def test_service_app_calls_the_management_api(gateway, alice):
    settings = {"grant_types": ["client_credentials"], "response_types": ["token"], "application_type": "service"}
    client_id, secret = make_app(gateway, settings, {"token_endpoint_auth_method": "client_secret_post"})
    r = admin(gateway, "POST", f"/api/v1/apps/{client_id}/grants", {"issuer": gateway.base, "scopeId": "okta.users.read"})
    assert r.status_code == 201, r.text
    meta = metadata(gateway.base)
    service = OAuth2Session(client_id, secret, scope="okta.users.read", token_endpoint_auth_method="client_secret_post")
    service.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    users = service.get(gateway.url("/api/v1/users"))
    assert users.status_code == 200
    assert any(u["profile"]["login"] == ALICE for u in users.json())
    assert service.post(gateway.url("/api/v1/users"), json={"profile": {"login": "x@example.com"}}).status_code == 403
    assert service.get(gateway.url("/api/v1/groups")).status_code == 403
    greedy = OAuth2Session(client_id, secret, scope="okta.users.manage", token_endpoint_auth_method="client_secret_post")
    with pytest.raises(OAuthError) as refused:
        greedy.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    assert refused.value.error == "invalid_scope"


def test_third_party_initiated_login_from_the_dashboard(gateway, alice, web_app):
    client_id, secret = web_app
    browser = requests.Session()
    # Sign in to the gateway first (the dashboard needs a session).
    page = browser.get(gateway.url("/login"), timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    signed_in = browser.post(
        gateway.url("/login"),
        data={"csrf": csrf, "username": ALICE, "password": PASSWORD, "fromURI": "/app/UserHome"},
        headers={"Origin": gateway.base},
        allow_redirects=False,
        timeout=30,
    )
    assert signed_in.status_code in (302, 303), signed_in.text
    launch = browser.get(gateway.url(f"/home/oidc_client/{client_id}/launch"), allow_redirects=False, timeout=30)
    assert launch.status_code == 302
    started = urlparse(launch.headers["Location"])
    params = parse_qs(started.query)
    assert started.path == "/start-login"
    assert params["iss"] == [gateway.base] and params["login_hint"] == [ALICE]
    # The app starts a code flow at that issuer; the person is signed in already.
    meta = metadata(params["iss"][0])
    client = OAuth2Session(client_id, secret, scope="openid email", redirect_uri=REDIRECT, code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    uri, _ = client.create_authorization_url(meta["authorization_endpoint"], nonce="n3", code_verifier=verifier, login_hint=ALICE)
    callback = follow_and_sign_in(gateway, browser, uri)
    token = client.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert validated_id_token(meta, client_id, token, "n3")["sub"] == alice
