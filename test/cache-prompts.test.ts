/**
 * Prompt APIs with a response cache and guardrails, over HTTP against a fake OpenAI: a prompt's
 * own `cache:` and `guardrails:`, its model group's when it has none, JSON output served from
 * the cache, streamed replays, and the ledger records of prompt hits. Runs on a real Redis.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { DEFAULT_TEXT, DEFAULT_USAGE, startFakeOpenAI, type FakeOpenAI } from './fakes/openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';

const MASTER = 'mk-cache-prompts';
const KEY = 'sk-fake-openai';
const PREFIX = uniquePrefix('cache-prompts');

let dir: string;
let fake: FakeOpenAI;
let gw: TestGateway;

const textInput = { type: 'object', required: ['text'], properties: { text: { type: 'string' } } };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'konnect-cache-prompts-'));
  const write = (name: string, spec: unknown) => writeFile(join(dir, `${name}.yaml`), toYaml(spec), 'utf8');
  await write('summarize', {
    name: 'summarize',
    model: 'fast',
    input: textInput,
    messages: [
      { role: 'system', content: 'Summarize in one line.' },
      { role: 'user', content: 'Text: {{text}}' },
    ],
    params: { temperature: 0 },
    cache: { ttl_s: 60 },
    guardrails: { pii: 'redact', deny: ['secret plan'] },
  });
  await write('extract', {
    name: 'extract',
    model: 'fast',
    input: textInput,
    messages: [{ role: 'user', content: 'Extract the name: {{text}}' }],
    params: { temperature: 0 },
    output: { type: 'json', schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } },
    cache: { ttl_s: 60 },
  });
  await write('classify', {
    name: 'classify',
    model: 'guarded',
    input: textInput,
    messages: [{ role: 'user', content: 'Classify: {{text}}' }],
    params: { temperature: 0 },
  });
  await write('muse', { name: 'muse', model: 'guarded', input: textInput, messages: [{ role: 'user', content: 'Muse on {{text}}' }] });

  fake = await startFakeOpenAI({ apiKey: KEY });
  const deployments = [{ provider: 'oa', model: 'gpt-4o-mini', price: { input: 0.15, output: 0.6 } }];
  gw = await startGateway({
    store: { redis_url: REDIS_URL, key_prefix: PREFIX },
    auth: { master_key: MASTER },
    prompts: { dir },
    providers: { oa: { type: 'openai', api_key: KEY, base_url: `${fake.url}/v1` } },
    models: [
      { name: 'fast', retries: 0, deployments },
      { name: 'guarded', retries: 0, cache: { ttl_s: 60 }, guardrails: { pii: 'block' }, deployments },
    ],
  });
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
  await dropPrefix(PREFIX);
});

async function call(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, cache: res.headers.get('x-gateway-cache'), cost: res.headers.get('x-gateway-cost-usd'), text, json: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
}

/** The content deltas and the usage of an SSE body. */
function readSse(text: string): { content: string; usage?: unknown; done: boolean } {
  let content = '';
  let usage: unknown;
  let done = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const data = line.slice(6);
    if (data === '[DONE]') {
      done = true;
      continue;
    }
    const chunk = JSON.parse(data) as { choices: Array<{ delta: { content?: string } }>; usage?: unknown };
    content += chunk.choices[0]?.delta.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  return { content, usage, done };
}

const unique = (text: string) => `${text} #${randomBytes(3).toString('hex')}`;

describe('prompt APIs with their own cache and guardrails', () => {
  it('answers a repeated prompt call from the cache, as JSON and as a stream', async () => {
    const before = fake.chatBodies().length;
    const body = { text: unique('Foxes are quick.') };
    const miss = await call('/prompts/summarize', body);
    expect(miss).toMatchObject({ status: 200, cache: 'miss' });
    expect(miss.json).toMatchObject({ prompt: 'summarize', output: DEFAULT_TEXT, provider: 'oa' });
    expect(miss.json.cost_usd).toBeGreaterThan(0);
    const hit = await call('/prompts/summarize', body);
    expect(hit).toMatchObject({ status: 200, cache: 'hit', cost: '0.000000000' });
    expect(hit.json).toMatchObject({ output: DEFAULT_TEXT, cost_usd: 0, usage: miss.json.usage, model: miss.json.model });
    const streamed = await call('/prompts/summarize?stream=true', body);
    expect(streamed.cache).toBe('hit');
    const sse = readSse(streamed.text);
    expect(sse).toMatchObject({ content: DEFAULT_TEXT, done: true });
    expect(sse.usage).toEqual(miss.json.usage);
    expect(fake.chatBodies().length).toBe(before + 1);
  });

  it('stores a streamed prompt answer for the next call', async () => {
    const body = { text: unique('Streams first.') };
    const live = await call('/prompts/summarize?stream=true', body);
    expect(live.cache).toBe('miss');
    expect(readSse(live.text)).toMatchObject({ content: DEFAULT_TEXT, done: true });
    const hit = await call('/prompts/summarize', body);
    expect(hit.cache).toBe('hit');
    expect(hit.json.output).toBe(DEFAULT_TEXT);
    expect(hit.json.usage).toMatchObject({ prompt_tokens: DEFAULT_USAGE.prompt_tokens, completion_tokens: DEFAULT_USAGE.completion_tokens });
  });

  it('serves validated JSON output from the cache', async () => {
    const body = { text: unique('Ann wrote this.') };
    fake.enqueueChat({ content: '{"name":"Ann"}' });
    const miss = await call('/prompts/extract', body);
    expect(miss).toMatchObject({ status: 200, cache: 'miss' });
    expect(miss.json.output).toEqual({ name: 'Ann' });
    const hit = await call('/prompts/extract', body);
    expect(hit).toMatchObject({ status: 200, cache: 'hit' });
    expect(hit.json.output).toEqual({ name: 'Ann' });
  });

  it('redacts rendered messages and refuses denied input before the provider sees them', async () => {
    const body = { text: unique('Mail ann.lee@example.com about it') };
    await call('/prompts/summarize', body);
    const sent = fake.lastChatBody().messages as Array<{ content: string }>;
    expect(sent[1]?.content).toMatch(/^Text: Mail \[EMAIL_1\] about it #/);
    const before = fake.chatBodies().length;
    const denied = await call('/prompts/summarize', { text: 'Here is the SECRET PLAN' });
    expect(denied.status).toBe(400);
    expect(denied.json.error).toMatchObject({ code: 'guardrail_violation', param: 'messages[1].content' });
    expect(denied.json.error.message).toContain("prompt 'summarize'");
    expect(fake.chatBodies().length).toBe(before);
  });
});

describe('prompt APIs on a model group with a cache and guardrails', () => {
  it("uses the group's cache and guardrails when the prompt has none", async () => {
    const body = { text: unique('Is this spam?') };
    expect((await call('/prompts/classify', body)).cache).toBe('miss');
    expect((await call('/prompts/classify', body)).cache).toBe('hit');
    const blocked = await call('/prompts/classify', { text: 'call me at +44 20 7946 0958' });
    expect(blocked.status).toBe(400);
    expect(blocked.json.error.message).toContain("model group 'guarded'");
    // No temperature: not deterministic, so the group's cache is bypassed.
    expect((await call('/prompts/muse', { text: 'the sea' })).cache).toBe('bypass');
  });

  it('records prompt hits on the ledger under the prompt route', async () => {
    const body = { text: unique('Ledger prompt') };
    await call('/prompts/summarize', body, { 'x-request-id': 'prompt-miss-1' });
    await call('/prompts/summarize', body, { 'x-request-id': 'prompt-hit-1' });
    await gw.app.gateway.ledger.flush();
    const res = await fetch(`${gw.url}/admin/logs?limit=1000`, { headers: { authorization: `Bearer ${MASTER}` } });
    const { records } = (await res.json()) as { records: Array<Record<string, unknown>> };
    const miss = records.find((r) => r.client_request_id === 'prompt-miss-1');
    const hit = records.find((r) => r.client_request_id === 'prompt-hit-1');
    expect(miss).toMatchObject({ route: 'prompt:summarize', model: 'fast', cache_hit: false, cache_status: 'miss' });
    expect(hit).toMatchObject({ route: 'prompt:summarize', model: 'fast', cache_hit: true, cache_status: 'hit', cost_usd: 0, saved_cost_usd: miss?.cost_usd });
  });
});
