/**
 * What the console is served from and reads, over HTTP without a browser: the /ui files with
 * their content types, validators and security headers (nothing outside src/ui reachable), and
 * GET /admin/models, which the Catalog page reads: the live model groups, no secrets, master key only.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureChromium, launchChromium } from './helpers/chromium.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { rawRequest } from './helpers/raw-http.js';

const MASTER = 'sk-master-ui-routes';
const UPSTREAM_SECRET = 'sk-upstream-secret-never-shown';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway({
    auth: { master_key: MASTER },
    providers: {
      demo: { type: 'mock' },
      // Reachable only through an unroutable address: nothing here calls it.
      paid: { type: 'openai', api_key: UPSTREAM_SECRET, base_url: 'http://127.0.0.1:9/v1', headers: { 'x-org': 'org-secret' } },
    },
    models: [
      { name: 'mock', deployments: [{ provider: 'demo', model: 'mock-1' }] },
      {
        name: 'smart',
        strategy: 'cost',
        retries: 1,
        timeout_ms: 5000,
        fallbacks: ['mock'],
        deployments: [
          { provider: 'paid', model: 'gpt-4o-mini', weight: 3, price: { input: 0.15, output: 0.6 }, limits: { rpm: 100 } },
          { provider: 'demo', model: 'mock-2', weight: 1 },
        ],
      },
    ],
  });
});

afterAll(async () => {
  await gw?.close();
});

const admin = (path: string, key = MASTER) => fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${key}` } });

describe('the console files', () => {
  it('redirects /ui to /ui/ and answers the page as HTML with a strict CSP', async () => {
    const redirect = await fetch(`${gw.url}/ui`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/ui/');

    const res = await fetch(`${gw.url}/ui/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).toBe(readFileSync(new URL('../src/ui/index.html', import.meta.url), 'utf8'));
    expect(html).toContain('<script type="module" src="./app.js">');
  });

  it('serves modules, styles and the chart library with their content types', async () => {
    const cases = [
      ['/ui/app.js', 'text/javascript; charset=utf-8'],
      ['/ui/pages/usage.js', 'text/javascript; charset=utf-8'],
      ['/ui/app.css', 'text/css; charset=utf-8'],
      ['/ui/vendor/uplot.esm.js', 'text/javascript; charset=utf-8'],
      ['/ui/vendor/uplot.min.css', 'text/css; charset=utf-8'],
    ] as const;
    for (const [path, type] of cases) {
      const res = await fetch(`${gw.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe(type);
      expect(res.headers.get('etag'), path).toMatch(/^"[\w-]{27}"$/);
    }
    const uplot = await (await fetch(`${gw.url}/ui/vendor/uplot.esm.js`)).text();
    expect(uplot).toContain('export { uPlot as default }');
  });

  it('answers 304 to a matching If-None-Match and the file again once it differs', async () => {
    const first = await fetch(`${gw.url}/ui/app.js`);
    const etag = first.headers.get('etag')!;
    const again = await fetch(`${gw.url}/ui/app.js`, { headers: { 'if-none-match': `"other", ${etag}` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const stale = await fetch(`${gw.url}/ui/app.js`, { headers: { 'if-none-match': '"stale"' } });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe(await first.text());
  });

  it('answers 404 for anything that is not a console file, traversal included', async () => {
    // node:http sends each path as written: fetch would resolve the dot segments first.
    const paths = ['/ui/nope.js', '/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json', '/ui/pages/../../routes/ui.ts', '/ui/vendor/uPlot.cjs.js'];
    for (const path of paths) {
      const res = await rawRequest(gw.url, { path });
      expect(res.status, path).toBe(404);
      expect(res.json<{ error: { code: string } }>().error.code, path).toBe('not_found');
      expect(res.text, path).not.toContain('"name": "konnect-gateway"');
    }
  });
});

describe('GET /admin/models', () => {
  it('lists groups with strategy and deployments, without keys, base URLs or headers', async () => {
    const res = await admin('/admin/models');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(UPSTREAM_SECRET);
    expect(text).not.toContain('127.0.0.1:9');
    expect(text).not.toContain('org-secret');
    const body = JSON.parse(text) as { models: unknown[] };
    expect(body.models).toEqual([
      {
        name: 'mock',
        strategy: 'weighted',
        retries: 2,
        timeout_ms: 30000,
        deadline_ms: null,
        fallbacks: [],
        deployments: [{ id: 'mock/0', provider: 'demo', type: 'mock', model: 'mock-1', weight: 1, price: { input: 0, output: 0 }, timeout_ms: 30000, limits: null }],
      },
      {
        name: 'smart',
        strategy: 'cost',
        retries: 1,
        timeout_ms: 5000,
        deadline_ms: null,
        fallbacks: ['mock'],
        deployments: [
          { id: 'smart/0', provider: 'paid', type: 'openai', model: 'gpt-4o-mini', weight: 3, price: { input: 0.15, output: 0.6 }, timeout_ms: 5000, limits: { rpm: 100 } },
          { id: 'smart/1', provider: 'demo', type: 'mock', model: 'mock-2', weight: 1, price: { input: 0, output: 0 }, timeout_ms: 5000, limits: null },
        ],
      },
    ]);
  });

  it('wants the master key', async () => {
    expect((await fetch(`${gw.url}/admin/models`)).status).toBe(401);
    expect((await admin('/admin/models', 'sk-wrong')).status).toBe(401);
  });
});

describe('the browser for the console tests', () => {
  it('is reported missing, with what to install, when it cannot be installed', () => {
    expect(ensureChromium({ path: '/nonexistent/chromium', mayInstall: false })).toMatch(/no Chromium at \/nonexistent\/chromium.*apt-get install -y chromium/);
  });

  it('fails the suite with a clear message instead of skipping when it is missing', async () => {
    await expect(launchChromium('/nonexistent/chromium')).rejects.toThrow(/need Debian's Chromium at \/nonexistent\/chromium.*apt-get install -y chromium/);
  });
});
