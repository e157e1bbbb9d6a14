/**
 * A configured model whose deployments are all switched off (their providers have no API key)
 * answers 503 `model_unavailable` naming the variable to set, on every route that takes a model
 * name; a name the config does not know stays a 404. Unusable groups are not listed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const dir = mkdtempSync(join(tmpdir(), 'konnect-model-unavailable-'));
const file = join(dir, 'gateway.yaml');

// The file names its own variables; the gateway must quote these, not the conventional names.
const FILE_TEXT = `server: { log_level: silent }
providers:
  demo: { type: mock }
  openai: { type: openai, api_key: "\${TEAM_OPENAI_KEY:-}" }
  claude: { type: anthropic, api_key: "\${TEAM_CLAUDE_KEY:-}", direct: ["claude-3-5-haiku*"] }
models:
  - name: gpt-4o
    deployments: [{ provider: openai, model: gpt-4o }]
  - name: mixed-off
    deployments: [{ provider: openai, model: gpt-4o-mini }, { provider: claude, model: claude-3-5-haiku-latest }]
  - name: half-on
    deployments: [{ provider: openai, model: gpt-4o-mini }, { provider: demo, model: mock-1 }]
prompts: { dir: ${JSON.stringify(join(dir, 'prompts'))} }
`;

const PROMPT = `name: ask
version: 1
model: gpt-4o
input: { type: object, properties: { q: { type: string } } }
messages:
  - { role: user, content: "{{q}}" }
`;

let gw: TestGateway;
let noFile: TestGateway;

beforeAll(async () => {
  writeFileSync(file, FILE_TEXT);
  const prompts = join(dir, 'prompts');
  mkdirSync(prompts);
  writeFileSync(join(prompts, 'ask.yaml'), PROMPT);
  gw = await startGateway(parseYaml(FILE_TEXT), { configPath: file });
  noFile = await startGateway(parseYaml(FILE_TEXT));
});
afterAll(async () => {
  await Promise.all([gw?.close(), noFile?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

async function post(url: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const chat = (url: string, model: string) => post(url, '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] });

describe('a configured model without a usable deployment', () => {
  test('chat answers 503 model_unavailable naming the provider and the variable the config reads', async () => {
    const res = await chat(gw.url, 'gpt-4o');
    expect(res.status).toBe(503);
    expect(res.body.error).toEqual({
      message: "The model 'gpt-4o' is configured but none of its deployments can be used: provider 'openai' has no API key (set TEAM_OPENAI_KEY)",
      type: 'api_error',
      param: 'model',
      code: 'model_unavailable',
    });
  });

  test('every switched-off provider of the group is named', async () => {
    const res = await chat(gw.url, 'mixed-off');
    expect(res.status).toBe(503);
    expect(res.body.error.message).toContain("provider 'openai' has no API key (set TEAM_OPENAI_KEY); provider 'claude' has no API key (set TEAM_CLAUDE_KEY)");
  });

  test('without the config file the conventional variable is named', async () => {
    const res = await chat(noFile.url, 'gpt-4o');
    expect(res.status).toBe(503);
    expect(res.body.error.message).toContain('(set OPENAI_API_KEY)');
  });

  test('a group with one usable deployment is served by it', async () => {
    expect((await chat(gw.url, 'half-on')).status).toBe(200);
  });

  test('a direct name the provider would allow is 503 too; one it would not, and unknown names, stay 404', async () => {
    const direct = await chat(gw.url, 'claude/claude-3-5-haiku-latest');
    expect(direct.status).toBe(503);
    expect(direct.body.error.message).toContain("provider 'claude' has no API key (set TEAM_CLAUDE_KEY)");
    for (const name of ['claude/claude-opus-4', 'openai/gpt-4o', 'no-such-model']) {
      const res = await chat(gw.url, name);
      expect(res.status, name).toBe(404);
      expect(res.body.error.code).toBe('model_not_found');
    }
  });

  test('responses and embeddings answer the same', async () => {
    const responses = await post(gw.url, '/v1/responses', { model: 'gpt-4o', input: 'hi' });
    expect(responses.status).toBe(503);
    expect(responses.body.error.code).toBe('model_unavailable');
    const embeddings = await post(gw.url, '/v1/embeddings', { model: 'gpt-4o', input: 'hi' });
    expect(embeddings.status).toBe(503);
    expect(embeddings.body.error.message).toContain('(set TEAM_OPENAI_KEY)');
    expect((await post(gw.url, '/v1/embeddings', { model: 'nope', input: 'hi' })).status).toBe(404);
  });

  test('a prompt whose model is switched off says so', async () => {
    const res = await post(gw.url, '/prompts/ask', { q: 'hi' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('model_unavailable');
    expect(res.body.error.message).toBe(
      "prompt 'ask' uses model 'gpt-4o', which is configured but none of its deployments can be used: provider 'openai' has no API key (set TEAM_OPENAI_KEY)",
    );
  });

  test('/v1/models lists only usable groups', async () => {
    const res = await fetch(`${gw.url}/v1/models`);
    const ids = ((await res.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
    expect(ids).toContain('half-on');
    expect(ids).not.toContain('gpt-4o');
    expect(ids).not.toContain('mixed-off');
    expect((await fetch(`${gw.url}/v1/models/gpt-4o`)).status).toBe(404);
  });
});
