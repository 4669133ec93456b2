// The Admin Console's authorization-server pages and the OpenID Connect
// pages of Create App Integration in a real browser: headless Chromium
// (Debian's /usr/bin/chromium) driven by playwright-core, against a gateway
// process the shared harness (harness.mjs) starts on a free loopback port
// with its own data directory.
//
// The story: an admin makes an authorization server, a scope, an access
// policy with a rule, and an API Service integration through the wizard;
// the app then gets a token from that server with client credentials (from
// node, as a service would), and the token verifies with the server's
// published keys. That proves the pages made a working configuration.
//
// Every browser request that is not for that gateway is aborted, and every
// Content-Security-Policy violation or script error fails the test.

import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { api, browserTest, gateway, screenshot, setup, signIn, unlabelledControls, ADMIN, STEP_TIMEOUT } from './harness.mjs';

setup({ testTimeout: 90_000, failOnPageProblems: true });

// ---------------------------------------------------------------- tests

/** The JSON of a JWT's part (0: header, 1: payload). */
function jwtPart(jwt, i) {
  return JSON.parse(Buffer.from(jwt.split('.')[i], 'base64url').toString('utf8'));
}

/** A token request with client credentials, as a service sends it. */
async function clientCredentials(tokenEndpoint, clientId, secret, scope) {
  const r = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
    signal: AbortSignal.timeout(STEP_TIMEOUT),
  });
  return { status: r.status, json: await r.json().catch(() => null) };
}

browserTest('an admin makes a server, a scope, a policy with a rule and a service app; the app gets a token from that server', async ({ t, page }) => {
  await signIn(page, ADMIN, '/admin/authorization-servers');
  await page.getByRole('heading', { name: 'Authorization Servers', level: 1 }).waitFor();
  assert.equal(await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Authorization Servers' }).getAttribute('aria-current'), 'page');

  // Add Authorization Server: an empty form is explained by its fields first.
  await page.getByRole('link', { name: 'Add Authorization Server' }).click();
  await page.getByRole('heading', { name: 'Add Authorization Server', level: 1 }).waitFor();
  assert.deepEqual(await unlabelledControls(page), []);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('alert').getByRole('link', { name: 'Name' }).waitFor();
  assert.equal(await page.getByRole('textbox', { name: /^Name/ }).getAttribute('aria-invalid'), 'true');
  await page.getByRole('textbox', { name: /^Name/ }).fill('Reports API');
  await page.getByLabel('Audience').fill('api://reports');
  await page.getByLabel('Description').fill('Tokens for the reports service');
  await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'created'), page.getByRole('button', { name: 'Save' }).click()]);
  const serverId = new URL(page.url()).pathname.split('/').pop();
  const issuer = `${gateway.base}/oauth2/${serverId}`;
  await page.getByRole('status').filter({ hasText: 'Authorization server added' }).waitFor();
  await page.getByRole('link', { name: `${issuer}/.well-known/openid-configuration` }).waitFor();

  // Scopes: add the one the reports service checks.
  await page.getByRole('navigation', { name: 'Authorization server settings' }).getByRole('link', { name: 'Scopes' }).click();
  assert.equal(await page.getByRole('link', { name: 'Scopes', exact: true }).getAttribute('aria-current'), 'page');
  assert.deepEqual(await unlabelledControls(page), []);
  await page.getByLabel('Scope name').fill('reports.read');
  await page.getByLabel('Description').fill('Read reports');
  await page.getByLabel(/public metadata/).check();
  await page.getByRole('button', { name: 'Add scope' }).click();
  await page.getByRole('table', { name: 'Scopes of Reports API' }).getByRole('row', { name: /reports\.read/ }).waitFor();
  await screenshot(t, page, 'authz-scopes.png');

  // A service app through Create App Integration, with an Okta API scope.
  await page.goto('/admin/apps/new');
  await page.getByLabel('OpenID Connect').check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: 'New OpenID Connect integration' }).waitFor();
  assert.deepEqual(await unlabelledControls(page), []);
  await page.getByLabel('App name').fill('Reports exporter');
  await page.getByLabel(/Service \(machine to machine/).check();
  await page.getByLabel('Authorization code', { exact: true }).uncheck();
  await page.getByLabel('Client credentials (service apps)').check();
  await page.getByLabel('okta.users.read').check();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name: 'Reports exporter was created' }).waitFor();
  const secret = await page.getByRole('textbox', { name: 'Client secret' }).inputValue();
  assert.ok(secret.length >= 40, 'the secret is shown');
  assert.match(await page.getByRole('status').innerText(), /not shown again/);
  const clientId = (await page.locator('dl.settings dd code').first().innerText()).trim();
  assert.match(clientId, /^0oa/);
  const app = await api('GET', `/api/v1/apps/${clientId}`);
  assert.equal(app.status, 200, app.text);
  assert.ok(!app.text.includes(secret), 'the API never shows the secret again');
  await screenshot(t, page, 'oidc-created.png');

  // Without a policy the new server issues nothing.
  const tokenEndpoint = `${issuer}/v1/token`;
  const before = await clientCredentials(tokenEndpoint, clientId, secret, 'reports.read');
  assert.notEqual(before.status, 200, 'no policy, no token');

  // Access Policies: a policy for the exporter, with a rule for client credentials and reports.read.
  await page.goto(`/admin/authorization-servers/${serverId}?tab=policies`);
  assert.deepEqual(await unlabelledControls(page), []);
  await page.getByRole('textbox', { name: /^Name/ }).fill('Exporters');
  await page.getByLabel('All clients').uncheck();
  await page.getByLabel(/Reports exporter/).check();
  await page.getByRole('button', { name: 'Add policy' }).click();
  await page.getByRole('heading', { name: 'Policy Exporters', level: 1 }).waitFor();
  assert.deepEqual(await unlabelledControls(page), []);
  await page.getByRole('link', { name: 'Add rule' }).click();
  await page.getByRole('heading', { name: 'Add rule to Exporters', level: 1 }).waitFor();
  await page.getByLabel('Rule name').fill('Read reports');
  await page.getByLabel('Authorization code (and refresh tokens)').uncheck();
  await page.getByLabel('Any scope').uncheck();
  await page.locator('#f-conditions-scopes-include').getByLabel('reports.read').check();
  await page.getByLabel('Access token lifetime (minutes)').fill('30');
  assert.deepEqual(await unlabelledControls(page), []);
  await page.getByRole('button', { name: 'Add rule' }).click();
  await page.getByRole('status').filter({ hasText: 'Rule added.' }).waitFor();
  await page.getByRole('table', { name: 'Rules of Exporters' }).getByRole('row', { name: /Read reports/ }).waitFor();
  await screenshot(t, page, 'authz-policy.png');

  // The configuration works: a token from that server, for its audience,
  // with the scope, signed by a key the server publishes.
  const got = await clientCredentials(tokenEndpoint, clientId, secret, 'reports.read');
  assert.equal(got.status, 200, JSON.stringify(got.json));
  assert.equal(got.json.token_type, 'Bearer');
  assert.equal(got.json.expires_in, 1800, 'the rule’s lifetime');
  const claims = jwtPart(got.json.access_token, 1);
  assert.equal(claims.iss, issuer);
  assert.equal(claims.aud, 'api://reports');
  assert.equal(claims.cid, clientId);
  assert.deepEqual(claims.scp, ['reports.read']);
  const header = jwtPart(got.json.access_token, 0);
  const jwks = await (await fetch(`${issuer}/v1/keys`)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, 'the signing key is published');
  const [h, p, s] = got.json.access_token.split('.');
  const verified = verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'));
  assert.equal(header.alg, 'RS256');
  assert.ok(verified, 'the signature verifies with the published key');
  const wrong = await clientCredentials(tokenEndpoint, clientId, secret, 'openid');
  assert.notEqual(wrong.status, 200, 'a scope the rule does not allow is refused');

  // And the Okta API scope granted in the wizard opens the management API.
  const org = await clientCredentials(`${gateway.base}/oauth2/v1/token`, clientId, secret, 'okta.users.read');
  assert.equal(org.status, 200, JSON.stringify(org.json));
  const users = await fetch(`${gateway.base}/api/v1/users`, { headers: { Authorization: `Bearer ${org.json.access_token}` } });
  assert.equal(users.status, 200);

  // Keys: listed by kid; rotating before the next key has been published
  // for the overlap is refused, explained at the top of the tab.
  await page.goto(`/admin/authorization-servers/${serverId}?tab=keys`);
  const keys = page.getByRole('table', { name: 'Signing keys of Reports API' });
  assert.match(await keys.innerText(), new RegExp(header.kid));
  await page.getByRole('button', { name: 'Rotate keys' }).click();
  await page.getByRole('alert').getByRole('link', { name: 'Rotate keys' }).waitFor();
  assert.match(await page.getByRole('alert').innerText(), /not been published long enough/);
});

browserTest('the Edit OIDC settings page saves through the API and a new client secret is shown once', async ({ page }) => {
  const made = await api('POST', '/api/v1/apps', {
    name: 'oidc_client',
    label: 'Wiki',
    signOnMode: 'OPENID_CONNECT',
    settings: { oauthClient: { application_type: 'web', grant_types: ['authorization_code'], redirect_uris: ['https://wiki.example.com/cb'] } },
  });
  assert.equal(made.status, 200, made.text);
  const id = made.json.id;
  const first = made.json.credentials.oauthClient.client_secret;

  await signIn(page, ADMIN, `/admin/apps/${id}?tab=signon`);
  await page.getByRole('link', { name: 'Edit OIDC settings' }).click();
  await page.getByRole('heading', { name: 'OIDC settings of Wiki', level: 1 }).waitFor();
  assert.deepEqual(await unlabelledControls(page), []);
  assert.equal(await page.getByLabel('Sign-in redirect URIs').inputValue(), 'https://wiki.example.com/cb');

  // "Either" without an initiate login URI is refused by that field.
  await page.getByLabel(/Either Vestibule or the app/).check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('alert').getByRole('link', { name: 'Initiate login URI' }).waitFor();
  assert.equal(await page.getByRole('textbox', { name: 'Initiate login URI' }).getAttribute('aria-invalid'), 'true');
  await page.getByRole('textbox', { name: 'Initiate login URI' }).fill('https://wiki.example.com/login/start');
  await page.getByLabel('Sign-out redirect URIs').fill('https://wiki.example.com/bye');
  await page.getByLabel('ID token signing algorithm').selectOption('ES256');
  await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'saved'), page.getByRole('button', { name: 'Save' }).click()]);
  const saved = await api('GET', `/api/v1/apps/${id}`);
  assert.equal(saved.json.settings.oauthClient.initiate_login_uri, 'https://wiki.example.com/login/start');
  assert.deepEqual(saved.json.settings.oauthClient.idp_initiated_login, { mode: 'SPEC', default_scope: [] });
  assert.deepEqual(saved.json.settings.oauthClient.post_logout_redirect_uris, ['https://wiki.example.com/bye']);
  assert.equal(saved.json.settings.oauthClient.id_token_signed_response_alg, 'ES256');

  // A new secret, shown on this page once; the first one stops working.
  await page.goto(`/admin/apps/${id}/oidc`);
  await page.getByRole('button', { name: 'Generate new client secret' }).click();
  const second = await page.getByRole('textbox', { name: 'Client secret' }).inputValue();
  assert.ok(second.length >= 40 && second !== first);
  await page.goto(`/admin/apps/${id}/oidc`);
  assert.equal(await page.getByRole('textbox', { name: 'Client secret' }).count(), 0, 'shown once');
  const token = `${gateway.base}/oauth2/v1/token`;
  assert.equal((await clientCredentials(token, id, first, 'openid')).status, 401, 'the first secret no longer works');
});
