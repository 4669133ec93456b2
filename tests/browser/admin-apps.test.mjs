// The Admin Console's application pages in a real browser: headless Chromium
// (Debian's /usr/bin/chromium) driven by playwright-core, against a gateway
// process this file starts on a free loopback port with its own data
// directory. The harness is the one signin.test.mjs uses.
//
// The main story is the issue's: an admin finds an app in the catalog by
// typing part of its name, adds it, assigns a person; that person signs in
// and sees the tile.
//
// Every browser request that is not for that gateway is aborted, and every
// Content-Security-Policy violation or script error fails the test.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = resolve(process.env.VESTIBULE_BIN || join(here, '../../target/debug/vestibule'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Set to a folder to keep screenshots of the catalog and the app page there (never committed).
const SCREENSHOT_DIR = process.env.VESTIBULE_SCREENSHOT_DIR;

const ADMIN = { login: 'admin@example.com', password: 'Correct-Horse-Battery-9' };
const API_TOKEN = '00browserappstoken0123456789abcdef';
const ORG = 'Initech';
const PERSON_PASSWORD = 'Plum-Orchard-Lantern-42';

const STEP_TIMEOUT = 10_000; // one browser action or HTTP call
const TEST_TIMEOUT = 90_000; // one whole test
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
  const dataDir = await mkdtemp(join(tmpdir(), 'vestibule-browser-apps-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME || dataDir,
    RUST_LOG: process.env.RUST_LOG || 'warn',
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

process.once('exit', () => {
  if (gateway && !gateway.exited()) gateway.child.kill('SIGKILL');
});

/** Okta-compatible management API, authorised with an SSWS token. */
async function api(method, path, body) {
  const r = await fetch(gateway.base + path, {
    method,
    headers: {
      Authorization: `SSWS ${API_TOKEN}`,
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
    // Not JSON; keep the text.
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
 * gateway under test. Script errors and CSP violations are collected in
 * `problems`.
 */
async function newPage() {
  const context = await browser.newContext({ baseURL: gateway.base });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  await context.route(
    (url) => url.origin !== gateway.base,
    (route) => route.abort('blockedbyclient'),
  );
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  // Pages answered 4xx on purpose (a form with errors) log "Failed to load
  // resource"; what must never appear is a blocked script or style.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return { context, page, problems };
}

async function signIn(page, who, fromURI) {
  const url = fromURI === undefined ? '/login' : `/login?fromURI=${encodeURIComponent(fromURI)}`;
  await page.goto(url);
  await page.getByLabel('Username').fill(who.login);
  await page.getByLabel('Password').fill(who.password);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
}

async function screenshot(t, page, name) {
  if (!SCREENSHOT_DIR) return;
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, name);
  await page.screenshot({ path: file, fullPage: true });
  t.diagnostic(`screenshot: ${file}`);
}

/** Every visible form control has a label a screen reader will read. */
async function unlabelledControls(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden')
      .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
      .map((el) => el.outerHTML),
  );
}

function browserTest(name, body) {
  test(name, { timeout: TEST_TIMEOUT }, async (t) => {
    const { context, page, problems } = await newPage();
    try {
      await body({ t, context, page });
      assert.deepEqual(problems, [], 'no script errors or CSP violations');
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      await context.close();
    }
  });
}

before(async () => {
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
}, { timeout: 20_000 });

// ---------------------------------------------------------------- tests

browserTest('an admin finds an app in the catalog by typing, adds it, assigns a person, who then sees its tile', async ({ t, page }) => {
  const ada = await createPerson('Ada', 'Lovelace');

  await signIn(page, ADMIN, '/admin/apps/catalog');
  assert.equal(new URL(page.url()).pathname, '/admin/apps/catalog');
  await page.getByRole('heading', { name: 'Browse App Catalog', level: 1 }).waitFor();
  assert.deepEqual(await unlabelledControls(page), []);

  // Typing part of the name suggests the app; the keyboard moves into the suggestions.
  const search = page.getByRole('combobox', { name: 'Search the catalog' });
  await search.click();
  await page.keyboard.type('slac', { delay: 40 });
  const suggestions = page.locator('#catalog-suggestions');
  const slack = suggestions.getByRole('link', { name: 'Slack', exact: true });
  await slack.waitFor();
  assert.equal(await search.getAttribute('aria-expanded'), 'true');
  await suggestions.getByRole('link', { name: 'See all results for “slac”' }).waitFor();
  assert.match(await page.locator('#catalog-suggestions-status').innerText(), /suggestion/);
  await screenshot(t, page, 'catalog-suggestions.png');

  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Slack', 'Down focuses the first suggestion');
  await Promise.all([page.waitForURL('**/admin/apps/catalog/slack'), page.keyboard.press('Enter')]);

  // The entry's details.
  await page.getByRole('heading', { name: 'Slack', level: 1 }).waitFor();
  await page.getByRole('heading', { name: 'Supported protocols' }).waitFor();
  await page.getByRole('heading', { name: 'Capabilities' }).waitFor();
  assert.match(await page.locator('main').innerText(), /Subdomain/);
  await page.getByRole('link', { name: 'Add integration' }).click();

  // General Settings: a wrong value is explained next to its field.
  await page.getByRole('heading', { name: 'General Settings' }).waitFor();
  assert.equal(await page.getByLabel('Application label').inputValue(), 'Slack');
  await page.getByLabel('Subdomain').fill('not a subdomain!');
  await page.getByRole('button', { name: 'Next' }).click();
  const error = page.locator('#f-settings-app-subdomain-error');
  assert.match(await error.innerText(), /not a valid Subdomain.*acme/);
  assert.equal(await page.getByLabel('Subdomain').getAttribute('aria-invalid'), 'true');
  assert.match(await page.getByLabel('Subdomain').getAttribute('aria-describedby'), /f-settings-app-subdomain-error/);
  await page.getByRole('alert').getByRole('link', { name: 'Subdomain' }).waitFor();

  await page.getByLabel('Subdomain').fill('acme');
  await page.getByRole('button', { name: 'Next' }).click();

  // Sign-On Options.
  await page.getByRole('heading', { name: 'Sign-On Options' }).waitFor();
  assert.equal(await page.getByLabel('SAML 2.0').isChecked(), true);
  await page.getByLabel('Application username format').selectOption({ label: 'Email' });
  await page.getByLabel('Create only').check();
  await page.getByLabel('Allow people to see their password for this app').check();
  assert.deepEqual(await unlabelledControls(page), []);
  await Promise.all([
    page.waitForURL((u) => /^\/admin\/apps\/0oa[^/]+$/.test(u.pathname) && u.searchParams.get('added') === '1'),
    page.getByRole('button', { name: 'Done' }).click(),
  ]);

  // Done: the app's page.
  const appId = new URL(page.url()).pathname.split('/').pop();
  await page.getByRole('status').filter({ hasText: 'Slack was added' }).waitFor();
  const created = await api('GET', `/api/v1/apps/${appId}`);
  assert.equal(created.status, 200, created.text);
  assert.equal(created.json.name, 'slack');
  assert.equal(created.json.status, 'ACTIVE');
  assert.equal(created.json.signOnMode, 'SAML_2_0');
  assert.deepEqual(created.json.settings.app, { subdomain: 'acme' });
  assert.equal(created.json.settings.signOn.ssoAcsUrl, 'https://acme.slack.com/sso/saml');
  assert.equal(created.json.credentials.userNameTemplate.template, '${source.email}');
  assert.equal(created.json.credentials.userNameTemplate.pushStatus, 'DONT_PUSH');
  assert.equal(created.json.credentials.revealPassword, true);

  // Assign a person from the Assignments tab.
  await page.getByRole('link', { name: 'assign it to people or groups' }).click();
  assert.equal(await page.getByRole('link', { name: 'Assignments' }).getAttribute('aria-current'), 'page');
  await page.getByLabel('Find people to assign').fill('Ada');
  await page.getByRole('button', { name: 'Find people' }).click();
  await page.getByRole('button', { name: `Assign ${ada.name} to Slack` }).click();
  await page.getByRole('status').filter({ hasText: 'Assigned.' }).waitFor();
  const people = page.getByRole('table', { name: 'People assigned Slack' });
  assert.match(await people.innerText(), new RegExp(ada.name));
  assert.equal(await people.getByRole("textbox", { name: `Application username for ${ada.name}` }).inputValue(), ada.login);
  await screenshot(t, page, 'app-assignments.png');

  // That person signs in and sees the tile.
  const { context: theirs, page: their, problems } = await newPage();
  try {
    await signIn(their, ada);
    assert.equal(new URL(their.url()).pathname, '/app/UserHome');
    const tiles = their.getByRole('region', { name: `Apps managed by ${ORG}` });
    const tile = tiles.getByRole('link', { name: /Slack/ });
    await tile.waitFor();
    assert.equal(await tile.getAttribute('href'), `/home/slack/${appId}/launch`);
    assert.deepEqual(problems, []);
  } finally {
    await theirs.close();
  }
});

browserTest('Create App Integration shows the API’s causes by their fields, and the list activates and deactivates', async ({ page }) => {
  await signIn(page, ADMIN, '/admin/apps');
  await page.getByRole('heading', { name: 'Applications', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'Create App Integration' }).click();
  await page.waitForURL('**/admin/apps/new');

  // Every method is offered.
  for (const label of ['SAML 2.0', 'OpenID Connect', 'WS-Federation', 'Secure Web Authentication (SWA)', 'Bookmark']) {
    await page.getByLabel(label, { exact: true }).waitFor();
  }
  await page.getByLabel('Bookmark', { exact: true }).check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: 'New Bookmark integration' }).waitFor();

  // The API refuses a non-web URL; the cause lands next to the field.
  await page.getByLabel('App name').fill('Intranet');
  await page.getByRole('textbox', { name: /^URL/ }).fill('ftp://intranet.example.com/');
  await page.getByRole('button', { name: 'Create' }).click();
  const error = page.locator('#f-settings-app-url-error');
  assert.match(await error.innerText(), /absolute http or https URL/);
  assert.equal(await page.getByRole('textbox', { name: /^URL/ }).getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByLabel('App name').inputValue(), 'Intranet', 'what was typed is kept');

  await page.getByRole('textbox', { name: /^URL/ }).fill('https://intranet.example.com/');
  await Promise.all([
    page.waitForURL((u) => /^\/admin\/apps\/0oa[^/]+$/.test(u.pathname)),
    page.getByRole('button', { name: 'Create' }).click(),
  ]);
  const appId = new URL(page.url()).pathname.split('/').pop();

  // SAML: both required fields are named when left empty.
  await page.goto('/admin/apps/new?mode=SAML_2_0');
  await page.getByLabel('App name').fill('Legacy HR');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.locator('#f-settings-signOn-ssoAcsUrl-error').waitFor();
  await page.locator('#f-settings-signOn-audience-error').waitFor();

  // The list shows the bookmark; deactivate it there.
  await page.goto('/admin/apps');
  const row = page.getByRole('row', { name: /Intranet/ });
  assert.match(await row.innerText(), /Active/);
  assert.match(await row.innerText(), /Bookmark/);
  await Promise.all([page.waitForURL('**/admin/apps'), row.getByRole('button', { name: 'Deactivate Intranet' }).click()]);
  assert.match(await page.getByRole('row', { name: /Intranet/ }).innerText(), /Inactive/);
  assert.equal((await api('GET', `/api/v1/apps/${appId}`)).json.status, 'INACTIVE');
  await Promise.all([page.waitForURL('**/admin/apps'), page.getByRole('button', { name: 'Activate Intranet' }).click()]);
  assert.equal((await api('GET', `/api/v1/apps/${appId}`)).json.status, 'ACTIVE');
});

browserTest('the catalog page allows only its own script, filters, and pages through results', async ({ page }) => {
  await signIn(page, ADMIN);
  const response = await page.goto('/admin/apps/catalog');
  const csp = response.headers()['content-security-policy'] || '';
  assert.match(csp, /script-src 'self'/, `CSP: ${csp}`);
  assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'/, `CSP: ${csp}`);
  assert.match(csp, /frame-ancestors 'none'/, `CSP: ${csp}`);

  const tiles = page.locator('ul.catalog-tiles > li');
  assert.equal(await tiles.count(), 24, 'a page of tiles');
  await page.getByRole('link', { name: 'Next page' }).click();
  await page.waitForURL((u) => u.searchParams.has('after'));
  assert.ok((await tiles.count()) > 0);

  // A filter narrows the tiles, and the choice is kept in the form.
  await page.goto('/admin/apps/catalog');
  await page.getByLabel('Functionality').selectOption('SCIM');
  await page.getByRole('button', { name: 'See all results' }).click();
  await page.waitForURL((u) => u.searchParams.get('functionality') === 'SCIM');
  assert.equal(await page.getByLabel('Functionality').inputValue(), 'SCIM');
  const badges = await page.locator('ul.catalog-tiles > li').evaluateAll((items) =>
    items.map((li) => [...li.querySelectorAll('.badges li')].map((b) => b.textContent)),
  );
  assert.ok(badges.length > 0);
  assert.ok(badges.every((b) => b.includes('SCIM')), 'every tile offers SCIM');

  // Without a session the suggestions refuse to answer.
  const anonymous = await fetch(`${gateway.base}/admin/apps/catalog/suggest?q=sla`, { signal: AbortSignal.timeout(STEP_TIMEOUT) });
  assert.equal(anonymous.status, 401);
});
