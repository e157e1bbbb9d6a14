/**
 * The console end to end in headless Debian Chromium (playwright-core): a gateway on the mock
 * provider with a master key and the shipped prompts, traffic made with the openai SDK, then
 * the page: sign-in, a Usage chart whose totals equal GET /admin/usage for that traffic, CSV
 * export identical to the admin API's, the Catalog with a prompt API tried through its form,
 * a key created (secret shown once) and revoked, and Deployments refreshing. Screenshots of
 * each page go to test-results/ui/ for review.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/chromium.js';
import { seedHistory } from './helpers/usage-history.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const MASTER = 'sk-master-ui-e2e';
const SHOTS = fileURLToPath(new URL('../test-results/ui/', import.meta.url));
const PROMPTS = fileURLToPath(new URL('../prompts', import.meta.url));
const DAY_MS = 86_400_000;
const today = () => new Date().toISOString().slice(0, 10);

let gw: TestGateway;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Errors the page threw or logged: a CSP refusal or a broken module shows up here. */
const pageErrors: string[] = [];
/** Calls the test made itself, today. */
const made = { requests: 0, errors: 0 };

interface UsageMetrics {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  latency_ms_avg: number;
  ttft_ms_avg: number | null;
}
interface UsageReport {
  rows: Array<UsageMetrics & Record<string, unknown>>;
  totals: UsageMetrics;
}

async function admin<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${gw.url}${path}`, { ...init, headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json', ...init.headers } });
  expect(res.ok, `${path}: ${res.status}`).toBe(true);
  return (await res.json()) as T;
}

/** Today's traffic through the real routes: chats on two groups, a stream, failing service calls. */
async function makeTraffic(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await gw.client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: `Hello number ${i}, tell me about gateways.` }] });
  }
  for (let i = 0; i < 3; i++) {
    // Two of them tagged, for spend by tag.
    const headers = i < 2 ? { 'x-gateway-tags': 'batch' } : {};
    await gw.client.chat.completions.create({ model: 'mock-fast', messages: [{ role: 'user', content: `Quick question ${i}` }] }, { headers });
  }
  const stream = await gw.client.chat.completions.create({
    model: 'mock',
    messages: [{ role: 'user', content: 'Stream me a story' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const _chunk of stream) {
    // Read to the end so the call is recorded with its usage.
  }
  made.requests += 8;
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${gw.url}/api/users/${i}`);
    expect(res.status).toBeGreaterThanOrEqual(500);
    made.requests += 1;
    made.errors += 1;
  }
  await gw.app.gateway.ledger.flush();
}

async function shot(name: string): Promise<void> {
  // No focus ring or text selection in the pictures.
  await page.evaluate('document.activeElement?.blur()');
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
}

/** Waits until the Usage page has drawn the answer to its latest settings. */
async function usageLoaded(): Promise<void> {
  await page.waitForSelector('main[aria-busy="false"] #usage-totals');
}

const numberAt = async (selector: string) => Number(await page.locator(selector).getAttribute('data-value'));

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  gw = await startGateway({
    auth: { master_key: MASTER },
    // `down` refuses connections (nothing listens on port 9): its deployment cools down.
    providers: { demo: { type: 'mock' }, down: { type: 'openai-compatible', base_url: 'http://127.0.0.1:9/v1' } },
    models: [
      { name: 'mock', deployments: [{ provider: 'demo', model: 'mock-1', price: { input: 2.5, output: 10 } }] },
      {
        name: 'mock-fast',
        strategy: 'latency',
        deployments: [
          { provider: 'demo', model: 'mock-2', weight: 2, price: { input: 0.15, output: 0.6 }, limits: { rpm: 600 } },
          { provider: 'demo', model: 'mock-3', weight: 1, price: { input: 0.15, output: 0.6 } },
        ],
      },
      { name: 'flaky', retries: 0, deployments: [{ provider: 'down', model: 'gpt-4o-mini' }] },
    ],
    prompts: { dir: PROMPTS },
    // Nothing listens on port 9: calls fail with 502 and count as errors.
    services: [{ name: 'users', prefix: '/api/users', targets: [{ url: 'http://127.0.0.1:9', weight: 1 }], retries: 0 }],
  });
  await seedHistory(gw.app.gateway.ledger.store!, today());
  await makeTraffic();
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true, timezoneId: 'UTC' });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  page.on('response', (res) => {
    if (res.status() >= 500) pageErrors.push(`${res.status()} ${res.request().method()} ${res.url()}`);
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await gw?.close();
});

describe('the console in Chromium', () => {
  it('refuses a wrong master key, then signs in and keeps the key in sessionStorage only', async () => {
    await page.goto(`${gw.url}/ui`);
    expect(await page.getByRole('navigation').isVisible()).toBe(false);
    await page.getByLabel('Master key').fill('sk-not-the-master');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not the master key');
    await shot('sign-in');
    // The refused sign-in is the one error the browser may log.
    expect(pageErrors).toEqual([expect.stringContaining('401 (Unauthorized)')]);
    pageErrors.length = 0;

    await page.getByLabel('Master key').fill(MASTER);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('h1:text("Usage")');
    expect(await page.getByRole('navigation').isVisible()).toBe(true);
    expect(await page.evaluate("sessionStorage.getItem('konnect.masterKey')")).toBe(MASTER);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect((await context.cookies()).length).toBe(0);
    expect(page.url()).not.toContain(MASTER);
  }, 60_000);

  it('draws a usage chart whose totals equal /admin/usage for the traffic the test made', async () => {
    await usageLoaded();
    await page.getByLabel('From (UTC)').fill(today());
    await page.getByLabel('To (UTC, inclusive)').fill(today());
    await page.getByLabel('Per', { exact: true }).selectOption('hour');
    await page.getByLabel('Group by', { exact: true }).selectOption('model');
    await page.getByLabel('Show', { exact: true }).selectOption('requests');
    await usageLoaded();

    const api = await admin<UsageReport>(`/admin/usage?from=${today()}&to=${today()}&group_by=model`);
    expect(api.totals.requests).toBe(made.requests);
    expect(api.totals.errors).toBe(made.errors);
    for (const field of ['requests', 'errors', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cost_usd', 'latency_ms_avg', 'ttft_ms_avg'] as const) {
      expect(await numberAt(`#usage-totals td[data-col="${field}"]`), field).toBe(api.totals[field]);
    }
    // Percentiles: the gateway's numbers where it reports them, "–" where it does not (yet).
    const totals = api.totals as unknown as Record<string, number | null | undefined>;
    for (const field of ['latency_ms_p50', 'latency_ms_p95', 'latency_ms_p99', 'ttft_ms_p50', 'ttft_ms_p95']) {
      const cell = page.locator(`#usage-totals td[data-col="${field}"]`);
      if (typeof totals[field] === 'number') expect(Number(await cell.getAttribute('data-value')), field).toBe(totals[field]);
      else expect(await cell.textContent(), field).toBe('–');
    }

    // The chart: a canvas with a description naming each line, and its numbers as a table.
    const figure = page.locator('#usage-chart');
    expect(await figure.getAttribute('role')).toBe('img');
    const description = (await figure.getAttribute('aria-label'))!;
    expect(description).toContain('requests per hour');
    for (const model of ['mock', 'mock-fast']) expect(description).toContain(model);
    expect(description).toContain(`Total: ${made.requests}`);
    expect(await figure.locator('canvas').count()).toBeGreaterThan(0);
    expect(await numberAt('#usage-chart-data tfoot td[data-col="all"]')).toBe(made.requests);
    const perModel = new Map(api.rows.map((row) => [row.model ?? 'unknown', row]));
    const headers = await page.locator('#usage-chart-data thead th').allTextContents();
    for (const [i, name] of headers.slice(1, -1).entries()) {
      // Service calls have no model group; the page names that group in words.
      const row = perModel.get(name.startsWith('no model') ? 'unknown' : name)!;
      expect(await numberAt(`#usage-chart-data tfoot td[data-col="s${i}"]`), name).toBe(row.requests);
    }

    await page.getByLabel('Show', { exact: true }).selectOption('cost_usd');
    await usageLoaded();
    expect(await numberAt('#usage-chart-data tfoot td[data-col="all"]')).toBe(api.totals.cost_usd);
    expect(api.totals.cost_usd).toBeGreaterThan(0);
    await shot('usage-today');
  }, 60_000);

  it('exports the same CSV as the admin API', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    // Named after the range shown: the last day is inclusive, so from and to are both today.
    expect(download.suggestedFilename()).toBe(`usage-${today()}-${today()}.csv`);
    const saved = readFileSync((await download.path())!, 'utf8');
    const res = await fetch(`${gw.url}/admin/usage?from=${today()}&to=${today()}&group_by=hour,model&format=csv`, { headers: { authorization: `Bearer ${MASTER}` } });
    expect(saved).toBe(await res.text());
    expect(saved.split('\r\n')[0]).toMatch(/^hour,model,requests,errors,prompt_tokens,completion_tokens,cached_tokens,total_tokens,cost_usd,/);
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Saved usage-');
  }, 60_000);

  it('shows two weeks by day, grouped by model, as in docs/console.md', async () => {
    await page.getByLabel('From (UTC)').fill(new Date(Date.now() - 13 * DAY_MS).toISOString().slice(0, 10));
    await page.getByLabel('To (UTC, inclusive)').fill(today());
    await page.getByLabel('Per', { exact: true }).selectOption('day');
    await page.getByLabel('Group by', { exact: true }).selectOption('model');
    await page.getByLabel('Show', { exact: true }).selectOption('cost_usd');
    await usageLoaded();
    const api = await admin<UsageReport>(`/admin/usage?from=${new Date(Date.now() - 13 * DAY_MS).toISOString().slice(0, 10)}&to=${today()}&group_by=model`);
    expect(await numberAt('#usage-chart-data tfoot td[data-col="all"]')).toBe(api.totals.cost_usd);
    expect(await page.locator('#usage-chart-data tbody tr').count()).toBe(14);
    expect(await numberAt('#usage-breakdown tfoot td[data-col="requests"]')).toBe(api.totals.requests);
    await shot('usage');
  }, 60_000);

  it('labels hours with their date when the range spans days, and groups by tag', async () => {
    const yesterday = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
    await page.getByLabel('From (UTC)').fill(yesterday);
    await page.getByLabel('To (UTC, inclusive)').fill(today());
    await page.getByLabel('Per', { exact: true }).selectOption('hour');
    await page.getByLabel('Group by', { exact: true }).selectOption('tag');
    await page.getByLabel('Show', { exact: true }).selectOption('cost_usd');
    await page.waitForSelector('main[aria-busy="false"]');
    const res = await fetch(`${gw.url}/admin/usage?from=${today()}&to=${today()}&group_by=tag`, { headers: { authorization: `Bearer ${MASTER}` } });
    if (res.ok) {
      // Spend by tag, with the admin API's numbers.
      const api = (await res.json()) as UsageReport;
      await page.getByLabel('From (UTC)').fill(today());
      await usageLoaded();
      const byTag = new Map(api.rows.map((row) => [row.tag ?? 'untagged', row]));
      expect(byTag.get('batch')?.requests).toBe(2);
      for (const [tag, row] of byTag) {
        const line = page.locator('#usage-breakdown tbody tr', { has: page.locator(`th:text-is("${tag}")`) });
        expect(await line.locator('td[data-col="cost_usd"]').getAttribute('data-value'), String(tag)).toBe(String(row.cost_usd));
      }
      await page.getByLabel('From (UTC)').fill(yesterday);
    } else {
      // A gateway without tag reports says so; the page shows its words.
      await expect.poll(() => page.getByRole('status').first().textContent()).toContain("cannot use 'tag'");
    }
    await page.getByLabel('Group by', { exact: true }).selectOption('model');
    await usageLoaded();
    // The x labels of a range over two days carry dates: a 25-hour range is not "00:00 … 12:00 … 00:00".
    const ticks = (await page.locator('#usage-chart .chart-host').getAttribute('data-x-ticks'))!.split(' | ');
    expect(ticks.length).toBeGreaterThan(2);
    for (const tick of ticks) expect(tick).toMatch(/^\d\d:00 \d\d-\d\d$/);
    expect(new Set(ticks.map((t) => t.slice(6))).size).toBe(2);
  }, 60_000);

  it('lists model groups, prompt APIs and services, and calls a prompt API from its form', async () => {
    await page.getByRole('link', { name: 'Catalog' }).click();
    const group = page.locator('[data-model-group="mock-fast"]');
    await group.waitFor();
    expect(await group.textContent()).toContain('latency');
    expect(await group.locator('td[data-col="model"]').allTextContents()).toEqual(['mock-2', 'mock-3']);
    expect(await page.locator('#catalog-services').textContent()).toContain('/api/users');
    expect(await page.getByRole('link', { name: 'OpenAPI document of the prompt APIs' }).getAttribute('href')).toBe('/openapi.json');

    const card = page.locator('[data-prompt="sentiment"]');
    expect(await card.textContent()).toContain('Classify the sentiment of a text');
    expect(await card.locator('td[data-col="name"], th[data-col="name"]').allTextContents()).toEqual(['text', 'language']);
    const before = await admin<{ records: Array<{ route: string }> }>('/admin/logs?limit=1000');
    await card.getByLabel('text (required)').fill('I love how simple this gateway is');
    await card.getByRole('button', { name: 'Call sentiment' }).click();
    await card.locator('pre.output').waitFor();
    expect(await card.locator('.notice.ok').textContent()).toMatch(/^200 from demo \/ mock-1/);
    expect((await card.locator('pre.output').textContent())!.length).toBeGreaterThan(0);
    await gw.app.gateway.ledger.flush();
    const after = await admin<{ records: Array<{ route: string }> }>('/admin/logs?limit=1000');
    expect(after.records.filter((r) => r.route === 'prompt:sentiment').length).toBe(before.records.filter((r) => r.route === 'prompt:sentiment').length + 1);

    // A bad body is the route's own 400, shown as it answered.
    await card.getByLabel('text (required)').fill('x');
    await card.getByLabel('language').fill('y'.repeat(41));
    await card.getByRole('button', { name: 'Call sentiment' }).click();
    await expect.poll(() => card.locator('.notice.error').textContent()).toMatch(/^400: .*language/);
    expect(pageErrors).toEqual([expect.stringContaining('400 (Bad Request)')]);
    pageErrors.length = 0;
    await card.getByLabel('language').fill('');
    await card.getByLabel('text (required)').fill('I love how simple this gateway is');
    await card.getByRole('button', { name: 'Call sentiment' }).click();
    await card.locator('pre.output').waitFor();
    await shot('catalog');
  }, 60_000);

  it('creates a team and a key, shows the secret once, and revokes the key', async () => {
    await page.getByRole('link', { name: 'Keys and teams' }).click();
    const teamForm = page.getByRole('form', { name: 'Create a team' });
    await teamForm.getByLabel('Name').fill('Data Science');
    await teamForm.getByLabel('Budget (USD)').fill('25');
    await teamForm.getByRole('button', { name: 'Create team' }).click();
    await page.locator('#teams-table th[data-col="name"]:text("Data Science")').waitFor();

    const keyForm = page.getByRole('form', { name: 'Create a key' });
    await keyForm.getByLabel('Name').fill('ci-bot');
    await keyForm.getByLabel('Team').selectOption('data-science');
    await keyForm.getByLabel('Budget (USD)').fill('5');
    await keyForm.getByLabel('Budget period').selectOption('day');
    await keyForm.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.locator('#new-key-secret').textContent())!;
    expect(secret).toMatch(/^sk-/);
    const { keys } = await admin<{ keys: Array<{ id: string; name: string; team: string; budget_usd: number; spend_usd: number; revoked_at: string | null }> }>('/admin/keys');
    const created = keys.find((k) => k.name === 'ci-bot')!;
    expect(created).toMatchObject({ team: 'data-science', budget_usd: 5, revoked_at: null });
    expect(JSON.stringify(keys)).not.toContain(secret);
    await shot('keys-secret');

    // The secret works, and its spend shows once the page reloads its list.
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: secret, maxRetries: 0 });
    await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'Billed to ci-bot' }] });
    await page.getByRole('button', { name: 'I have saved it' }).click();
    expect(await page.locator('#new-key-secret').count()).toBe(0);
    await page.reload();
    const row = page.locator('#keys-table tbody tr', { has: page.locator('th:text("ci-bot")') });
    await row.waitFor();
    expect(await page.content()).not.toContain(secret);
    const spent = (await admin<{ spend_usd: number }>(`/admin/keys/${created.id}`)).spend_usd;
    expect(spent).toBeGreaterThan(0);
    expect(await row.locator('td[data-col="spend"]').textContent()).toContain('of $5.00');

    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: 'Revoke key ci-bot' }).click();
    await expect.poll(() => row.locator('td[data-col="state"]').textContent()).toContain('revoked');
    expect((await admin<{ revoked_at: string | null }>(`/admin/keys/${created.id}`)).revoked_at).not.toBeNull();
    await expect(client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'after revoke' }] })).rejects.toMatchObject({ status: 401 });
    await shot('keys');
  }, 60_000);

  it('shows deployment health from /admin/deployments and refreshes it', async () => {
    // Three refused connections in a row cool the `flaky` deployment down.
    for (let i = 0; i < 3; i++) {
      await expect(gw.client.chat.completions.create({ model: 'flaky', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 502 });
    }
    await page.getByRole('link', { name: 'Deployments' }).click();
    const table = page.locator('#deployments-table');
    await table.waitFor();
    const { deployments } = await admin<{ deployments: Array<{ id: string; state: string; error_rate: number }> }>('/admin/deployments');
    expect(deployments.find((d) => d.id === 'flaky/0')).toMatchObject({ state: 'cooldown', error_rate: 1 });
    expect(await table.locator('tbody th[data-col="id"]').allTextContents()).toEqual(deployments.map((d) => d.id));
    const states = await table.locator('td[data-col="state"]').allTextContents();
    expect(states.slice(0, -1)).toEqual(deployments.slice(0, -1).map(() => '✓ healthy'));
    expect(states.at(-1)).toMatch(/^⚠ cooldown until \d\d:\d\d:\d\d UTC$/);
    expect(await table.locator('tr', { has: page.locator('th:text("flaky/0")') }).locator('td[data-col="error_rate"]').textContent()).toBe('100 %');
    expect(await page.getByRole('status').textContent()).toContain('1 of 4 deployments cooling down');
    await shot('deployments');

    // It refreshes by itself: the cooldown (5 s) runs out and the page says so.
    const first = await page.locator('#deployments-updated').textContent();
    await expect.poll(() => page.locator('#deployments-updated').textContent(), { timeout: 12_000, interval: 500 }).not.toBe(first);
  }, 60_000);

  it('signs out and forgets the key', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Master key').waitFor();
    expect(await page.evaluate("sessionStorage.getItem('konnect.masterKey')")).toBeNull();
    expect(pageErrors).toEqual([]);
  }, 30_000);

  it('asks to sign in again when the admin API stops accepting the stored key', async () => {
    await page.evaluate("sessionStorage.setItem('konnect.masterKey', 'sk-rotated-away')");
    await page.reload();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('no longer accepts this key');
    expect(await page.evaluate("sessionStorage.getItem('konnect.masterKey')")).toBeNull();
    expect(await page.getByRole('navigation').isVisible()).toBe(false);
  }, 30_000);
});
