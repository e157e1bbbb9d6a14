/**
 * Every error of the Messages routes in Anthropic's shape (`{"type":"error","error":{type,message}}`)
 * with the gateway's status, so `@anthropic-ai/sdk` raises its typed errors: no key, bad bodies,
 * unknown models, limits, upstream failures before and after a stream started, oversized and
 * crafted bodies. Other routes keep OpenAI's shape.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic.js';
import { admin, createKey, MASTER } from './helpers/access.js';
import { anthropicClient } from './helpers/anthropic-client.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

let fake: FakeAnthropic;
let gw: TestGateway;
let key: string;
let client: Anthropic;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  gw = await startGateway({
    server: { log_level: 'silent', body_limit_mb: 0.5 },
    auth: { master_key: MASTER, require_keys: true },
    providers: { demo: { type: 'mock' }, anthropic: { type: 'anthropic', api_key: 'test-key', base_url: fake.url } },
    models: [
      { name: 'free', deployments: [{ provider: 'demo', model: 'mock-free' }] },
      { name: 'claude', retries: 0, deployments: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
    ],
  });
  ({ key } = await createKey(gw.url, { name: 'agent' }));
  client = anthropicClient(gw.url, key);
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
});

/** The error a call raised; fails the test when it succeeded. */
async function errorOf(call: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Anthropic.APIError);
  return err as InstanceType<typeof Anthropic.APIError>;
}

const hi = { model: 'free', max_tokens: 10, messages: [{ role: 'user' as const, content: 'hi' }] };

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key, ...headers }, body });
  return { status: res.status, body: await res.json() };
}

describe('gateway keys on the Messages routes', () => {
  it('takes a gateway key as x-api-key (ANTHROPIC_API_KEY) and as Authorization: Bearer (ANTHROPIC_AUTH_TOKEN)', async () => {
    const presented: Array<Record<string, string>> = [{ 'x-api-key': key }, { authorization: `Bearer ${key}` }];
    for (const headers of presented) {
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
        body: JSON.stringify(hi),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ type: 'message', role: 'assistant' });
    }
    const auth = new Anthropic({ baseURL: gw.url, apiKey: null, authToken: key, maxRetries: 0 });
    expect((await auth.messages.countTokens({ model: 'free', messages: hi.messages })).input_tokens).toBeGreaterThan(0);
  });
});

describe('Messages errors in Anthropic shape', () => {
  it('401 without a key or with an unknown one: AuthenticationError', async () => {
    for (const apiKey of ['sk-unknown-key']) {
      const err = await errorOf(anthropicClient(gw.url, apiKey).messages.create(hi));
      expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
      expect(err.status).toBe(401);
      expect(err.error).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: 'Incorrect API key provided' } });
    }
    const res = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(hi) });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { request_id?: string };
    expect(body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(body.request_id).toBeTruthy();
    // count_tokens is behind the same key check.
    const counted = await errorOf(anthropicClient(gw.url, 'sk-unknown-key').messages.countTokens({ model: 'free', messages: hi.messages }));
    expect(counted).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('400 for a body the schema refuses, naming the field: BadRequestError', async () => {
    const noMax = await errorOf(client.messages.create({ model: 'free', messages: hi.messages } as never));
    expect(noMax).toBeInstanceOf(Anthropic.BadRequestError);
    expect(noMax.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: "'max_tokens' is required" } });

    const badBlock = await errorOf(
      client.messages.create({ ...hi, messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'AA' } }] }] } as never),
    );
    expect(badBlock).toBeInstanceOf(Anthropic.BadRequestError);
    expect((badBlock.error as any).error.message).toContain('messages[0].content[1].source.media_type');

    const unknownKind = await errorOf(
      client.messages.create({ ...hi, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', data: 'x', media_type: 'text/plain' } }] }] } as never),
    );
    expect((unknownKind.error as any).error.message).toContain("'messages[0].content[0].type' must be one of: text, image, tool_use, tool_result, thinking, redacted_thinking");

    const serverTool = await errorOf(client.messages.create({ ...hi, tools: [{ type: 'web_search_20250305', name: 'web_search' }] } as never));
    expect((serverTool.error as any).error.message).toContain("server tool 'web_search_20250305' is not offered");

    const misplaced = await errorOf(client.messages.create({ ...hi, messages: [{ role: 'user', content: [{ type: 'tool_use', id: 't', name: 'x', input: {} }] }] }));
    expect((misplaced.error as any).error.message).toContain('a tool_use block belongs to an assistant turn');
  });

  it('400 for invalid JSON and a body nested too deep; 413 for one over the body limit', async () => {
    expect(await post('/v1/messages', '{"model":')).toMatchObject({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error' } } });
    const deep = `{"model":"free","max_tokens":1,"messages":[{"role":"user","content":"x"}],"metadata":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`;
    expect(await post('/v1/messages', deep)).toMatchObject({ status: 400, body: { type: 'error', error: { type: 'invalid_request_error' } } });
    const tooLarge = await errorOf(client.messages.create({ ...hi, messages: [{ role: 'user', content: 'x'.repeat(600_000) }] }));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.error).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
  });

  it('a 100 KB model name is a clear 400 that does not echo the name', async () => {
    const name = 'm'.repeat(100_000);
    const err = await errorOf(client.messages.create({ ...hi, model: name }));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    const message: string = (err.error as any).error.message;
    expect(message).toMatch(/^'model' must NOT have more than \d+ characters$/);
    expect(message.length).toBeLessThan(200);
  });

  it('404 for a model the gateway does not serve: NotFoundError, on both routes', async () => {
    const err = await errorOf(client.messages.create({ ...hi, model: 'no-such-model' }));
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: "The model 'no-such-model' does not exist or is not configured on this gateway" } });
    const counted = await errorOf(client.messages.countTokens({ model: 'no-such-model', messages: hi.messages }));
    expect(counted).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('429 over a key rpm: RateLimitError with retry-after', async () => {
    const limited = await createKey(gw.url, { name: 'slow', rpm: 1 });
    const slow = anthropicClient(gw.url, limited.key);
    await slow.messages.create(hi);
    const err = await errorOf(slow.messages.create(hi));
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(Number(err.headers?.get('retry-after'))).toBeGreaterThan(0);
  });

  it('403 for a model the key may not use: PermissionDeniedError', async () => {
    const narrow = await createKey(gw.url, { name: 'narrow', models: ['claude'] });
    const err = await errorOf(anthropicClient(gw.url, narrow.key).messages.create(hi));
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
  });

  it('an upstream 5xx is a 502 api_error; a 400 keeps the provider message', async () => {
    fake.enqueueError(500, 'api_error', 'Internal server error');
    const err = await errorOf(client.messages.create({ ...hi, model: 'claude' }));
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect(err.status).toBe(502);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'api_error', message: 'anthropic failed with 500' } });

    fake.enqueueError(400, 'invalid_request_error', 'messages.0: bad thing');
    const bad = await errorOf(client.messages.create({ ...hi, model: 'claude' }));
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    expect(bad.error).toMatchObject({ error: { type: 'invalid_request_error', message: 'messages.0: bad thing' } });
  });

  it('a stream that fails after it started ends with an error event: the SDK raises, never finishes', async () => {
    // message_start, content_block_start, ping and two text deltas go out, then the upstream fails.
    fake.enqueueStreamError({}, 5, { type: 'overloaded_error', message: 'Overloaded' });
    const stream = client.messages.stream({ ...hi, model: 'claude' });
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    const err = await errorOf(stream.finalMessage());
    expect(text.length).toBeGreaterThan(0);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });

  it('keeps OpenAI shape on chat completions', async () => {
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'no-such-model', messages: hi.messages }));
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { type: 'not_found_error', code: 'model_not_found' } });
    expect(res.body.type).toBeUndefined();
    expect((await admin(gw.url, 'GET', '/admin/keys')).status).toBe(200);
  });
});
