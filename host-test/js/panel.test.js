// The reference connection panel (`host-test panel`) in a real headless
// Chromium (Debian's package, driven by playwright-core): every API type
// with every auth kind it allows shows exactly the manifest's fields and
// tests green on the simulator; a wrong password shows Klarna's 401 message;
// an out-of-range setting is refused before anything is sent; no secret
// comes back to the page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

// The simulator's credentials (host-test/src/sim/auth.rs), one set per auth kind.
const CREDENTIALS = {
  api_key: { api_key: 'klarna_test_api_c2ltLWtleS0xLTdmM2M5ZTIx' },
  basic: { username: 'PK46120_sim0a1b2c3d', password: 'sim-pass-7f3c9e21' },
  oauth2: { client_id: 'sim-client-4471', client_secret: 'sim-client-secret-0b9e' },
  token: { token: 'sim-shipping-token-5d2a' },
  shipping_key: { identifier: 'sweMerch123', key: 'smOOOth' },
};
// Values for the settings a manifest marks required.
const REQUIRED_SETTINGS = { public_url: 'https://shop.example/klarna' };
const WRONG_PASSWORD = 'not-the-password-41d7';

let panel;
let url;
let browser;
let manifest;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: ./x test installs Debian's chromium`);
  const binary = process.env.HOST_TEST_BIN ?? `${root}target/debug/host-test`;
  panel = spawn(binary, ['panel', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  url = await new Promise((resolve, reject) => {
    panel.on('error', reject);
    panel.on('exit', (code) => reject(new Error(`host-test panel exited with ${code}`)));
    panel.stdout.on('data', (chunk) => {
      const match = /panel on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(chunk.toString());
      if (match) resolve(match[1]);
    });
  });
  manifest = await (await fetch(`${url}api/describe`)).json();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  panel?.kill();
});

/** A fresh page on the panel that records every request and answer body it sees. */
async function openPanel() {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const sent = [];
  const answers = [];
  page.on('request', (request) => sent.push(`${request.method()} ${new URL(request.url()).pathname}`));
  page.on('response', async (response) => answers.push(await response.text().catch(() => '')));
  const errors = [];
  page.on('pageerror', (error) => errors.push(error));
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('#c-auth_kind')?.options.length > 0, null, { timeout: 10_000 })
    .catch((e) => assert.fail(`the panel did not draw itself: ${errors.join('; ') || e}`));
  return { page, sent, answers };
}

/** The fields the manifest gives this API type and auth kind, as `group:key`. */
function expectedFields(type, kind) {
  const settings = type.settings.filter((s) => !s.show_when || s.show_when.auth.includes(kind.id));
  return [
    ...kind.fields.map((f) => `credential:${f.key}`),
    ...settings.map((s) => `setting:${s.key}`),
    ...manifest.panel.common_settings.map((s) => `setting:${s.key}`),
  ].sort();
}

/** The fields the page shows, as `group:key`. */
async function shownFields(page) {
  const fields = await page.locator('.field[data-group]').all();
  const shown = [];
  for (const field of fields) {
    if (await field.isVisible()) shown.push(`${await field.getAttribute('data-group')}:${await field.getAttribute('data-key')}`);
  }
  return shown.sort();
}

const control = (page, group, key) => page.locator(`.field[data-group="${group}"][data-key="${key}"]`).locator('input, textarea');

/** Checks one drawn field against its manifest entry. */
async function checkField(page, group, setting) {
  const input = control(page, group, setting.key);
  const field = page.locator(`.field[data-group="${group}"][data-key="${setting.key}"]`);
  assert.equal(await input.evaluate((e) => e.required), setting.required, `${setting.key}: required`);
  if (setting.secret) {
    assert.equal(await input.getAttribute('type'), 'password', `${setting.key} is a password input`);
    assert.equal(await input.inputValue(), '', `${setting.key} starts empty`);
  } else if (setting.default !== undefined) {
    assert.equal(await input.inputValue(), setting.default, `${setting.key}: the manifest's default`);
  }
  if (setting.type === 'integer') {
    assert.equal(await input.getAttribute('min'), String(setting.min), `${setting.key}: min`);
    assert.equal(await input.getAttribute('max'), String(setting.max), `${setting.key}: max`);
  }
  assert.ok((await field.locator('.help').textContent()).includes(setting.help), `${setting.key}: help shown`);
  assert.ok((await field.locator('label').textContent()).includes(setting.label), `${setting.key}: label`);
}

async function choose(page, apiType, authKind) {
  await page.selectOption('#c-api_type', apiType);
  await page.selectOption('#c-auth_kind', authKind);
}

/** Submits and waits for the outcome; returns the status line and its class. */
async function submit(page) {
  await page.click('#test');
  await page.waitForFunction(() => {
    const status = document.querySelector('#status');
    return (status.className === 'ok' || status.className === 'bad') && !document.querySelector('#test').disabled;
  });
  return { text: await page.textContent('#status'), kind: await page.getAttribute('#status', 'class') };
}

const secrets = () => [
  ...Object.entries(CREDENTIALS).flatMap(([kind, values]) => {
    const fields = manifest.panel.auth_kinds.find((k) => k.id === kind).fields;
    return Object.entries(values).filter(([key]) => fields.find((f) => f.key === key).secret).map(([, v]) => v);
  }),
  WRONG_PASSWORD,
];

/** No secret in the page's HTML, in a secret input, or in any answer the page received. */
async function assertNoSecretCameBack(page, answers) {
  const html = await page.content();
  for (const secret of secrets()) {
    assert.ok(!html.includes(secret), `a secret is in the page's HTML`);
    assert.ok(!answers.some((body) => body.includes(secret)), 'a secret is in an answer the page received');
  }
  for (const input of await page.locator('input[type=password]').all()) {
    assert.equal(await input.inputValue(), '', 'a secret input was filled back');
  }
}

test('each API type with each auth kind shows exactly its manifest fields and tests green', async () => {
  const { page, answers } = await openPanel();
  let combinations = 0;
  for (const type of manifest.panel.api_types) {
    for (const kindId of type.auth) {
      const kind = manifest.panel.auth_kinds.find((k) => k.id === kindId);
      await choose(page, type.id, kindId);
      assert.deepEqual(await shownFields(page), expectedFields(type, kind), `${type.id} with ${kindId}: the fields shown`);
      const offered = await page.locator('#c-auth_kind option').evaluateAll((os) => os.map((o) => o.value));
      assert.deepEqual(offered, type.auth, `${type.id}: the auth kinds offered`);
      for (const field of kind.fields) await checkField(page, 'credential', field);
      for (const setting of type.settings.filter((s) => !s.show_when || s.show_when.auth.includes(kindId))) {
        await checkField(page, 'setting', setting);
        if (setting.required) {
          assert.ok(REQUIRED_SETTINGS[setting.key], `the test has no value for the required setting ${setting.key}`);
          await control(page, 'setting', setting.key).fill(REQUIRED_SETTINGS[setting.key]);
        }
      }
      for (const [key, value] of Object.entries(CREDENTIALS[kindId])) await control(page, 'credential', key).fill(value);
      const outcome = await submit(page);
      assert.equal(outcome.kind, 'ok', `${type.id} with ${kindId}: ${outcome.text}`);
      assert.match(outcome.text, /Connection works/);
      const listed = await page.locator('#entity-list .entity').evaluateAll((es) => es.map((e) => e.dataset.entity));
      const entities = manifest.entities.filter((e) => e.api_type === type.id).map((e) => e.name);
      assert.deepEqual(listed, entities, `${type.id}: the entities listed`);
      await assertNoSecretCameBack(page, answers);
      combinations += 1;
    }
  }
  const expected = manifest.panel.api_types.reduce((n, t) => n + t.auth.length, 0);
  assert.equal(combinations, expected);
  console.log(`panel: ${combinations} API type and auth kind combinations tested green over ${manifest.panel.api_types.length} API types`);
  await page.close();
});

test("a wrong password shows Klarna's 401 and what to do", async () => {
  const { page, answers } = await openPanel();
  await choose(page, 'settlements', 'basic');
  await control(page, 'credential', 'username').fill(CREDENTIALS.basic.username);
  await control(page, 'credential', 'password').fill(WRONG_PASSWORD);
  const outcome = await submit(page);
  assert.equal(outcome.kind, 'bad');
  assert.match(outcome.text, /^test\(\) failed: unauthorized: /);
  assert.match(outcome.text, /refused these credentials/);
  assert.match(outcome.text, /HTTP 401/);
  assert.equal(await page.isVisible('#entities'), false, 'no entities for a failed connection');
  await assertNoSecretCameBack(page, answers);
  await page.close();
});

test('a setting out of range is refused on the page before anything is sent', async () => {
  const { page, sent } = await openPanel();
  await choose(page, 'settlements', 'basic');
  for (const [key, value] of Object.entries(CREDENTIALS.basic)) await control(page, 'credential', key).fill(value);
  const timeout = manifest.panel.common_settings.find((s) => s.key === 'timeout_ms');
  await control(page, 'setting', 'timeout_ms').fill(String(timeout.min - 1));
  const before = sent.length;
  const outcome = await submit(page);
  assert.equal(outcome.kind, 'bad');
  assert.match(outcome.text, /^Nothing was sent/);
  const error = page.locator('.field[data-key="timeout_ms"] .error');
  assert.equal(await error.isVisible(), true);
  assert.equal(await error.textContent(), `Out of range: from ${timeout.min} to ${timeout.max}.`);
  assert.deepEqual(sent.slice(before), [], 'no request left the page');
  // A required field left empty is refused the same way.
  await control(page, 'setting', 'timeout_ms').fill(timeout.default);
  await control(page, 'credential', 'password').fill('');
  assert.equal((await submit(page)).kind, 'bad');
  assert.equal(await page.textContent('.field[data-key="password"] .error'), 'Required.');
  assert.deepEqual(sent.slice(before), [], 'still no request');
  await page.close();
});

test("an entity's first page is shown as a table (and the screenshot in docs/)", async () => {
  const { page, answers } = await openPanel();
  await choose(page, 'settlements', 'basic');
  for (const [key, value] of Object.entries(CREDENTIALS.basic)) await control(page, 'credential', key).fill(value);
  assert.equal((await submit(page)).kind, 'ok');
  await page.click('button[data-entity="payouts"]');
  await page.waitForSelector('#record-table tbody tr');
  const headers = await page.locator('#record-table th').allTextContents();
  assert.ok(headers.includes('payment_reference'), headers.join(', '));
  const rows = await page.locator('#record-table tbody tr').count();
  assert.ok(rows > 0);
  await assertNoSecretCameBack(page, answers);
  mkdirSync(`${root}target`, { recursive: true });
  await page.screenshot({ path: `${root}target/panel.png`, fullPage: true });
  if (process.env.UPDATE_SCREENSHOT) copyFileSync(`${root}target/panel.png`, `${root}docs/panel.png`);
  await page.close();
});
