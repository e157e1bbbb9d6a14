/**
 * `POST /v1/completions` (OpenAI's legacy text completion) driven by the official `openai` SDK's
 * `completions.create`, on the mock provider and on a wire-faithful fake Anthropic: the
 * `text_completion` answer plain and streamed, several prompts, the fields refused by name, and
 * the call recorded under route `completions` in the ledger, `/admin/usage` and `/metrics`.
 */
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { DEFAULT_TEXT, startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { apiErrorOf } from './helpers/http.js';

const MASTER = 'mk-completions-test';
const ledger = createMemoryLedger();
let anthropic: FakeAnthropic;
let gw: TestGateway;

beforeAll(async () => {
  anthropic = await startFakeAnthropic({ apiKey: 'sk-ant-fake' });
  gw = await startGateway(
    {
      auth: { master_key: MASTER },
      providers: {
        demo: { type: 'mock' },
        anthropic: { type: 'anthropic', api_key: 'sk-ant-fake', base_url: anthropic.url },
      },
      models: [
        { name: 'm', deployments: [{ provider: 'demo', model: 'mock-1' }] },
        { name: 'claude', retries: 0, deployments: [{ provider: 'anthropic', model: 'claude-3-5-haiku-latest' }] },
      ],
    },
    { ledger },
  );
});

afterAll(async () => {
  await gw?.close();
  await anthropic?.close();
});

async function collect(stream: AsyncIterable<OpenAI.Completion>): Promise<OpenAI.Completion[]> {
  const chunks: OpenAI.Completion[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

async function postRaw(body: unknown): Promise<{ status: number; body: { error?: { param: string | null; message: string; code: string } } }> {
  const res = await fetch(`${gw.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { error?: { param: string | null; message: string; code: string } } };
}

describe('legacy completions on the mock provider', () => {
  it('answers a text_completion whose text is the chat answer to the prompt', async () => {
    const { data, response } = await gw.client.completions.create({ model: 'm', prompt: 'Say hi', max_tokens: 50 }).withResponse();
    expect(data.id).toMatch(/^cmpl-/);
    expect(data.object).toBe('text_completion');
    expect(data.model).toBe('mock-1');
    expect(typeof data.created).toBe('number');
    expect(data.choices).toEqual([{ text: 'This is a mock answer from mock-1. You said: Say hi', index: 0, logprobs: null, finish_reason: 'stop' }]);
    expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
    expect(response.headers.get('x-gateway-provider')).toBe('demo');
    expect(response.headers.get('x-gateway-attempts')).toBe('1');
    expect(response.headers.get('x-gateway-cost-usd')).toBe('0.000000000');
  });

  it('caps the answer at 16 tokens when max_tokens is absent, as OpenAI does on this endpoint', async () => {
    const prompt = 'A rather long prompt that the mock echoes back past sixteen tokens of answer';
    const data = await gw.client.completions.create({ model: 'm', prompt });
    expect(data.choices[0]?.finish_reason).toBe('length');
    expect(data.usage?.completion_tokens).toBe(16);
    expect(data.choices[0]?.text).toHaveLength(64);
  });

  it('streams text_completion frames that add up to the plain answer, usage last when asked', async () => {
    const plain = await gw.client.completions.create({ model: 'm', prompt: 'Stream me', max_tokens: 50 });
    const chunks = await collect(await gw.client.completions.create({ model: 'm', prompt: 'Stream me', max_tokens: 50, stream: true, stream_options: { include_usage: true } }));
    expect(chunks.every((c) => c.object === 'text_completion' && c.id.startsWith('cmpl-'))).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const withText = chunks.filter((c) => c.choices[0]?.text);
    expect(withText.length).toBeGreaterThan(3);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(plain.choices[0]?.text);
    expect(chunks.at(-2)?.choices).toEqual([{ text: '', index: 0, logprobs: null, finish_reason: 'stop' }]);
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toEqual(plain.usage);
  });

  it('ends a stream with data: [DONE] and no usage frame unless asked', async () => {
    const res = await fetch(`${gw.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', prompt: 'Raw', stream: true }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const frames = (await res.text()).split('\n\n').filter(Boolean);
    expect(frames.at(-1)).toBe('data: [DONE]');
    expect(frames.slice(0, -1).every((f) => f.startsWith('data: {') && !f.includes('"usage"'))).toBe(true);
  });

  it('answers several prompts with n choices each, numbered prompt by prompt', async () => {
    const { data, response } = await gw.client.completions.create({ model: 'm', prompt: ['first', 'second'], n: 2, max_tokens: 50 }).withResponse();
    expect(data.choices.map((c) => [c.index, c.text])).toEqual([
      [0, 'This is a mock answer from mock-1. You said: first'],
      [1, 'This is a mock answer from mock-1. You said: first'],
      [2, 'This is a mock answer from mock-1. You said: second'],
      [3, 'This is a mock answer from mock-1. You said: second'],
    ]);
    const one = await gw.client.completions.create({ model: 'm', prompt: 'first', max_tokens: 50 });
    const two = await gw.client.completions.create({ model: 'm', prompt: 'second', max_tokens: 50 });
    expect(data.usage?.prompt_tokens).toBe(one.usage!.prompt_tokens + two.usage!.prompt_tokens);
    expect(response.headers.get('x-gateway-attempts')).toBe('2');
  });

  it('takes an array of one prompt, echo: false and best_of: 1 like a plain prompt', async () => {
    const data = await gw.client.completions.create({ model: 'm', prompt: ['only'], echo: false, best_of: 1, logprobs: null, suffix: null, max_tokens: 50 });
    expect(data.choices).toEqual([{ text: 'This is a mock answer from mock-1. You said: only', index: 0, logprobs: null, finish_reason: 'stop' }]);
  });
});

describe('legacy completions on Anthropic', () => {
  it('sends the prompt as one user turn with the sampling fields mapped, and answers its text', async () => {
    anthropic.enqueueMessage({});
    const { data, response } = await gw.client.completions
      .create({ model: 'claude', prompt: 'Bonjour', temperature: 0.2, stop: ['\n\n'], max_tokens: 40 })
      .withResponse();
    expect(data.choices).toEqual([{ text: DEFAULT_TEXT, index: 0, logprobs: null, finish_reason: 'stop' }]);
    expect(data.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 9, total_tokens: 30 });
    const sent = anthropic.lastMessageBody();
    expect(sent).toMatchObject({ model: 'claude-3-5-haiku-latest', messages: [{ role: 'user', content: 'Bonjour' }], max_tokens: 40, stop_sequences: ['\n\n'] });
    // The Anthropic adapter drops `temperature` and says so, on this route as on chat.
    expect(sent).not.toHaveProperty('temperature');
    expect(response.headers.get('x-gateway-warnings')).toContain('temperature');
  });

  it('sends the legacy default of 16 tokens and streams the answer with its finish reason', async () => {
    anthropic.enqueueMessage({ stop_reason: 'max_tokens' }, { cut: [7, 50, 3] });
    const chunks = await collect(await gw.client.completions.create({ model: 'claude', prompt: 'Stream', stream: true }));
    expect(anthropic.lastMessageBody()).toMatchObject({ max_tokens: 16, stream: true });
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(DEFAULT_TEXT);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
  });

  it('ends a stream that fails after it started with an error the SDK raises', async () => {
    anthropic.enqueueStreamError({}, 5); // message_start, block start, ping, two text deltas
    const stream = await gw.client.completions.create({ model: 'claude', prompt: 'Fail', stream: true });
    const err = await apiErrorOf(collect(stream));
    expect(err.message).toBe('anthropic failed with 529');
  });
});

describe('fields a chat model cannot honour', () => {
  const refused: Array<[string, Record<string, unknown>, string]> = [
    ['echo: true', { echo: true }, 'echo'],
    ['a suffix', { suffix: ' the end' }, 'suffix'],
    ['logprobs', { logprobs: 2 }, 'logprobs'],
    ['best_of above 1', { best_of: 3 }, 'best_of'],
    ['a logit_bias', { logit_bias: { '50256': -100 } }, 'logit_bias'],
    ['token ids', { prompt: [1, 2, 3] }, 'prompt'],
    ['lists of token ids', { prompt: [[1, 2], [3]] }, 'prompt'],
    ['several prompts streamed', { prompt: ['a', 'b'], stream: true }, 'prompt'],
    ['an empty prompt', { prompt: '' }, 'prompt'],
    ['an empty prompt list', { prompt: [] }, 'prompt'],
    ['no prompt', { prompt: undefined }, 'prompt'],
    ['17 prompts', { prompt: Array.from({ length: 17 }, (_, i) => `p${i}`) }, 'prompt'],
    ['more than 128 choices', { prompt: ['a', 'b'], n: 100 }, 'n'],
  ];

  it.each(refused)('refuses %s with a 400 naming the field', async (_what, fields, param) => {
    const res = await postRaw({ model: 'm', prompt: 'hello', ...fields });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ param, code: expect.stringMatching(/invalid_request|missing_field/) });
  });

  it('says why token ids are refused, through the SDK too', async () => {
    const err = await apiErrorOf(gw.client.completions.create({ model: 'm', prompt: [1, 2, 3] }));
    expect(err.status).toBe(400);
    expect(err.message).toContain('token-id prompts are not supported');
  });

  it('answers 404 in the gateway shape for a model it does not serve', async () => {
    const err = await apiErrorOf(gw.client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'x' }));
    expect(err.status).toBe(404);
    expect(err.error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });
});

describe('admission', () => {
  async function createKey(body: Record<string, unknown>): Promise<string> {
    const res = await fetch(`${gw.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { key: string }).key;
  }

  it('checks the key’s models and counts its calls like chat', async () => {
    const key = await createKey({ name: 'cmpl-limited', models: ['m'], rpm: 1 });
    const keyed = gw.client.withOptions({ apiKey: key });
    expect((await keyed.completions.create({ model: 'm', prompt: 'one', max_tokens: 50 })).choices).toHaveLength(1);
    const over = await apiErrorOf(keyed.completions.create({ model: 'm', prompt: 'two' }));
    expect(over.status).toBe(429);
    const forbidden = await apiErrorOf(keyed.completions.create({ model: 'claude', prompt: 'three' }));
    expect(forbidden.status).toBe(403);
  });

  it('reserves tokens for every prompt and choice: a tpm below their output cap refuses the call', async () => {
    const key = await createKey({ name: 'cmpl-tpm', tpm: 100 });
    const keyed = gw.client.withOptions({ apiKey: key });
    const err = await apiErrorOf(keyed.completions.create({ model: 'm', prompt: ['a', 'b', 'c'], n: 2, max_tokens: 20 }));
    expect(err.status).toBe(429);
    expect((await keyed.completions.create({ model: 'm', prompt: 'a', max_tokens: 20 })).choices).toHaveLength(1);
  });
});

describe('route `completions` in the ledger, reports and metrics', () => {
  it('records each call once under route completions, refusals included', async () => {
    await gw.client.completions.create({ model: 'm', prompt: 'ledger', max_tokens: 50 }, { headers: { 'x-request-id': 'cmpl-ledger-ok' } });
    await postRaw({ model: 'm', prompt: 'x', echo: true });
    await gw.app.gateway.ledger.flush();
    const ok = ledger.records().filter((r) => r.client_request_id === 'cmpl-ledger-ok');
    expect(ok).toMatchObject([{ route: 'completions', model: 'm', provider: 'demo', upstream_model: 'mock-1', status: 200 }]);
    expect(ledger.records().some((r) => r.route === 'completions' && r.status === 400 && r.error_code === 'invalid_request')).toBe(true);
  });

  it('reports route completions in /admin/usage and as a /metrics label', async () => {
    await gw.client.completions.create({ model: 'm', prompt: 'report', max_tokens: 50 });
    await gw.app.gateway.ledger.flush();
    const usage = (await (await fetch(`${gw.url}/admin/usage?group_by=route`, { headers: { authorization: `Bearer ${MASTER}` } })).json()) as {
      rows: Array<{ route: string; requests: number }>;
    };
    const completions = usage.rows.find((row) => row.route === 'completions');
    expect(completions?.requests).toBeGreaterThan(0);
    // Filtered by route and grouped by model: the same calls, now per model group.
    const filtered = (await (await fetch(`${gw.url}/admin/usage?route=completions&group_by=model`, { headers: { authorization: `Bearer ${MASTER}` } })).json()) as {
      rows: Array<{ model: string | null; requests: number }>;
      totals: { requests: number };
    };
    expect(filtered.totals.requests).toBe(completions?.requests);
    expect(filtered.rows.map((row) => row.model)).toEqual(expect.arrayContaining(['m', 'claude']));
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/konnect_requests_total\{route="completions",model="m",provider="demo",status="200"\} \d+/);
  });
});
