/**
 * The console's Deployments page in Chromium: each provider has a "Check" button that calls
 * `POST /admin/providers/:name/check` and shows the answer: the model and latency, the
 * provider's own refusal, or why the gateway cannot ask (off for want of a key).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai.js';
import { launchChromium } from './helpers/chromium.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const MASTER = 'sk-master-ui-provider-check';
const SHOTS = fileURLToPath(new URL('../test-results/ui/', import.meta.url));

let upstream: FakeOpenAI;
let gw: TestGateway;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  gw = await startGateway({
    auth: { master_key: MASTER },
    providers: {
      demo: { type: 'mock' },
      paid: { type: 'openai', api_key: 'sk-revoked', base_url: `${upstream.url}/v1` },
      off: { type: 'openai', api_key: '' },
    },
    models: [
      { name: 'mock', deployments: [{ provider: 'demo', model: 'mock-1' }] },
      { name: 'gpt', deployments: [{ provider: 'paid', model: 'gpt-4o-mini' }, { provider: 'off', model: 'gpt-4o-mini' }] },
    ],
  });
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await upstream?.close();
});

it('checks each provider from the Deployments page and shows the answer', async () => {
  await page.goto(`${gw.url}/ui`);
  await page.getByLabel('Master key').fill(MASTER);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('h1:text("Usage")');
  await page.getByRole('link', { name: 'Deployments' }).click();
  await page.locator('#providers-table').waitFor();
  expect(await page.locator('#providers-table tbody th[data-col="name"]').allTextContents()).toEqual(['demo', 'paid', 'off']);
  // The page keeps one status region (the deployments' health), which its own test reads.
  expect(await page.getByRole('status').count()).toBe(1);

  const answer = (name: string) => page.locator(`.check-answer[data-provider="${name}"]`);
  await page.getByRole('button', { name: 'Check provider demo' }).click();
  await expect.poll(() => answer('demo').textContent()).toMatch(/^✓ mock-1: answered in [\d.,]+ ms$/);

  await page.getByRole('button', { name: 'Check provider paid' }).click();
  await expect.poll(() => answer('paid').textContent()).toMatch(/^⚠ gpt-4o-mini: HTTP 401: Incorrect API key provided/);

  await page.getByRole('button', { name: 'Check provider off' }).click();
  await expect.poll(() => answer('off').textContent()).toContain("provider 'off' is off for want of a key");
  expect(await answer('off').textContent()).toContain('OPENAI_API_KEY');
  mkdirSync(SHOTS, { recursive: true });
  await page.locator('section[aria-labelledby="providers-heading"]').screenshot({ path: `${SHOTS}deployments-provider-check.png` });
}, 60_000);
