// The browser tests' shared harness: one `vestibule serve` process per test
// file (plain HTTP on a free loopback port, a fresh data directory, a
// bootstrap admin and API token), Debian's Chromium driven by
// playwright-core, and a fresh browser context per test whose requests to
// anything but the gateway (and origins the file allows) are aborted.
//
// A file calls `setup()` once at its top level, then writes its tests with
// `browserTest(name, async ({ t, context, page, problems }) => …)`. Script
// errors and Content-Security-Policy violations are collected in `problems`;
// with `failOnPageProblems` they fail the test.

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
/** Set to a folder to keep screenshots there (never committed). */
export const SCREENSHOT_DIR = process.env.VESTIBULE_SCREENSHOT_DIR;

export const ADMIN = { login: 'admin@example.com', password: 'Correct-Horse-Battery-9' };
export const API_TOKEN = '00browsertesttoken0123456789abcdef';
export const ORG = 'Initech';
export const PERSON_PASSWORD = 'Plum-Orchard-Lantern-42';

export const STEP_TIMEOUT = 10_000; // one browser action or HTTP call
const START_TIMEOUT = 30_000; // the gateway answering /healthz

/** The gateway under test: { child, base, dataDir, output, exited() }. */
export let gateway;
let browser;
let failed = false;
let options = {};

export function freePort() {
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

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

process.once('exit', () => {
  if (gateway && !gateway.exited()) gateway.child.kill('SIGKILL');
});

/**
 * Starts the gateway and the browser before the file's tests and stops them
 * after. Options: `testTimeout` (ms per test, default 60 s);
 * `allowedOrigins()` (origins besides the gateway's that pages may reach);
 * `failOnPageProblems` (script errors and CSP violations fail a test);
 * `beforeStart()` and `afterStop()` for the file's own servers.
 */
export function setup(given = {}) {
  options = { testTimeout: 60_000, allowedOrigins: () => [], failOnPageProblems: false, ...given };
  before(async () => {
    if (options.beforeStart) await options.beforeStart();
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
    if (options.afterStop) await options.afterStop();
  }, { timeout: 20_000 });
}

/** Okta-compatible management API, authorised with an SSWS token. */
export async function api(method, path, body, token = API_TOKEN) {
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
    // Not JSON; keep the text for the caller's message.
  }
  return { status: r.status, json, text };
}

let people = 0;
/** A new active person with a password, made through the API. */
export async function createPerson(firstName, lastName) {
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
 * A fresh browser context (no cookies, `contextOptions` added) whose pages
 * may only talk to the gateway and the allowed origins. Script errors and
 * CSP violations are collected in `problems`.
 */
export async function newPage(contextOptions = {}) {
  const context = await browser.newContext({ baseURL: gateway.base, ...contextOptions });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  await context.route('**/*', async (route, request) => {
    const origin = new URL(request.url()).origin;
    if (origin !== gateway.base && !options.allowedOrigins().includes(origin)) return route.abort('blockedbyclient');
    return route.continue();
  });
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

export async function sidCookie(context) {
  return (await context.cookies(gateway.base)).find((c) => c.name === 'sid');
}

/** The POST /login response produced by `action`. */
export function loginPost(page, action) {
  return Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/login' && r.request().method() === 'POST'),
    action(),
  ]).then(([response]) => response);
}

/** Signs in through the form and waits for the page it leads to. */
export async function signIn(page, who, fromURI) {
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

/** A full-page screenshot into VESTIBULE_SCREENSHOT_DIR, when it is set. */
export async function screenshot(t, page, name) {
  if (!SCREENSHOT_DIR) return;
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, name);
  await page.screenshot({ path: file, fullPage: true });
  t.diagnostic(`screenshot: ${file}`);
}

/** Every visible form control has a label a screen reader will read. */
export async function unlabelledControls(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden')
      .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
      .map((el) => el.outerHTML),
  );
}

/** Runs a test body with its own browser context, closed however it ends. */
export function browserTest(name, body, contextOptions = {}) {
  test(name, { timeout: options.testTimeout }, async (t) => {
    const { context, page, problems } = await newPage(contextOptions);
    try {
      await body({ t, context, page, problems });
      if (options.failOnPageProblems) assert.deepEqual(problems, [], 'no script errors or CSP violations');
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      await context.close();
    }
  });
}
