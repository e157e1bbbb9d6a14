/**
 * `POST /v1/embeddings` in front of a fake OpenAI: the SDK's default base64 encoding end to
 * end, float arrays on request, input order, and the errors of models without embeddings.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeEmbedding, startFakeOpenAI, type FakeOpenAI } from './fakes/openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { closedPort } from './helpers/ports.js';

const KEY = 'sk-fake-openai';

let fake: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: KEY });
  gw = await startGateway({
    providers: {
      openai: { type: 'openai', api_key: KEY, base_url: `${fake.url}/v1` },
      // Never called: the anthropic adapter has no embeddings, so the gateway refuses first.
      claude: { type: 'anthropic', api_key: 'sk-ant-unused', base_url: `http://127.0.0.1:${await closedPort()}` },
    },
    models: [
      { name: 'embed', retries: 0, deployments: [{ provider: 'openai', model: 'text-embedding-3-small' }] },
      // Its own deployment: a 429's retry-after keeps the balancer away from it for a while.
      { name: 'embed-limited', retries: 0, deployments: [{ provider: 'openai', model: 'text-embedding-3-small' }] },
      { name: 'claude', retries: 0, deployments: [{ provider: 'claude', model: 'claude-3-5-haiku-latest' }] },
    ],
  });
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
});

/** What the fake's vector becomes after a float32 round trip. */
function asFloat32(vector: number[]): number[] {
  return Array.from(new Float32Array(vector));
}

describe('embeddings', () => {
  it('the SDK default (base64 on the wire) decodes to the fake’s vectors within float32 precision', async () => {
    const { data, response } = await gw.client.embeddings.create({ model: 'embed', input: 'héllo 🌍' }).withResponse();
    const expected = fakeEmbedding('héllo 🌍');
    expect(data.data).toHaveLength(1);
    const vector = data.data[0]!.embedding;
    expect(vector).toHaveLength(expected.length);
    expect(vector).toEqual(asFloat32(expected));
    vector.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 6));
    expect(data.model).toBe('text-embedding-3-small');
    expect(data.usage.prompt_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-gateway-provider')).toBe('openai');
    expect(response.headers.get('x-gateway-attempts')).toBe('1');
    expect(fake.embeddingBodies().at(-1)).toMatchObject({ model: 'text-embedding-3-small', input: 'héllo 🌍', encoding_format: 'base64' });
    expect(fake.requests.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('answers base64 to a raw client that asks for it: little-endian float32', async () => {
    const res = await fetch(`${gw.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'embed', input: 'abc', encoding_format: 'base64' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: Array<{ embedding: string }> };
    const bytes = Buffer.from(body.data[0]!.embedding, 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    expect(decoded).toEqual(asFloat32(fakeEmbedding('abc')));
  });

  it('encoding_format float answers arrays of numbers', async () => {
    const res = await gw.client.embeddings.create({ model: 'embed', input: 'abc', encoding_format: 'float' });
    const vector = res.data[0]!.embedding;
    expect(Array.isArray(vector)).toBe(true);
    vector.forEach((value, i) => expect(value).toBeCloseTo(fakeEmbedding('abc')[i]!, 6));
  });

  it('keeps the order of an array input', async () => {
    const inputs = ['a', 'four', 'seventeen letters', 'xy'];
    const res = await gw.client.embeddings.create({ model: 'embed', input: inputs, dimensions: 3 });
    expect(res.data.map((d) => d.index)).toEqual([0, 1, 2, 3]);
    expect(res.data.map((d) => d.embedding)).toEqual(inputs.map((text) => asFloat32(fakeEmbedding(text, 3))));
    expect(fake.embeddingBodies().at(-1)).toMatchObject({ input: inputs, dimensions: 3 });
  });

  it('an unknown model → 404', async () => {
    const err = await gw.client.embeddings.create({ model: 'nope', input: 'abc' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.APIError>).param).toBe('model');
  });

  it('a provider without embeddings → 400, and it is never called', async () => {
    const err = await gw.client.embeddings.create({ model: 'claude', input: 'abc' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.param).toBe('model');
    expect(apiError.message).toMatch(/no embeddings/);
  });

  it('a missing or empty input → 400 naming input', async () => {
    for (const body of [{ model: 'embed' }, { model: 'embed', input: [] }, { model: 'embed', input: '' }]) {
      const res = await fetch(`${gw.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { param: string; type: string } };
      expect(error.type).toBe('invalid_request_error');
      expect(error.param).toBe('input');
    }
  });

  it('an upstream failure keeps the upstream error mapping', async () => {
    fake.enqueueError(429, { message: 'Rate limit reached for text-embedding-3-small' }, { 'retry-after': '3' });
    const err = await gw.client.embeddings.create({ model: 'embed-limited', input: 'abc' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('3');
  });
});
