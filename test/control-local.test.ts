/**
 * The control plane without Redis: admin changes apply to the one instance; `?persist=true`
 * writes them back to the config file (a temp copy here), comments and the rest intact.
 * Calls already running when a change lands finish on the config they started with.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import { admin, MASTER } from './helpers/access.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { chatStatus } from './helpers/http.js';

const dir = mkdtempSync(join(tmpdir(), 'konnect-control-local-'));
const file = join(dir, 'gateway.yaml');
const WEBHOOK = 'https://hooks.example.com/services/T000/B000/XXXXSECRET';

const FILE_TEXT = `# The gateway of the control-local suite.
server: { log_level: silent }
auth:
  master_key: ${MASTER}
  budget_alert_webhook: ${WEBHOOK}
  config_env: [LOCAL_*]
providers:
  demo: { type: mock }   # offline
  slow: { type: mock, chunk_delay_ms: 40 }
models:
  # kept as it is
  - name: base
    deployments: [{ provider: demo, model: mock-base }]
  - name: streamy
    deployments: [{ provider: slow, model: mock-slow }]
prompts: { dir: /nonexistent-prompts-dir }
`;

let gw: TestGateway;
let bare: TestGateway;

beforeAll(async () => {
  writeFileSync(file, FILE_TEXT);
  gw = await startGateway(parseYaml(FILE_TEXT), { configPath: file, env: { LOCAL_KEY: 'sk-from-env' } });
  bare = await startGateway(parseYaml(FILE_TEXT));
});
afterAll(async () => {
  await Promise.all([gw?.close(), bare?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/** The parts of `GET /health` these tests read. */
interface Health {
  status: string;
  store: { type: string; status: string };
  config: { source: string; version: number; store: string; error: unknown };
}

describe('without Redis', () => {
  test('a change applies to this instance and leaves the file alone unless asked', async () => {
    const put = await admin(gw.url, 'PUT', '/admin/config/models/memory-only', { deployments: [{ provider: 'demo', model: 'mock-m' }] });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ version: 1, source: 'local', persisted: false });
    expect(await chatStatus(gw, 'memory-only')).toBe(200);
    expect(readFileSync(file, 'utf8')).toBe(FILE_TEXT);
    const health = (await (await fetch(`${gw.url}/health`)).json()) as Health;
    expect(health).toMatchObject({ store: { type: 'memory' }, config: { source: 'local', version: 1, store: 'memory' } });
  });

  test('persist=true writes the change to the config file, which still loads', async () => {
    const put = await admin(gw.url, 'PUT', '/admin/config/models/persisted?persist=true', { strategy: 'cost', deployments: [{ provider: 'demo', model: 'mock-p' }] });
    expect(put.status).toBe(201);
    expect(put.body.persisted).toBe(true);
    const provider = await admin(gw.url, 'PUT', '/admin/config/providers/keyed?persist=true', { type: 'openai', api_key: '${LOCAL_KEY}', base_url: 'http://127.0.0.1:9/v1' });
    expect(provider.status).toBe(201);
    expect(await chatStatus(gw, 'persisted')).toBe(200);

    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# The gateway of the control-local suite.');
    expect(text).toContain('# kept as it is');
    // The reference is written, not the secret it resolves to.
    expect(text).toContain('${LOCAL_KEY}');
    expect(text).not.toContain('sk-from-env');
    const reloaded = await loadConfig(file, { LOCAL_KEY: 'x' });
    expect(reloaded.models.map((m) => m.name)).toEqual(['base', 'streamy', 'persisted']);
    expect(reloaded.models[2]).toMatchObject({ strategy: 'cost' });
    expect(reloaded.providers.keyed).toMatchObject({ type: 'openai', api_key: 'x' });
    // Only what was persisted: the earlier in-memory change is not in the file.
    expect(text).not.toContain('memory-only');

    const del = await admin(gw.url, 'DELETE', '/admin/config/models/base?persist=true');
    expect(del.status).toBe(200);
    expect(await chatStatus(gw, 'base')).toBe(404);
    expect((await loadConfig(file, { LOCAL_KEY: 'x' })).models.map((m) => m.name)).toEqual(['streamy', 'persisted']);
  });

  test('a bad change writes nothing, and persist needs a known file', async () => {
    const before = readFileSync(file, 'utf8');
    const bad = await admin(gw.url, 'PUT', '/admin/config/providers/broken?persist=true', { type: 'openai-compatible', timeout: 3 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('/providers/broken/base_url');
    expect(bad.body.error.message).toContain('"timeout"');
    expect(readFileSync(file, 'utf8')).toBe(before);

    const unknown = await admin(bare.url, 'PUT', '/admin/config/models/x?persist=true', { deployments: [{ provider: 'demo', model: 'm' }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.param).toBe('persist');
    expect(await chatStatus(bare, 'x')).toBe(404);
    expect((await admin(bare.url, 'PUT', '/admin/config/models/x?persist=maybe', {})).status).toBe(400);
    expect((await admin(bare.url, 'PUT', '/admin/config/models/x', [1, 2])).status).toBe(400);
  });

  test('GET /admin/config shows the effective config with secrets masked; the admin API needs the master key', async () => {
    const view = await admin(gw.url, 'GET', '/admin/config');
    expect(view.status).toBe(200);
    const text = JSON.stringify(view.body);
    expect(text).not.toContain(MASTER);
    expect(text).not.toContain('XXXXSECRET');
    expect(text).not.toContain('sk-from-env');
    expect(view.body).toMatchObject({ source: 'local', store: 'memory', config_file: file });
    expect(view.body.config.auth).toMatchObject({ master_key: '****', budget_alert_webhook: 'https://hooks.example.com/****' });
    expect(view.body.config.models.map((m: { name: string }) => m.name)).toEqual(['streamy', 'memory-only', 'persisted']);
    expect(view.body.overlay.models).toMatchObject({ base: null, persisted: { strategy: 'cost' } });

    for (const [method, path] of [['GET', '/admin/config'], ['PUT', '/admin/config/models/x'], ['DELETE', '/admin/config/models/streamy'], ['GET', '/admin/config/audit']]) {
      const body = method === 'PUT' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {};
      const res = await fetch(`${gw.url}${path}`, { method, ...body });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    expect(await chatStatus(gw, 'streamy')).toBe(200);
  });

  test('a stream running when its group changes finishes on the config it started with', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'streamy', stream: true, messages: [{ role: 'user', content: 'a longer answer please' }] }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);

    // The group and its provider change under the stream: a different upstream model, then no group at all.
    expect((await admin(gw.url, 'PUT', '/admin/config/providers/slow', { type: 'mock', chunk_delay_ms: 1 })).status).toBe(200);
    expect((await admin(gw.url, 'PUT', '/admin/config/models/streamy', { deployments: [{ provider: 'slow', model: 'mock-other' }] })).status).toBe(200);
    expect((await admin(gw.url, 'DELETE', '/admin/config/models/streamy')).status).toBe(200);
    expect(await chatStatus(gw, 'streamy')).toBe(404);

    let text = new TextDecoder().decode(first.value);
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      text += new TextDecoder().decode(next.value);
    }
    expect(text).toContain('"model":"mock-slow"');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });
});
