// Vestibule's sign-in pages in a real browser: headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core, against a gateway process
// this file starts on a free loopback port with its own data directory.
//
// Every browser request that is not for that gateway is aborted, so a test
// that follows a bad redirect fails here instead of reaching the network.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  api,
  createPerson,
  sidCookie,
  loginPost,
  signIn,
  browserTest,
  screenshot,
  gateway,
  ADMIN,
  ORG,
  STEP_TIMEOUT,
  SCREENSHOT_DIR,
  setup,
} from './harness.mjs';

setup();

// ---------------------------------------------------------------- tests

// The browser's own form POST, exactly as Chromium sends it: the pages'
// Referrer-Policy decides whether the Origin header is the real origin or
// "null" (no-referrer gives "null", which the gateway's origin check refuses).
browserTest("the browser's own form POST is accepted (no Origin rewriting)", async ({ context, page }) => {
  const mary = await createPerson('Mary', 'Jackson');
  const form = await page.goto('/login');
  await page.getByLabel('Username').fill(mary.login);
  await page.getByLabel('Password').fill(mary.password);
  const response = await loginPost(page, () => page.getByRole('button', { name: 'Sign in' }).click());
  assert.equal(
    response.status(),
    303,
    `the sign-in page was served with Referrer-Policy: ${form.headers()['referrer-policy']}, so ` +
      `Chromium posted the form with Origin: ${await response.request().headerValue('origin')}, ` +
      `and the gateway answered ${response.status()}: ` +
      `"${(await page.locator('[role=alert]').allInnerTexts()).join(' ')}"`,
  );
  await page.waitForURL('**/app/UserHome');
  assert.ok(await sidCookie(context));
});

browserTest('a person sent to sign in uses only the keyboard and comes back to the dashboard', async ({ t, context, page }) => {
  const ada = await createPerson('Ada', 'Lovelace');

  await page.goto('/app/UserHome');
  const url = new URL(page.url());
  assert.equal(url.pathname, '/login');
  assert.equal(url.searchParams.get('fromURI'), '/app/UserHome');
  await assert.doesNotReject(page.getByText(ORG, { exact: true }).waitFor(), 'the org name is shown');

  // The username field has autofocus; Tab moves on, Enter submits.
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'username');
  await page.keyboard.type(ada.login);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
  await page.keyboard.type(ada.password);
  const response = await loginPost(page, () => page.keyboard.press('Enter'));
  assert.equal(response.status(), 303);
  assert.equal(await response.headerValue('location'), '/app/UserHome');

  await page.waitForURL('**/app/UserHome');
  await page.getByRole('heading', { name: 'My Apps', level: 1 }).waitFor();
  await page.getByRole('region', { name: `Apps managed by ${ORG}` }).waitFor();
  const account = page.getByRole('navigation', { name: 'Account' });
  assert.match(await account.innerText(), new RegExp(`Signed in as\\s+${ada.name}`));
  // Not an administrator: no way into the Admin Console.
  assert.equal(await page.getByRole('link', { name: 'Admin Console' }).count(), 0);

  const sid = await sidCookie(context);
  assert.ok(sid, 'a sid cookie is set');
  assert.equal(sid.httpOnly, true, 'the sid cookie is HttpOnly');
  assert.equal(await page.evaluate(() => document.cookie.includes('sid=')), false, 'scripts cannot read sid');

  if (SCREENSHOT_DIR) {
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const file = join(SCREENSHOT_DIR, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    t.diagnostic(`dashboard screenshot: ${file}`);
  }
});

browserTest('a wrong password shows the alert, keeps the username and starts no session', async ({ context, page }) => {
  const grace = await createPerson('Grace', 'Hopper');

  await page.goto('/login');
  await page.getByLabel('Username').fill(grace.login);
  await page.getByLabel('Password').fill('Not-The-Right-One-77');
  const response = await loginPost(page, () => page.getByRole('button', { name: 'Sign in' }).click());
  assert.equal(response.status(), 401);

  const alert = page.getByRole('alert');
  assert.match(await alert.innerText(), /^Unable to sign in/);
  assert.equal(await page.getByLabel('Username').inputValue(), grace.login);
  assert.equal(await page.getByLabel('Password').inputValue(), '', 'the password is not sent back');
  assert.equal(await sidCookie(context), undefined, 'no session cookie');

  // And the server agrees: the dashboard still asks for a sign-in.
  await page.goto('/app/UserHome');
  assert.equal(new URL(page.url()).pathname, '/login');
});

browserTest('the sign-in page is labelled, announces errors and shows keyboard focus', async ({ page }) => {
  const response = await page.goto('/login');
  const csp = response.headers()['content-security-policy'] || '';
  assert.match(csp, /frame-ancestors 'none'/, `CSP: ${csp}`);
  assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/, `CSP: ${csp}`);

  assert.ok((await page.getAttribute('html', 'lang'))?.trim(), 'html has a lang');
  assert.equal(await page.getByLabel('Username').getAttribute('id'), 'username');
  assert.equal(await page.getByLabel('Password').getAttribute('id'), 'password');
  // Every visible form control has a label a screen reader will read.
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden')
      .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
      .map((el) => el.outerHTML),
  );
  assert.deepEqual(unlabelled, []);

  // Focus order by keyboard, each stop visibly marked (a real outline): the
  // username field has autofocus, Tab walks forward, Shift+Tab walks back.
  const focused = () =>
    page.evaluate(() => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      return {
        what: el.id || `${el.tagName.toLowerCase()}:${el.textContent.trim()}`,
        focusVisible: el.matches(':focus-visible'),
        outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
      };
    });
  const stops = [await focused()];
  for (const key of ['Tab', 'Tab', 'Shift+Tab', 'Shift+Tab']) {
    await page.keyboard.press(key);
    stops.push(await focused());
  }
  const stop = (what) => ({ what, focusVisible: true, outline: true });
  assert.deepEqual(stops, [
    stop('username'),
    stop('password'),
    stop('button:Sign in'),
    stop('password'),
    stop('username'),
  ]);

  // An error is announced (role=alert) and tied to the field it is about.
  await page.getByLabel('Username').fill('nobody@example.com');
  await page.getByLabel('Password').fill('Not-The-Right-One-77');
  const refused = await loginPost(page, () => page.getByRole('button', { name: 'Sign in' }).click());
  assert.equal(refused.status(), 401);
  const alert = page.getByRole('alert');
  assert.equal(await alert.count(), 1);
  assert.match(await alert.innerText(), /^Unable to sign in/);
  const alertId = await alert.getAttribute('id');
  assert.ok(alertId, 'the alert has an id');
  assert.equal(await page.getByLabel('Username').getAttribute('aria-describedby'), alertId);
});

browserTest('signing out ends the session on the server', async ({ context, page }) => {
  const alan = await createPerson('Alan', 'Turing');
  await signIn(page, alan);
  assert.equal(new URL(page.url()).pathname, '/app/UserHome');
  const before = await sidCookie(context);
  assert.ok(before, 'signed in');

  await Promise.all([page.waitForURL('**/login'), page.getByRole('button', { name: 'Sign out' }).click()]);
  assert.equal(await sidCookie(context), undefined, 'the cookie is cleared');

  await page.goto('/app/UserHome');
  assert.equal(new URL(page.url()).pathname, '/login');

  // The old cookie value is dead too, not merely forgotten by the browser.
  const r = await fetch(`${gateway.base}/app/UserHome`, {
    headers: { Cookie: `sid=${before.value}` },
    redirect: 'manual',
    signal: AbortSignal.timeout(STEP_TIMEOUT),
  });
  assert.ok(r.status >= 300 && r.status < 400, `status ${r.status}`);
  assert.match(r.headers.get('location') || '', /^\/login\?fromURI=/);
});

browserTest('an admin creates an API token in the Admin Console, uses it, and revokes it', async ({ page }) => {
  await signIn(page, ADMIN);
  await page.getByRole('link', { name: 'Admin Console' }).click();
  await page.waitForURL('**/admin');
  await page.getByRole('link', { name: 'API Tokens' }).click();
  await page.waitForURL('**/admin/tokens');

  const name = `browser-test-${Date.now()}`;
  await page.getByLabel('Token name').fill(name);
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.getByRole('status').filter({ hasText: `Token “${name}” created` }).waitFor();
  const token = await page.locator('#token-value').inputValue();
  assert.ok(token.length >= 20, 'a token value is shown');
  assert.equal(await page.getByLabel('Token value').inputValue(), token);

  const listed = await api('GET', '/api/v1/users', null, token);
  assert.equal(listed.status, 200, listed.text);
  assert.ok(listed.json.some((u) => u.profile.login === ADMIN.login), 'the admin is listed');

  await Promise.all([
    page.waitForURL('**/admin/tokens'),
    page.getByRole('button', { name: `Revoke token ${name}` }).click(),
  ]);
  assert.equal(await page.getByRole('button', { name: `Revoke token ${name}` }).count(), 0, 'the token is gone from the list');
  assert.equal(await page.locator('#token-value').count(), 0, 'the value is not shown again');

  const refused = await api('GET', '/api/v1/users', null, token);
  assert.equal(refused.status, 401, `a revoked token is refused: ${refused.text}`);
});

browserTest('a password reset link sets a new password that signs in', async ({ context, page }) => {
  const edsger = await createPerson('Edsger', 'Dijkstra');
  const reset = await api('POST', `/api/v1/users/${edsger.id}/lifecycle/reset_password?sendEmail=false`);
  assert.equal(reset.status, 200, reset.text);
  const link = reset.json.resetPasswordUrl;
  assert.ok(link.startsWith(`${gateway.base}/signin/reset-password/`), link);

  await page.goto(link);
  await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
  const fresh = 'Quartz-Meadow-Violin-58';
  await page.getByLabel('New password', { exact: true }).fill(fresh);
  await page.getByLabel('Repeat new password').fill('Quartz-Meadow-Violin-59');
  await page.getByRole('button', { name: 'Set password' }).click();
  assert.match(await page.getByRole('alert').innerText(), /do not match/);
  assert.equal(new URL(page.url()).pathname, new URL(link).pathname, 'still on the reset page');

  await page.getByLabel('New password', { exact: true }).fill(fresh);
  await page.getByLabel('Repeat new password').fill(fresh);
  await Promise.all([page.waitForURL('**/login'), page.getByRole('button', { name: 'Set password' }).click()]);

  await signIn(page, { ...edsger, password: fresh });
  assert.equal(new URL(page.url()).pathname, '/app/UserHome');
  assert.match(await page.getByRole('navigation', { name: 'Account' }).innerText(), /Edsger Dijkstra/);
  assert.ok(await sidCookie(context));

  // The link was spent.
  const again = await page.goto(link);
  assert.equal(again.status(), 404);
  await page.getByRole('heading', { name: 'Link expired' }).waitFor();
});

browserTest('a fromURI on another site is ignored after sign-in', async ({ page }) => {
  const barbara = await createPerson('Barbara', 'Liskov');
  await page.goto(`/login?fromURI=${encodeURIComponent('https://evil.example/')}`);
  assert.equal(await page.locator('input[name=fromURI]').inputValue(), '/app/UserHome');
  await page.getByLabel('Username').fill(barbara.login);
  await page.getByLabel('Password').fill(barbara.password);
  const response = await loginPost(page, () => page.getByRole('button', { name: 'Sign in' }).click());
  assert.equal(await response.headerValue('location'), '/app/UserHome');
  await page.waitForURL('**/app/UserHome');
  assert.equal(new URL(page.url()).origin, gateway.base);

  // Scheme-relative and backslash forms of the same trick.
  for (const from of ['//evil.example/', '/\\evil.example/']) {
    const r = await page.goto(`/login?fromURI=${encodeURIComponent(from)}`);
    assert.equal(new URL(page.url()).origin, gateway.base, `fromURI=${from} (status ${r.status()})`);
    assert.equal(new URL(page.url()).pathname, '/app/UserHome', `fromURI=${from}`);
  }
});

browserTest('deactivating a person ends their session at the next page', async ({ page }) => {
  const ken = await createPerson('Ken', 'Thompson');
  await signIn(page, ken);
  assert.equal(new URL(page.url()).pathname, '/app/UserHome');

  const r = await api('POST', `/api/v1/users/${ken.id}/lifecycle/deactivate`);
  assert.equal(r.status, 200, r.text);

  await page.goto('/app/UserHome');
  assert.equal(new URL(page.url()).pathname, '/login');
  // And they cannot sign in again.
  await page.getByLabel('Username').fill(ken.login);
  await page.getByLabel('Password').fill(ken.password);
  const response = await loginPost(page, () => page.getByRole('button', { name: 'Sign in' }).click());
  assert.equal(response.status(), 401);
  await page.getByRole('alert').waitFor();
});
