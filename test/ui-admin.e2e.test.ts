/**
 * The console's admin pages in headless Chromium, against a real gateway on the mock provider:
 * a team and a key created, the key's budget edited after calls made with the openai SDK (the
 * key then shows over budget and the gateway refuses it), a subscription granted and approved
 * (the prompt API answers the team's key only then), a deployment's weight edited on the Runtime
 * config page (a refused value first, its fault shown next to the input), one call's record read
 * from the Request log, the Audit log. Every page is shot at 1366 px and 375 px and must not
 * scroll sideways on the phone.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/chromium.js';
import { LAPTOP, shootBoth, signIn } from './helpers/console.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const MASTER = 'sk-master-ui-admin';
const TAG = 'ui-admin';

interface Key {
  id: string;
  name: string;
  team: string | null;
  budget_usd: number | null;
  spend_usd: number;
}
interface LogRecord {
  id: string;
  key_id: string | null;
  tags: string[];
  cost_usd: number;
  prompt_tokens: number;
  completion_tokens: number;
}

let gw: TestGateway;
let browser: Browser;
let page: Page;
let secret: string;
let key: Key;
const pageErrors: string[] = [];

async function admin<T>(path: string): Promise<T> {
  const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${MASTER}` } });
  expect(res.ok, `${path}: ${res.status}`).toBe(true);
  return (await res.json()) as T;
}

const callPrompt = (apiKey: string) =>
  fetch(`${gw.url}/prompts/review`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'ship it' }) });

beforeAll(async () => {
  const prompts = mkdtempSync(join(tmpdir(), 'konnect-ui-prompts-'));
  writeFileSync(
    join(prompts, 'review.yaml'),
    'name: review\nversion: 1\ndescription: Review a text\nmodel: mock\napproval: required\n' +
      'input: { type: object, required: [text], properties: { text: { type: string } } }\n' +
      'messages:\n  - { role: user, content: "Review: {{text}}" }\n',
  );
  gw = await startGateway({
    auth: { master_key: MASTER },
    // A small output reservation, so a $5 budget admits calls at these (high) test prices.
    budgets: { reserve_output_tokens: 64 },
    providers: { demo: { type: 'mock' } },
    models: [
      { name: 'mock', deployments: [{ provider: 'demo', model: 'mock-1', price: { input: 2500, output: 10000 } }] },
      {
        name: 'mock-fast',
        deployments: [
          { provider: 'demo', model: 'mock-2', weight: 2, price: { input: 0.15, output: 0.6 }, limits: { rpm: 500, tpm: 200000, concurrency: 20 } },
          { provider: 'demo', model: 'mock-3', weight: 1 },
        ],
      },
    ],
    prompts: { dir: prompts },
    services: [{ name: 'users', prefix: '/api/users', targets: [{ url: 'http://127.0.0.1:9', weight: 1 }], retries: 0 }],
  });
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: LAPTOP, timezoneId: 'UTC' });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('response', (res) => {
    if (res.status() >= 500) pageErrors.push(`${res.status()} ${res.url()}`);
  });
  page.on('dialog', (dialog) => void dialog.accept());
  await signIn(page, gw.url, MASTER, '#/keys');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

describe('the console administers the gateway', () => {
  it('creates a team and a key, then edits the key budget after calls, and shows it over budget', async () => {
    const teamForm = page.getByRole('form', { name: 'Create a team' });
    await teamForm.getByLabel('Name').fill('Research');
    await teamForm.getByRole('button', { name: 'Create team' }).click();
    await page.locator('#teams-table th[data-col="name"]:text("Research")').waitFor();

    const keyForm = page.getByRole('form', { name: 'Create a key' });
    await keyForm.getByLabel('Name').fill('app-1');
    await keyForm.getByLabel('Team').selectOption('research');
    await keyForm.getByLabel('Budget (USD)').fill('5');
    await keyForm.getByLabel('Budget period').selectOption('day');
    await keyForm.getByRole('button', { name: 'Create key' }).click();
    secret = (await page.locator('#new-key-secret').textContent())!;
    key = (await admin<{ keys: Key[] }>('/admin/keys')).keys.find((k) => k.name === 'app-1')!;
    expect(key).toMatchObject({ team: 'research', budget_usd: 5 });
    await page.getByRole('button', { name: 'I have saved it' }).click();

    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: secret, maxRetries: 0, defaultHeaders: { 'x-gateway-tags': TAG } });
    for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: `Call ${i} of app-1` }] });
    await gw.app.gateway.ledger.flush();
    const spent = (await admin<Key>(`/admin/keys/${key.id}`)).spend_usd;
    expect(spent).toBeGreaterThan(0.5);

    await page.getByRole('button', { name: 'Edit key app-1' }).click();
    const edit = page.getByRole('form', { name: 'Edit key app-1' });
    expect(await edit.getByLabel('Budget (USD)').inputValue()).toBe('5');
    await edit.getByLabel('Budget (USD)').fill('0.5');
    await edit.getByLabel('Expires').fill('2099-12-31');
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Key app-1 saved.');
    expect(await admin<Key & { expires_at: string }>(`/admin/keys/${key.id}`)).toMatchObject({ budget_usd: 0.5, budget_period: 'day', expires_at: '2099-12-31T23:59:59.000Z' });

    const row = page.locator('#keys-table tbody tr', { has: page.locator('th:text("app-1")') });
    await expect.poll(() => row.locator('td[data-col="state"]').textContent()).toBe('⚠ over budget');
    expect(await row.locator('td[data-col="budget"]').textContent()).toBe('$0.50 per day');
    // Spend has four decimals, whatever the amount.
    expect(await row.locator('td[data-col="spend"]').textContent()).toMatch(/^\$\d+\.\d{4} of \$0\.50$/);
    await expect(client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'over budget' }] })).rejects.toMatchObject({ status: 429 });
    expect(await shootBoth(page, 'keys-budget', '#keys-table')).toBe(0);
  }, 60_000);

  it('grants and approves a subscription; the prompt API answers the team key only once approved', async () => {
    expect((await callPrompt(secret)).status).toBe(403);
    await page.getByRole('link', { name: 'Subscriptions' }).click();
    const grant = page.getByRole('form', { name: 'Grant a subscription' });
    await grant.getByLabel('API').locator('option[value="prompt:review"]').waitFor({ state: 'attached' });
    await grant.getByLabel('Team').selectOption('research');
    await grant.getByLabel('API').selectOption('prompt:review');
    await grant.getByRole('button', { name: 'Create subscription' }).click();
    const row = page.locator('#subscriptions-table tbody tr', { has: page.locator('th:text("research")') });
    await expect.poll(() => row.locator('td[data-col="status"]').textContent()).toBe('… pending');
    expect((await callPrompt(secret)).status).toBe(403);

    await row.getByRole('button', { name: 'Approve research on review' }).click();
    await expect.poll(() => row.locator('td[data-col="status"]').textContent()).toBe('✓ approved');
    const { subscriptions } = await admin<{ subscriptions: Array<{ status: string; team: string; name: string }> }>('/admin/subscriptions');
    expect(subscriptions).toEqual([expect.objectContaining({ team: 'research', name: 'review', status: 'approved' })]);
    // The key is over its budget: the prompt API now refuses it for money, not for access.
    expect((await callPrompt(secret)).status).toBe(429);
    expect(await shootBoth(page, 'subscriptions', '#subscriptions-table')).toBe(0);
  }, 60_000);

  it('edits a deployment weight on the Runtime config page, showing a refused value next to its input', async () => {
    await page.getByRole('link', { name: 'Runtime config' }).click();
    await page.getByRole('button', { name: 'Edit model group mock-fast' }).click();
    const form = page.getByRole('form', { name: 'Edit model group mock-fast' });
    const weight = form.getByRole('group', { name: 'Deployment 2' }).getByLabel('Weight');
    expect(await weight.inputValue()).toBe('1');
    await weight.fill('0');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => weight.getAttribute('aria-invalid')).toBe('true');
    expect(await form.locator('.fault').textContent()).toMatch(/^⚠ must be > 0/);
    await shootBoth(page, 'config-fault', 'form .fault');

    await weight.fill('5');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Saved model group mock-fast');
    const card = page.locator('[data-config-group="mock-fast"]');
    expect(await card.locator('td[data-col="weight"]').allTextContents()).toEqual(['2', '5']);
    const { deployments } = await admin<{ deployments: Array<{ id: string; weight: number; limits: unknown }> }>('/admin/deployments');
    expect(deployments.find((d) => d.id === 'mock-fast/1')?.weight).toBe(5);
    // Fields the form has no input for (limits) are kept.
    expect(deployments.find((d) => d.id === 'mock-fast/0')?.limits).toEqual({ rpm: 500, tpm: 200000, concurrency: 20 });
    expect(await shootBoth(page, 'config', '[data-config-group="mock-fast"]')).toBe(0);
  }, 60_000);

  it('finds the calls of a tag in the Request log and opens one call’s full record', async () => {
    await page.getByRole('link', { name: 'Request log' }).click();
    await page.getByLabel('Tag').fill(TAG);
    await page.getByRole('button', { name: 'Search' }).click();
    // Three answered calls and the one refused for its budget.
    const { records } = await admin<{ records: Array<LogRecord & { status: number }> }>(`/admin/logs?key=${key.id}`);
    const tagged = records.filter((r) => r.tags.includes(TAG));
    expect(tagged.map((r) => r.status)).toEqual([429, 200, 200, 200]);
    await expect.poll(() => page.locator('#logs-table tbody tr').count()).toBe(4);
    const first = tagged[1]!;
    await page.getByRole('button', { name: `Show call ${first.id}` }).click();
    const detail = page.locator('#log-detail');
    await detail.waitFor();
    expect(page.url()).toContain(`#/logs?id=${first.id}`);
    const facts = await detail.locator('dl').innerText();
    expect(facts).toContain(first.id);
    expect(facts).toContain(key.id);
    expect(facts).toContain(`${first.prompt_tokens}`);
    expect(JSON.parse((await detail.locator('#log-record-json').textContent())!)).toEqual(first);
    expect(await shootBoth(page, 'logs', '#log-detail')).toBe(0);
  }, 60_000);

  it('lists what the admin did in the Audit log', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.locator('#audit-table').waitFor();
    const actions = await page.locator('#audit-table td[data-col="action"]').allTextContents();
    for (const action of ['config.models.put', 'subscription.approve', 'subscription.create', 'key.update', 'key.create', 'team.create']) expect(actions).toContain(action);
    const update = page.locator('#audit-table tbody tr', { has: page.locator('code:text("key.update")') });
    expect(await update.locator('td[data-col="details"]').textContent()).toContain('budget_usd: 0.5');
    expect(await shootBoth(page, 'audit', '#audit-table')).toBe(0);
  }, 60_000);

  it('fits the other pages on a phone', async () => {
    await page.getByRole('link', { name: 'Deployments' }).click();
    expect(await shootBoth(page, 'deployments-fit', '#deployments-table')).toBe(0);
    // At 1366 px the whole table shows, Limits column included.
    const limits = (await page.locator('#deployments-table th:text("Limits")').boundingBox())!;
    expect(limits.x + limits.width).toBeLessThanOrEqual(LAPTOP.width);
    await page.getByRole('link', { name: 'Catalog' }).click();
    expect(await shootBoth(page, 'catalog-fit', '[data-model-group="mock-fast"]')).toBe(0);
    await page.getByRole('link', { name: 'Usage' }).click();
    expect(await shootBoth(page, 'usage-fit', 'main[aria-busy="false"] #usage-totals')).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
