/**
 * Gemini's SDK puts the model name into the URL path unencoded, with the gateway's key on the
 * request: a name is a Gemini model id or the call is the caller's 400, and nothing reaches the
 * provider. Driven over HTTP against the fake Gemini, which records every request it receives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGeminiModelPath } from '../providers/gemini/index.js';
import { GatewayError } from '../src/core/errors.js';
import { startFakeGemini, type FakeGemini } from './fakes/gemini.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

let fake: FakeGemini;
let gw: TestGateway;

beforeAll(async () => {
  fake = await startFakeGemini();
  gw = await startGateway({
    // Direct names on: the path check must hold for any name a client can get to the adapter.
    providers: { gemini: { type: 'gemini', api_key: 'test-key', base_url: fake.url, direct: true } },
    models: [
      { name: 'gem', retries: 0, deployments: [{ provider: 'gemini', model: 'gemini-2.0-flash' }] },
      { name: 'misconfigured', retries: 0, deployments: [{ provider: 'gemini', model: '../v1/files' }] },
    ],
    prompts: { dir: '/nonexistent-prompts-dir' },
  });
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
});

async function post(path: string, body: unknown): Promise<{ status: number; error?: { code: string; param: string | null } }> {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as { error?: { code: string; param: string | null } };
  return { status: res.status, error: json.error };
}

const hello = [{ role: 'user', content: 'hi' }];

/** Names inside the request schema's character set that would leave `/v1beta/models/`. */
const escaping = [
  'gemini/../../admin/secret',
  'gemini/models/../../../admin/secret',
  'gemini/tunedModels/x/../../y',
  'gemini/..',
  'gemini/.hidden',
  'gemini/gemini-2.0-flash:streamGenerateContent',
  'gemini/user@example.com',
  'gemini/a+b',
  'misconfigured',
];

describe('Gemini model names in the URL path', () => {
  it.each(escaping)('refuses %s with 400 before any request reaches Gemini (chat, stream, embeddings)', async (model) => {
    const before = fake.requests.length;
    const plain = await post('/v1/chat/completions', { model, messages: hello });
    const streamed = await post('/v1/chat/completions', { model, messages: hello, stream: true });
    const embedded = await post('/v1/embeddings', { model, input: 'x' });
    for (const answer of [plain, streamed, embedded]) {
      expect(answer.status).toBe(400);
      expect(answer.error).toMatchObject({ code: 'invalid_request', param: 'model' });
    }
    expect(fake.requests.slice(before)).toEqual([]);
  });

  it('refuses what the request schema already cannot take (`?`, `#`, `%`) as 400 param model', async () => {
    for (const model of ['gem/../../admin/secret?x=', 'gemini/a#b', 'gemini/a%2F..']) {
      const answer = await post('/v1/chat/completions', { model, messages: hello });
      expect(answer).toMatchObject({ status: 400, error: { param: 'model' } });
    }
  });

  it('still reaches models/<id> and tunedModels/<id>', async () => {
    const before = fake.requests.length;
    expect((await post('/v1/chat/completions', { model: 'gemini/gemini-2.0-flash', messages: hello })).status).toBe(200);
    // The fake serves models/ only; what matters is the path the request took.
    await post('/v1/chat/completions', { model: 'gemini/tunedModels/my-tune-1', messages: hello });
    expect((await post('/v1/chat/completions', { model: 'gem', messages: hello })).status).toBe(200);
    expect(fake.requests.slice(before).map((r) => r.url)).toEqual([
      '/v1beta/models/gemini-2.0-flash:generateContent',
      '/v1beta/tunedModels/my-tune-1:generateContent',
      '/v1beta/models/gemini-2.0-flash:generateContent',
    ]);
  });
});

describe('toGeminiModelPath', () => {
  it('prefixes a bare id with models/ and keeps an explicit prefix', () => {
    expect(toGeminiModelPath('gemini-2.0-flash')).toBe('models/gemini-2.0-flash');
    expect(toGeminiModelPath('models/text-embedding-004')).toBe('models/text-embedding-004');
    expect(toGeminiModelPath('tunedModels/t.1_a-b')).toBe('tunedModels/t.1_a-b');
  });

  it('throws the caller 400 for anything that is not one id', () => {
    for (const name of ['', 'models/', 'a/b', '../x', 'x?y', 'x#y', 'x y', 'x%2e', 'projects/p/models/m', '-lead']) {
      expect(() => toGeminiModelPath(name), name).toThrow(GatewayError);
    }
  });
});
