// Create App Integration's SAML 2.0 page in a real browser: headless
// Chromium driven by playwright-core against a gateway the shared harness
// (harness.mjs) starts.
//
// The story: an admin chooses a service provider's metadata file (read into
// the metadata box by the page's script), lets the page fill the form from it
// and reviews it; a weak signature algorithm without
// the opt-in is refused at its field, announced at the top of the page;
// with RSA-SHA256 the app is created with what the metadata said; its page
// links the IdP metadata, which names the app's entity ID, endpoints and
// certificate.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api, browserTest, gateway, screenshot, setup, signIn, unlabelledControls, ADMIN } from './harness.mjs';

setup({ testTimeout: 90_000, failOnPageProblems: true });

const here = dirname(fileURLToPath(import.meta.url));
const SP_METADATA = join(here, '../../protocols/saml/tests/fixtures/sp-metadata.xml');

browserTest('an admin imports SP metadata, reviews it, fixes a refused field and creates the SAML app', async ({ t, page }) => {
  const metadata = await readFile(SP_METADATA, 'utf8');
  await signIn(page, ADMIN, '/admin/apps/new?mode=SAML_2_0');
  await page.getByRole('heading', { level: 1 }).waitFor();
  assert.deepEqual(await unlabelledControls(page), []);

  // Import: the page comes back filled from the metadata, nothing saved yet.
  await page.getByLabel('App name').fill('Expenses');
  // A file far larger than any metadata document is refused by the picker, not read.
  const picker = page.getByLabel("Or choose the SP's metadata file");
  await picker.setInputFiles({ name: 'huge.xml', mimeType: 'application/xml', buffer: Buffer.alloc(300 * 1024, 'a') });
  await page.getByRole('status').filter({ hasText: 'huge.xml is larger than 256 KiB' }).waitFor();
  assert.equal(await page.getByLabel('SP metadata XML').inputValue(), '');
  // The metadata file, chosen with the picker (the page's script reads it into the box).
  await picker.setInputFiles({ name: 'sp-metadata.xml', mimeType: 'application/xml', buffer: Buffer.from(metadata) });
  await page.getByRole('status').filter({ hasText: 'Read sp-metadata.xml into the box above' }).waitFor();
  assert.equal(await page.getByLabel('SP metadata XML').inputValue(), metadata);
  await page.getByRole('button', { name: 'Import and review' }).click();
  await page.getByText('Filled in from the SP’s metadata.').or(page.getByText("Filled in from the SP's metadata.")).first().waitFor();
  assert.equal(await page.getByLabel('Audience URI (SP entity ID)').inputValue(), 'https://sp.example.com');
  assert.equal(await page.getByLabel('Single sign-on URL (ACS URL)').inputValue(), 'https://sp.example.com/acs');
  assert.equal(await page.getByLabel('App name').inputValue(), 'Expenses', 'what the admin typed is kept');
  assert.equal((await api('GET', '/api/v1/apps')).json.length, 0, 'an import never creates');
  assert.deepEqual(await unlabelledControls(page), []);
  await screenshot(t, page, 'saml-imported.png');

  // RSA-SHA1 without the opt-in: refused at the field, listed at the top.
  await page.getByLabel('Signature algorithm').selectOption('RSA_SHA1');
  await page.getByRole('button', { name: 'Create' }).click();
  const summary = page.getByRole('alert').filter({ has: page.getByRole('link', { name: 'Signature algorithm' }) });
  await summary.waitFor();
  const field = page.getByLabel('Signature algorithm');
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  const described = (await field.getAttribute('aria-describedby')) || '';
  const messages = await Promise.all(described.split(' ').filter(Boolean).map((id) => page.locator(`#${id}`).innerText()));
  assert.ok(messages.some((m) => /RSA_SHA1 is weak/.test(m)), `the field says why: ${messages.join(' | ')}`);
  // The summary's link moves focus to the field.
  await summary.getByRole('link', { name: 'Signature algorithm' }).click();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'settings.signOn.signatureAlgorithm');

  // Fixed: created with what the metadata said.
  await field.selectOption('RSA_SHA256');
  await Promise.all([page.waitForURL((u) => /^\/admin\/apps\/0oa/.test(u.pathname)), page.getByRole('button', { name: 'Create' }).click()]);
  const id = new URL(page.url()).pathname.split('/')[3];
  const app = await api('GET', `/api/v1/apps/${id}`);
  assert.equal(app.status, 200, app.text);
  const s = app.json.settings.signOn;
  assert.equal(s.audience, 'https://sp.example.com');
  assert.equal(s.ssoAcsUrl, 'https://sp.example.com/acs');
  assert.equal(s.signatureAlgorithm, 'RSA_SHA256');
  assert.equal(app.json.label, 'Expenses');

  // The app's page links the IdP metadata the admin gives the SP.
  await page.goto(`/admin/apps/${id}?tab=signon`);
  const link = page.getByRole('link', { name: 'Identity provider metadata' });
  const href = await link.getAttribute('href');
  const idp = await (await fetch(new URL(href, gateway.base))).text();
  assert.match(idp, new RegExp(`entityID="${gateway.base}/app/${id}/sso/saml/metadata"`));
  assert.match(idp, new RegExp(`SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${gateway.base}/app/[a-z_0-9]+/${id}/sso/saml"`));
  const keys = await api('GET', `/api/v1/apps/${id}/credentials/keys`);
  assert.ok(idp.includes(keys.json[0].x5c[0]), 'the signing certificate is published');
});
