// Secure Web Authentication in a real browser: headless Chromium driven by
// playwright-core, against a gateway process this file starts (as
// signin.test.mjs does) and a small app with a real login form that this file
// serves on another loopback port. The app checks the username and password
// Chromium posts to it; the gateway never sees what the app answers.
//
// Every browser request that is not for the gateway or that app is aborted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import {
  api,
  createPerson,
  signIn,
  browserTest,
  freePort,
  gateway,
  ORG,
  setup,
} from './harness.mjs';

setup({ allowedOrigins: () => (wiki ? [wiki.base] : []), beforeStart: async () => { wiki = await startWiki(); }, afterStop: async () => { if (wiki) await new Promise((r) => wiki.server.close(r)); } });

// ---------------------------------------------------------------- the app

let wiki; // { server, base, posts, accounts }

/**
 * A web app with its own sign-in form: GET /login shows it, POST /login
 * checks the username and password against its accounts and answers a
 * welcome page or its own error. Every POST is recorded for the assertions.
 */
async function startWiki() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const posts = [];
  const accounts = new Map();
  const page = (title, body) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
  const escape = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url, base);
    if (url.pathname !== '/login') {
      res.writeHead(404).end('not found');
      return;
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(page('Wiki sign-in', '<form method="post" action="/login"><input name="user"><input name="pass" type="password"><button name="commit" value="go">Log in</button></form>'));
      return;
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      posts.push({ contentType: req.headers['content-type'], query: url.search, fields: Object.fromEntries(form) });
      const user = form.get('user') || '';
      const ok = accounts.has(user) && accounts.get(user) === form.get('pass');
      res.writeHead(ok ? 200 : 401, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(ok ? page('Team Wiki', `<p id="welcome">Welcome, ${escape(user)}</p>`) : page('Wiki sign-in', '<p id="wiki-error">Wrong username or password</p>'));
    });
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { server, base, posts, accounts };
}

/** An SWA app whose login form is the wiki's, assigned to `who`. */
async function wikiApp(who, credentials = {}) {
  const r = await api('POST', '/api/v1/apps', {
    label: 'Team Wiki',
    signOnMode: 'AUTO_LOGIN',
    settings: {
      signOn: { loginUrl: `${wiki.base}/login` },
      app: { usernameField: '#user', passwordField: 'input[name="pass"]', buttonField: 'commit' },
    },
    credentials: { scheme: 'EDIT_USERNAME_AND_PASSWORD', revealPassword: true, ...credentials },
  });
  assert.equal(r.status, 200, `creating the app: ${r.text}`);
  const assigned = await api('POST', `/api/v1/apps/${r.json.id}/users`, { id: who.id, scope: 'USER' });
  assert.equal(assigned.status, 200, assigned.text);
  return r.json;
}

/** Fails on any Content-Security-Policy report in the page's console. */
function watchCsp(page) {
  const violations = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  return violations;
}

// ---------------------------------------------------------------- tests

browserTest('first launch asks for the app sign-in, then the dashboard signs the person in to the real form', async ({ page }) => {
  const csp = watchCsp(page);
  const ada = await createPerson('Ada', 'Lovelace');
  const app = await wikiApp(ada);
  wiki.accounts.set('ada.wiki', 'Wiki-Pass-1 <&>');
  const before = wiki.posts.length;

  await signIn(page, ada);
  await page.goto('/app/UserHome');
  await page.getByRole('link', { name: 'Team Wiki' }).click();
  // Nothing stored yet: the gateway asks, on its own page.
  await page.waitForURL((u) => u.pathname === `/app/UserHome/credentials/${app.id}`);
  await page.getByRole('heading', { name: 'Sign in to Team Wiki' }).waitFor();
  assert.equal(wiki.posts.length, before, 'nothing was posted to the app yet');
  await page.getByLabel('Username for Team Wiki').fill('ada.wiki');
  await page.getByLabel('Password for Team Wiki').fill('Wiki-Pass-1 <&>');
  await page.getByRole('button', { name: 'Sign in' }).click();

  // The browser lands on the app, signed in by the app itself.
  await page.waitForURL(`${wiki.base}/login`);
  assert.equal(await page.locator('#welcome').innerText(), 'Welcome, ada.wiki');
  assert.equal(wiki.posts.length, before + 1);
  const posted = wiki.posts.at(-1);
  assert.deepEqual(posted.fields, { user: 'ada.wiki', pass: 'Wiki-Pass-1 <&>', commit: '' });
  assert.equal(posted.query, '', 'credentials never travel in a URL');
  assert.match(posted.contentType, /^application\/x-www-form-urlencoded/);

  // From now on the dashboard tile goes straight in.
  await page.goto('/app/UserHome');
  await page.getByRole('link', { name: 'Team Wiki' }).click();
  await page.waitForURL(`${wiki.base}/login`);
  assert.equal(await page.locator('#welcome').innerText(), 'Welcome, ada.wiki');
  assert.equal(wiki.posts.length, before + 2);
  assert.deepEqual(csp, [], 'no Content-Security-Policy violations');
});

browserTest('a wrong stored password is what the app sees; the person fixes it and can reveal it', async ({ page }) => {
  const grace = await createPerson('Grace', 'Hopper');
  const app = await wikiApp(grace);
  wiki.accounts.set('grace.wiki', 'Right-Pass-7');
  await signIn(page, grace);
  await page.goto(`/app/UserHome/credentials/${app.id}?launch=1`);
  await page.getByLabel('Username for Team Wiki').fill('grace.wiki');
  await page.getByLabel('Password for Team Wiki').fill('Wrong-Pass-0');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${wiki.base}/login`);
  // The app's own answer, not an error page of the gateway.
  assert.equal(await page.locator('#wiki-error').innerText(), 'Wrong username or password');
  assert.deepEqual(wiki.posts.at(-1).fields, { user: 'grace.wiki', pass: 'Wrong-Pass-0', commit: '' });

  // The person updates the stored password from their app sign-ins page.
  await page.goto('/app/UserHome/credentials');
  await page.getByRole('link', { name: 'Manage sign-in for Team Wiki' }).click();
  assert.equal(await page.getByLabel('Username for Team Wiki').inputValue(), 'grace.wiki');
  await page.getByLabel(/^Password for Team Wiki/).fill('Right-Pass-7');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  await page.goto('/app/UserHome');
  await page.getByRole('link', { name: 'Team Wiki' }).click();
  await page.waitForURL(`${wiki.base}/login`);
  assert.equal(await page.locator('#welcome').innerText(), 'Welcome, grace.wiki');

  // Reveal: only after re-entering the Vestibule password.
  await page.goto(`/app/UserHome/credentials/${app.id}`);
  await page.getByLabel(`Your ${ORG} password`).fill('not-my-password');
  await page.getByRole('button', { name: 'Show password' }).click();
  await page.getByRole('alert').filter({ hasText: 'That is not your password' }).waitFor();
  assert.equal(await page.getByText('Right-Pass-7').count(), 0);
  await page.goto(`/app/UserHome/credentials/${app.id}`);
  await page.getByLabel(`Your ${ORG} password`).fill(grace.password);
  await page.getByRole('button', { name: 'Show password' }).click();
  assert.equal(await page.locator('#revealed-password').innerText(), 'Right-Pass-7');
});

browserTest('with JavaScript off, the visible Continue button sends the sign-in', async ({ page }) => {
  const katherine = await createPerson('Katherine', 'Johnson');
  const app = await wikiApp(katherine);
  wiki.accounts.set('kj.wiki', 'Orbit-Pass-3');
  await signIn(page, katherine);
  await page.goto(`/app/UserHome/credentials/${app.id}?launch=1`);
  await page.getByLabel('Username for Team Wiki').fill('kj.wiki');
  await page.getByLabel('Password for Team Wiki').fill('Orbit-Pass-3');
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The auto-post page stays, with its button.
  const cont = page.getByRole('button', { name: 'Continue' });
  await cont.waitFor();
  await cont.click();
  await page.waitForURL(`${wiki.base}/login`);
  assert.equal(await page.locator('#welcome').innerText(), 'Welcome, kj.wiki');
}, { javaScriptEnabled: false });
