/**
 * Secrets in config the admin API shows: masked by where they sit, not by their names. Every
 * `api_key`, every header value sent upstream, and every URL's user name, password and query
 * values, in `GET /admin/config` (effective config and overlay), change answers and audit
 * entries, old audit entries included.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../src/config/load-config.js';
import { maskAuditEntry, maskConfig, maskEntry, maskUrl } from '../src/control/mask-secrets.js';
import { admin, MASTER } from './helpers/access.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

/** Values that must never come back from the admin API; none has a credential-like name. */
const SECRETS = {
  userinfo: 'tok-in-userinfo-7788',
  userOnly: 'ghp-user-only-token',
  code: 'oauth-code-3141',
  sig: 'sas-sig-2718',
  pass: 'upstream-pass-1618',
  sas: 'sv=2024&sig=blob-sas-0577',
  svcHeader: 'svc-header-secret-99',
  svcTarget: 'svc-target-pw-42',
  redis: 'redis-pw-1234',
  apiKey: 'sk-structure-0123456789-ABCD',
};

const seed = {
  auth: { master_key: MASTER },
  providers: {
    up: {
      type: 'openai-compatible',
      api_key: SECRETS.apiKey,
      base_url: `https://user:${SECRETS.userinfo}@up.example/v1?code=${SECRETS.code}&sig=${SECRETS.sig}`,
      headers: { 'x-upstream-pass': SECRETS.pass, 'x-ms-sas': SECRETS.sas },
    },
    demo: { type: 'mock' },
  },
  models: [{ name: 'vertex', deployments: [{ provider: 'demo', model: 'claude-3@20240229' }] }],
  services: [
    {
      name: 'svc',
      prefix: '/svc',
      targets: [{ url: `https://${SECRETS.userOnly}@svc.example/base?region=eu` }, { url: `http://admin:${SECRETS.svcTarget}@10.0.0.2:8080/` }],
      request_headers: { set: { 'x-upstream-pass': SECRETS.svcHeader } },
      response_headers: { set: { 'x-served-by': 'gateway' } },
    },
  ],
  prompts: { dir: '/nonexistent-prompts-dir' },
};

function expectNoSecret(value: unknown): void {
  const text = JSON.stringify(value);
  for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  // Fragments of the secrets too: a `&` in a header value must not leave half of it readable.
  expect(text).not.toContain('blob-sas');
}

describe('masking by structure', () => {
  test('URLs: user name, password and every query value, as written', () => {
    expect(maskUrl(`https://user:${SECRETS.userinfo}@host/v1`)).toBe('https://****:****@host/v1');
    expect(maskUrl(`https://${SECRETS.userOnly}@host/`)).toBe('https://****@host/');
    expect(maskUrl(`https://host/cb?code=${SECRETS.code}&sig=${SECRETS.sig}&state=`)).toBe('https://host/cb?code=****&sig=****&state=');
    expect(maskUrl('https://host/raw?SECRETTOKENAAAA')).toBe('https://host/raw?****');
    // References are no secret; their defaults are.
    expect(maskUrl('https://${PROXY_USER}:${PROXY_PASS:-hunter2}@host/?key=${GEMINI_KEY}')).toBe('https://${PROXY_USER}:${PROXY_PASS:-****}@host/?key=${GEMINI_KEY}');
    expect(maskUrl('https://host/v1')).toBe('https://host/v1');
    // Masking twice changes nothing (audit entries are masked again when read).
    expect(maskUrl(maskUrl(`redis://u:${SECRETS.redis}@r:6379/0?x=1`))).toBe('redis://****:****@r:6379/0?x=****');
  });

  test('a config: api keys anywhere, every upstream header value, every URL; other strings as they are', () => {
    const config = parseConfig({ ...seed, store: { redis_url: `redis://default:${SECRETS.redis}@r:6379` } });
    const masked = maskConfig(config);
    expectNoSecret(masked);
    expect(masked).toMatchObject({
      store: { redis_url: 'redis://****:****@r:6379' },
      providers: {
        up: {
          api_key: '****ABCD',
          base_url: 'https://****:****@up.example/v1?code=****&sig=****',
          headers: { 'x-upstream-pass': '****1618', 'x-ms-sas': '****0577' },
        },
      },
      models: [{ deployments: [{ model: 'claude-3@20240229' }] }],
      services: [
        {
          targets: [{ url: 'https://****@svc.example/base?region=****' }, { url: 'http://****:****@10.0.0.2:8080/' }],
          request_headers: { set: { 'x-upstream-pass': '****t-99' } },
          // Sent to every caller anyway: no secret.
          response_headers: { set: { 'x-served-by': 'gateway' } },
        },
      ],
    });
    expect(maskEntry('models', { deployments: [{ provider: 'demo', model: 'm', api_key: SECRETS.apiKey }] })).toEqual({ deployments: [{ provider: 'demo', model: 'm', api_key: '****ABCD' }] });
  });

  test('an audit entry written by an older gateway is masked again; others pass untouched', () => {
    const old = {
      action: 'config.providers.put',
      target: 'up',
      details: { request_id: 'r1', before: null, after: { type: 'openai', api_key: '****ABCD', headers: { 'x-ms-sas': SECRETS.sas }, base_url: `https://u:${SECRETS.userinfo}@h/` } },
    };
    const masked = maskAuditEntry(old);
    expectNoSecret(masked);
    expect(masked.details.after).toMatchObject({ api_key: '****ABCD', headers: { 'x-ms-sas': '****0577' }, base_url: 'https://****:****@h/' });
    const key = { action: 'key.create', target: 'k1', details: { name: 'sk-looking-name' } };
    expect(maskAuditEntry(key)).toBe(key);
  });
});

describe('over HTTP', () => {
  // Service targets may not carry credentials at all (the service validator refuses them).
  const service = { ...seed.services[0]!, targets: [{ url: 'https://svc.example/base' }] };
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ ...seed, services: [service] });
  });
  afterAll(async () => {
    await gw?.close();
  });

  test('GET /admin/config, a change, its answer and both audit listings show no secret', async () => {
    const put = await admin(gw.url, 'PUT', '/admin/config/providers/more', {
      type: 'openai-compatible',
      base_url: `https://${SECRETS.userOnly}@more.example/v1?sig=${SECRETS.sig}`,
      headers: { 'x-ms-sas': SECRETS.sas },
    });
    expect(put.status).toBe(201);
    expectNoSecret(put.body);
    expect(put.body.after).toMatchObject({ base_url: 'https://****@more.example/v1?sig=****', headers: { 'x-ms-sas': '****0577' } });

    const svc = await admin(gw.url, 'PUT', '/admin/config/services/svc', {
      ...service,
      name: undefined,
      request_headers: { set: { 'x-upstream-pass': `${SECRETS.svcHeader}-v2` } },
    });
    expect(svc.status).toBe(200);
    expectNoSecret(svc.body);

    const view = await admin(gw.url, 'GET', '/admin/config');
    expect(view.status).toBe(200);
    expectNoSecret(view.body);
    expect(view.body.config.providers.up.base_url).toBe('https://****:****@up.example/v1?code=****&sig=****');
    expect(view.body.overlay.providers.more.headers).toEqual({ 'x-ms-sas': '****0577' });

    // An entry an older gateway wrote, masked by names only, is masked again when listed.
    await gw.app.gateway.access.store.appendAudit({
      time: new Date().toISOString(),
      actor: 'master',
      ip: '127.0.0.1',
      action: 'config.providers.put',
      target: 'legacy',
      details: { request_id: 'legacy-1', before: null, after: { type: 'openai', headers: { 'x-upstream-pass': SECRETS.pass } } },
    });
    for (const path of ['/admin/config/audit', '/admin/audit']) {
      const audit = await admin(gw.url, 'GET', path);
      expect(audit.status).toBe(200);
      expectNoSecret(audit.body);
      const legacy = audit.body.entries.find((e: { target: string }) => e.target === 'legacy');
      expect(legacy.details.after.headers).toEqual({ 'x-upstream-pass': '****1618' });
    }
  });
});
