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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  api,
  createPerson,
  newPage,
  signIn,
  browserTest,
  screenshot,
  unlabelledControls,
  gateway,
  ADMIN,
  ORG,
  STEP_TIMEOUT,
  setup,
} from './harness.mjs';

setup({ testTimeout: 90_000, failOnPageProblems: true });

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
