// The OpenID Connect sign-in a person sees, in a real browser: headless
// Chromium driven by playwright-core against a gateway the shared harness
// (harness.mjs) starts, and a relying party that is a tiny HTTP server on
// loopback this file starts, recording where the browser lands.
//
// The story: an app that requires consent sends the person to sign in with
// a login_hint; the sign-in page offers the hinted username and puts the
// cursor in the password field; after signing in the person is asked, on an
// accessible page, to allow the app the scopes it asks for; allowing sends
// them back with a code and their state; the next sign-in does not ask
// again; a request that says prompt=consent asks, and declining it sends
// the app access_denied.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { api, browserTest, createPerson, gateway, screenshot, setup, unlabelledControls, STEP_TIMEOUT } from './harness.mjs';

let rp; // { server, origin }

setup({
  testTimeout: 60_000,
  failOnPageProblems: true,
  allowedOrigins: () => [rp.origin],
  beforeStart: async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Relying party</title><h1>Back at the app</h1>');
    });
    await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
    rp = { server, origin: `http://127.0.0.1:${server.address().port}` };
  },
  afterStop: async () => {
    await new Promise((ok) => rp.server.close(ok));
  },
});

/** An authorization request URL with PKCE and a fresh state. */
function authorizeUrl(clientId, scope, extra = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(12).toString('base64url');
  const params = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    scope,
    redirect_uri: `${rp.origin}/callback`,
    state,
    nonce: randomBytes(12).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  });
  return { url: `${gateway.base}/oauth2/default/v1/authorize?${params}`, state };
}

const atApp = (u) => u.origin === rp.origin && u.pathname === '/callback';

browserTest('an app that needs consent: hinted sign-in, the question once, and a refusal the app hears of', async ({ t, page }) => {
  const person = await createPerson('Grace', 'Hopper');
  const made = await api('POST', '/api/v1/apps', {
    name: 'oidc_client',
    label: 'Team Wiki',
    signOnMode: 'OPENID_CONNECT',
    settings: {
      oauthClient: {
        application_type: 'web',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [`${rp.origin}/callback`],
        consent_method: 'REQUIRED',
      },
    },
  });
  assert.equal(made.status, 200, made.text);
  const clientId = made.json.id;
  const assigned = await api('POST', `/api/v1/apps/${clientId}/users`, { id: person.id });
  assert.equal(assigned.status, 200, assigned.text);

  // The sign-in page offers the hinted login and waits for the password.
  const first = authorizeUrl(clientId, 'openid email', { login_hint: person.login });
  await page.goto(first.url);
  await page.waitForURL((u) => u.pathname === '/login');
  assert.equal(await page.getByLabel('Username').inputValue(), person.login);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'password', 'the cursor is in the password field');
  await page.keyboard.type(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  // The consent page: what is asked, in words and controls a screen reader reads.
  await page.getByRole('heading', { name: 'Allow Team Wiki to access your account?', level: 1 }).waitFor({ timeout: STEP_TIMEOUT });
  const asked = (await page.getByRole('list', { name: 'Team Wiki asks to:' }).getByRole('listitem').allInnerTexts()).map((s) => s.trim());
  assert.deepEqual(asked, ['Sign you in with your account (openid)', 'See your email address (email)']);
  assert.deepEqual(await unlabelledControls(page), []);
  await page.getByRole('button', { name: "Don't allow" }).waitFor();
  await screenshot(t, page, 'oidc-consent.png');
  await Promise.all([page.waitForURL(atApp), page.getByRole('button', { name: 'Allow', exact: true }).click()]);
  let back = new URL(page.url());
  assert.ok(back.searchParams.get('code'), `a code: ${back}`);
  assert.equal(back.searchParams.get('state'), first.state);
  assert.equal(back.searchParams.get('iss'), `${gateway.base}/oauth2/default`, 'RFC 9207 iss');

  // Remembered: the same scopes again go straight back to the app.
  const second = authorizeUrl(clientId, 'openid email');
  await page.goto(second.url);
  await page.waitForURL(atApp);
  back = new URL(page.url());
  assert.ok(back.searchParams.get('code'), `no question the second time: ${back}`);
  assert.equal(back.searchParams.get('state'), second.state);

  // prompt=consent asks anyway; declining reaches the app as access_denied.
  const third = authorizeUrl(clientId, 'openid email', { prompt: 'consent' });
  await page.goto(third.url);
  await page.getByRole('heading', { name: 'Allow Team Wiki to access your account?' }).waitFor();
  await Promise.all([page.waitForURL(atApp), page.getByRole('button', { name: "Don't allow" }).click()]);
  back = new URL(page.url());
  assert.equal(back.searchParams.get('error'), 'access_denied');
  assert.equal(back.searchParams.get('state'), third.state);
  assert.equal(back.searchParams.get('code'), null);

  // The consent is the person's, listed by the user grants API.
  const grants = await api('GET', `/api/v1/users/${person.id}/grants`);
  assert.equal(grants.status, 200, grants.text);
  assert.deepEqual(grants.json.map((g) => g.scopeId).sort(), ['email', 'openid']);
});

browserTest('signing in for an app sends the browser on to the app (the page lets its form lead there)', async ({ page }) => {
  const person = await createPerson('Alan', 'Turing');
  const made = await api('POST', '/api/v1/apps', {
    name: 'oidc_client',
    label: 'Notebook',
    signOnMode: 'OPENID_CONNECT',
    settings: {
      oauthClient: { application_type: 'web', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [`${rp.origin}/callback`] },
    },
  });
  assert.equal(made.status, 200, made.text);
  assert.equal((await api('POST', `/api/v1/apps/${made.json.id}/users`, { id: person.id })).status, 200);
  const started = authorizeUrl(made.json.id, 'openid');
  const login = await page.goto(started.url);
  assert.match(login.headers()['content-security-policy'], new RegExp(`form-action 'self' ${rp.origin};`));
  // A wrong password first: the page that answers keeps the same policy.
  await page.getByLabel('Username').fill(person.login);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Unable to sign in' }).waitFor();
  await page.getByLabel('Password').fill(person.password);
  await Promise.all([page.waitForURL(atApp), page.getByRole('button', { name: 'Sign in' }).click()]);
  const back = new URL(page.url());
  assert.ok(back.searchParams.get('code'));
  assert.equal(back.searchParams.get('state'), started.state);
  // The sign-in page on its own keeps the strict policy.
  const plain = await page.request.get(`${gateway.base}/login`);
  assert.match(plain.headers()['content-security-policy'], /form-action 'self';/);
});
