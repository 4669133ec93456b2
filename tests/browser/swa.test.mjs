// Secure Web Authentication in a real browser: headless Chromium driven by
// playwright-core, against a gateway process this file starts (as
// signin.test.mjs does) and a small app with a real login form that this file
// serves on another loopback port. The app checks the username and password
// Chromium posts to it; the gateway never sees what the app answers.
//
// Every browser request that is not for the gateway or that app is aborted.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = resolve(process.env.VESTIBULE_BIN || join(here, '../../target/debug/vestibule'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Set to a folder to keep a screenshot of the dashboard there (never committed).
const SCREENSHOT_DIR = process.env.VESTIBULE_SCREENSHOT_DIR;

const ADMIN = { login: 'admin@example.com', password: 'Correct-Horse-Battery-9' };
const API_TOKEN = '00browsertesttoken0123456789abcdef';
const ORG = 'Initech';
const PERSON_PASSWORD = 'Plum-Orchard-Lantern-42';

const STEP_TIMEOUT = 10_000; // one browser action or HTTP call
const TEST_TIMEOUT = 60_000; // one whole test
const START_TIMEOUT = 30_000; // the gateway answering /healthz

let gateway; // { child, base, dataDir, output }
let browser;
let failed = false;

// ---------------------------------------------------------------- harness

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startGateway() {
  if (!existsSync(BIN)) {
    throw new Error(
      `the gateway binary ${BIN} does not exist: build it with ` +
        '`cargo build -p gateway --bin vestibule` or set VESTIBULE_BIN',
    );
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'vestibule-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME || dataDir,
    RUST_LOG: process.env.RUST_LOG || 'warn',
    NO_COLOR: '1',
    VESTIBULE_LISTEN: `127.0.0.1:${port}`,
    VESTIBULE_PUBLIC_URL: base,
    VESTIBULE_TLS: 'off',
    VESTIBULE_DATA_DIR: dataDir,
    VESTIBULE_BOOTSTRAP_ADMIN_LOGIN: ADMIN.login,
    VESTIBULE_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    VESTIBULE_BOOTSTRAP_API_TOKEN: API_TOKEN,
    VESTIBULE_ORG_NAME: ORG,
  };
  const child = spawn(BIN, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  // Keep the tail of the gateway's output to show when something fails.
  const output = [];
  const keep = (chunk) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  const g = { child, base, dataDir, output, exited: () => exited };

  const deadline = Date.now() + START_TIMEOUT;
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(`the gateway exited during start-up (${JSON.stringify(exited)}):\n${output.join('\n')}`);
    }
    try {
      const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.ok && (await r.text()).trim() === 'ok') return g;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  await stopGateway(g);
  throw new Error(`the gateway did not answer ${base}/healthz within ${START_TIMEOUT} ms:\n${output.join('\n')}`);
}

async function stopGateway(g) {
  if (!g) return;
  if (!g.exited()) {
    const gone = new Promise((r) => g.child.once('exit', r));
    g.child.kill('SIGTERM');
    const timer = setTimeout(() => g.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
  await rm(g.dataDir, { recursive: true, force: true });
}

// If the runner dies without running `after`, take the gateway with it.
process.once('exit', () => {
  if (gateway && !gateway.exited()) gateway.child.kill('SIGKILL');
});

/** Okta-compatible management API, authorised with an SSWS token. */
async function api(method, path, body, token = API_TOKEN) {
  const r = await fetch(gateway.base + path, {
    method,
    headers: {
      Authorization: `SSWS ${token}`,
      Accept: 'application/json',
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(STEP_TIMEOUT),
  });
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON; keep the text for the message below.
  }
  return { status: r.status, json, text };
}

let people = 0;
/** A new active person with a password, made through the API. */
async function createPerson(firstName, lastName) {
  people += 1;
  const login = `${firstName.toLowerCase()}.${people}@example.com`;
  const r = await api('POST', '/api/v1/users?activate=true', {
    profile: { login, email: login, firstName, lastName },
    credentials: { password: { value: PERSON_PASSWORD } },
  });
  assert.equal(r.status, 200, `creating ${login}: ${r.status} ${r.text}`);
  return { id: r.json.id, login, password: PERSON_PASSWORD, name: `${firstName} ${lastName}` };
}

/**
 * A fresh browser context (no cookies) whose pages may only talk to the
 * gateway under test.
 */
async function newPage(options = {}) {
  const context = await browser.newContext({ baseURL: gateway.base, ...options });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  await context.route('**/*', async (route, request) => {
    const origin = new URL(request.url()).origin;
    if (origin !== gateway.base && origin !== wiki.base) return route.abort('blockedbyclient');
    return route.continue();
  });
  const page = await context.newPage();
  return { context, page };
}

async function sidCookie(context) {
  return (await context.cookies(gateway.base)).find((c) => c.name === 'sid');
}

/** Signs in through the form and waits for the page it leads to. */
async function signIn(page, who, fromURI) {
  const url = fromURI === undefined ? '/login' : `/login?fromURI=${encodeURIComponent(fromURI)}`;
  await page.goto(url);
  await page.getByLabel('Username').fill(who.login);
  await page.getByLabel('Password').fill(who.password);
  const response = await loginPost(page, () => page.getByRole('button', { name: 'Sign in' }).click());
  if (response.status() !== 303) {
    const alert = (await page.locator('[role=alert]').allInnerTexts()).join(' ');
    assert.fail(`signing in as ${who.login}: POST /login answered ${response.status()} "${alert}"`);
  }
  await page.waitForURL((u) => u.pathname !== '/login');
}

/** The POST /login response produced by `action`. */
function loginPost(page, action) {
  return Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/login' && r.request().method() === 'POST'),
    action(),
  ]).then(([response]) => response);
}

/** Runs a test body with its own browser context, closed however it ends. */
function browserTest(name, body, options = {}) {
  test(name, { timeout: TEST_TIMEOUT }, async (t) => {
    const { context, page } = await newPage(options);
    try {
      await body({ t, context, page });
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      await context.close();
    }
  });
}

before(async () => {
  wiki = await startWiki();
  gateway = await startGateway();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: START_TIMEOUT,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, { timeout: 2 * START_TIMEOUT });

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (failed && gateway) {
    process.stderr.write(`--- last lines of the gateway's output ---\n${gateway.output.slice(-40).join('\n')}\n`);
  }
  await stopGateway(gateway);
  if (wiki) await new Promise((r) => wiki.server.close(r));
}, { timeout: 20_000 });

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
