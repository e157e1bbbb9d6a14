/**
 * `?persist=true` rewrites only the changed entry of the config file: comments, blank lines,
 * quoting and odd spacing elsewhere stay byte for byte. Deleting a provider or a group that
 * other groups still use is a 409 naming them, and writes nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { changeConfigText } from '../src/control/persist-file.js';
import { loadConfig } from '../src/config/load-config.js';
import { admin, MASTER } from './helpers/access.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const dir = mkdtempSync(join(tmpdir(), 'konnect-control-persist-'));
const file = join(dir, 'gateway.yaml');

const FILE_TEXT = `# The gateway of the persist suite.
server:    { log_level: silent }   # quiet

auth:
  master_key: '${MASTER}'
providers:
  demo:    { type: mock }     # offline, kept as written
  spare:
      type: mock
      chunk_delay_ms:   0   # odd spacing


  vllm: {type: openai-compatible, base_url: "http://127.0.0.1:9/v1"}
models:
    # the first group
    -   name: base
        deployments: [{ provider: demo, model: mock-base }]   # trailing


    - name: local
      fallbacks: [ base ]
      deployments:
          - provider: vllm
            model: "llama"
    - { name: other, deployments: [{provider: vllm, model: qwen}] }
prompts: { dir: /nonexistent-prompts-dir }
`;

let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway(parseYaml(FILE_TEXT), { configPath: file });
});
beforeEach(() => writeFileSync(file, FILE_TEXT));
afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The lines of `after` that are not in `before`, and the lines of `before` that are gone,
 * matched from both ends: everything outside the one changed span must be identical.
 */
function changedSpan(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  return { removed: a.slice(head, a.length - tail), added: b.slice(head, b.length - tail) };
}

describe('persist=true over HTTP', () => {
  test('changing a provider rewrites its line only', async () => {
    const put = await admin(gw.url, 'PUT', '/admin/config/providers/demo?persist=true', { type: 'mock', chunk_delay_ms: 5 });
    expect(put.status).toBe(200);
    expect(put.body.persisted).toBe(true);
    expect(changedSpan(FILE_TEXT, readFileSync(file, 'utf8'))).toEqual({
      removed: ['  demo:    { type: mock }     # offline, kept as written'],
      added: ['  demo:    { type: mock, chunk_delay_ms: 5 }     # offline, kept as written'],
    });
  });

  test('changing a block-style group rewrites the lines that changed, at their indentation', async () => {
    const put = await admin(gw.url, 'PUT', '/admin/config/models/local?persist=true', {
      fallbacks: ['base'],
      deployments: [{ provider: 'vllm', model: 'llama-3' }],
    });
    expect(put.status).toBe(200);
    const after = readFileSync(file, 'utf8');
    // Keys whose values did not change keep their text, down to the list's own indentation.
    expect(changedSpan(FILE_TEXT, after)).toEqual({ removed: ['            model: "llama"'], added: ['            model: llama-3'] });
    expect((await loadConfig(file)).models.find((m) => m.name === 'local')?.deployments[0]?.model).toBe('llama-3');
  });

  test('a new group is appended after the last one, in its style', async () => {
    await admin(gw.url, 'PUT', '/admin/config/models/added?persist=true', { deployments: [{ provider: 'demo', model: 'mock-added' }] });
    expect(changedSpan(FILE_TEXT, readFileSync(file, 'utf8'))).toEqual({
      removed: [],
      added: ['    - { name: added, deployments: [ { provider: demo, model: mock-added } ] }'],
    });
    await admin(gw.url, 'DELETE', '/admin/config/models/added');
  });

  test('deleting a provider nothing uses removes its lines only', async () => {
    const del = await admin(gw.url, 'DELETE', '/admin/config/providers/spare?persist=true');
    expect(del.status).toBe(200);
    expect(changedSpan(FILE_TEXT, readFileSync(file, 'utf8'))).toEqual({
      removed: ['  spare:', '      type: mock', '      chunk_delay_ms:   0   # odd spacing'],
      added: [],
    });
    await admin(gw.url, 'PUT', '/admin/config/providers/spare', { type: 'mock' });
  });
});

describe('deleting what others use', () => {
  test('a provider that model groups deploy on is a 409 naming them; nothing is written or applied', async () => {
    const del = await admin(gw.url, 'DELETE', '/admin/config/providers/vllm?persist=true');
    expect(del.status).toBe(409);
    expect(del.body.error).toEqual({
      message: "provider 'vllm' is still used by model groups 'local' and 'other' (in their deployments): change or delete those groups first",
      type: 'invalid_request_error',
      param: 'name',
      code: 'entry_in_use',
    });
    expect(readFileSync(file, 'utf8')).toBe(FILE_TEXT);
    const view = await admin(gw.url, 'GET', '/admin/config');
    expect(Object.keys(view.body.config.providers)).toContain('vllm');
  });

  test('a group that another falls back to is a 409 naming it', async () => {
    const del = await admin(gw.url, 'DELETE', '/admin/config/models/base');
    expect(del.status).toBe(409);
    expect(del.body.error.message).toBe("model group 'base' is still used by model group 'local' (as a fallback): change or delete that group first");
  });

  test('once its groups are gone, the provider can be deleted', async () => {
    expect((await admin(gw.url, 'DELETE', '/admin/config/models/local')).status).toBe(200);
    expect((await admin(gw.url, 'DELETE', '/admin/config/models/other')).status).toBe(200);
    expect((await admin(gw.url, 'DELETE', '/admin/config/providers/vllm')).status).toBe(200);
  });
});

describe('changeConfigText', () => {
  const text = 'models:\n- name: a\n  deployments: [{provider: demo, model: x}]\n- name: b   # b\n  deployments: [{provider: demo, model: y}]\nproviders:\n  demo: {type: mock}';

  test('a list written at the parent indentation keeps it', () => {
    const out = changeConfigText(text, 'models', 'c', { deployments: [{ provider: 'demo', model: 'z' }] });
    expect(changedSpan(text, out)).toEqual({ removed: [], added: ['- name: c', '  deployments:', '    - provider: demo', '      model: z'] });
  });

  test('deleting the last entry of a section leaves an empty one; a file without a final newline keeps none', () => {
    const out = changeConfigText(text, 'providers', 'demo', null);
    expect(out).toBe(text.replace('providers:\n  demo: {type: mock}', 'providers: {}'));
  });

  test('a section written inline is rewritten inline; a missing one is appended', () => {
    const inline = 'services: []\nmodels: [{name: a, deployments: []}]\n';
    expect(changeConfigText(inline, 'models', 'a', null)).toBe('services: []\nmodels: []\n');
    expect(changeConfigText(inline, 'services', 's', { prefix: '/s', targets: [] })).toBe(
      'services: [ { name: s, prefix: /s, targets: [] } ]\nmodels: [{name: a, deployments: []}]\n',
    );
    expect(changeConfigText(inline, 'providers', 'p', { type: 'mock' })).toBe(`${inline}providers:\n  p: { type: mock }\n`);
  });

  test('an unchanged entry leaves the file as it was', () => {
    expect(changeConfigText(text, 'models', 'b', { deployments: [{ provider: 'demo', model: 'y' }] })).toBe(text);
  });

  test('a key dropped from a block entry loses its lines; dropping the first key of a list item rewrites the item', () => {
    const withStrategy = 'models:\n- name: a\n  strategy: cost   # cheap\n  deployments: [{provider: demo, model: x}]\n';
    expect(changeConfigText(withStrategy, 'models', 'a', { deployments: [{ provider: 'demo', model: 'x' }] })).toBe(
      'models:\n- name: a\n  deployments: [{provider: demo, model: x}]\n',
    );
    const strategyFirst = 'models:\n- strategy: cost\n  name: a\n  deployments: [{provider: demo, model: x}]\n';
    expect(changeConfigText(strategyFirst, 'models', 'a', { deployments: [{ provider: 'demo', model: 'x' }] })).toBe(
      'models:\n- name: a\n  deployments:\n    - provider: demo\n      model: x\n',
    );
  });

  test('values that need quoting are quoted', () => {
    const out = changeConfigText(text, 'providers', 'demo', { type: 'openai', api_key: '${KEY}', base_url: 'http://h: x' });
    expect(parseYaml(out).providers.demo).toEqual({ type: 'openai', api_key: '${KEY}', base_url: 'http://h: x' });
  });
});
