/**
 * Prompt APIs over HTTP: input validation naming the field, answers on the mock provider,
 * what the provider receives (rendering, injection attempts), JSON output that is valid,
 * repaired once, or invalid twice (a scripted OpenAI-compatible upstream), streaming, versions,
 * custom paths, discovery (GET /prompts, /openapi.json) and hot reload of the prompts dir.
 */
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import type { LedgerRecord } from '../src/usage/ledger.js';
import { sendJson, startFakeServer, type FakeServer } from './fakes/fake-server.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { eventually } from './helpers/wait.js';

const MASTER = 'sk-master-prompts-test';

let dir: string;
let fake: FakeServer;
let gw: TestGateway;

/** An OpenAI chat completion answering `content`. */
function completion(content: string, usage = { prompt_tokens: 10, completion_tokens: 4 }) {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'fake-json-1',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

const answerWith = (content: string) => (_req: unknown, res: Parameters<typeof sendJson>[0]) => sendJson(res, 200, completion(content));

interface ChatBody {
  model: string;
  messages: Array<{ role: string; content: string }>;
  response_format?: { type: string; json_schema?: { name: string; schema: unknown } };
  temperature?: number;
}

const chatBodies = () => fake.requests.filter((r) => r.url.endsWith('/chat/completions')).map((r) => r.body as ChatBody);

async function writePrompt(file: string, spec: unknown): Promise<void> {
  await writeFile(join(dir, file), typeof spec === 'string' ? spec : toYaml(spec), 'utf8');
}

async function call(path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

async function getJson(path: string, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(`${gw.url}${path}`, { headers });
  expect(res.status).toBe(200);
  return res.json();
}

const sentimentV2 = {
  name: 'sentiment',
  version: 2,
  description: 'Classify the sentiment of a text',
  model: 'mock',
  input: {
    type: 'object',
    required: ['text'],
    additionalProperties: false,
    properties: { text: { type: 'string', maxLength: 50 }, language: { type: 'string' } },
  },
  messages: [
    { role: 'system', content: 'Answer with one word. Language: {{language}}' },
    { role: 'user', content: 'Text: {{text}}' },
  ],
  params: { temperature: 0 },
};

const contactSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'email'],
  properties: { name: { type: 'string' }, email: { type: 'string', format: 'email' } },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'konnect-prompts-'));
  await writePrompt('sentiment.yaml', sentimentV2);
  await writePrompt('sentiment.v1.yaml', {
    ...sentimentV2,
    version: 1,
    description: 'First version',
    input: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    messages: [{ role: 'user', content: 'v1 {{text}}' }],
  });
  await writePrompt('greet.yaml', {
    name: 'greet',
    path: 'team/hello',
    model: 'scripted',
    input: {
      type: 'object',
      required: ['user'],
      properties: {
        user: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 }, city: { type: 'string' } } },
        note: { type: 'string' },
      },
    },
    messages: [{ role: 'user', content: 'Greet {{user.name}} from {{user.city}}. Note: {{note}}' }],
    params: { temperature: 0.5, max_tokens: 50 },
  });
  await writePrompt('contact.yaml', {
    name: 'contact',
    description: 'Extract a contact',
    model: 'scripted',
    input: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    messages: [{ role: 'user', content: 'Extract: {{text}}' }],
    output: { type: 'json', schema: contactSchema },
  });
  await writePrompt('mock-contact.yaml', {
    name: 'mock-contact',
    model: 'mock',
    input: { type: 'object', properties: { text: { type: 'string' } } },
    messages: [{ role: 'user', content: '{{text}}' }],
    output: { type: 'json', schema: contactSchema },
  });
  await writePrompt('gated.yaml', { name: 'gated', model: 'mock', messages: [{ role: 'user', content: 'hi' }], approval: 'required' });
  await writePrompt('orphan.yaml', { name: 'orphan', model: 'no-such-group', messages: [{ role: 'user', content: 'hi' }] });
  await writePrompt('broken.yaml', 'name: broken\nmodel: [unclosed\n');
  await writePrompt('invalid.yaml', { name: 'invalid', model: 'mock', messages: [{ role: 'user', content: '{{who}}' }], input: { type: 'object', properties: {} } });
  await writePrompt('notes.txt', 'not a prompt');

  fake = await startFakeServer(answerWith('{"name":"Ada","email":"ada@example.com"}'));
  gw = await startGateway({
    auth: { master_key: MASTER },
    providers: { demo: { type: 'mock' }, fake: { type: 'openai-compatible', base_url: `${fake.url}/v1` } },
    models: [
      { name: 'mock', deployments: [{ provider: 'demo', model: 'mock-1' }] },
      { name: 'scripted', retries: 0, deployments: [{ provider: 'fake', model: 'fake-json-1', price: { input: 1, output: 2 } }] },
    ],
    prompts: { dir },
  });
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('POST /prompts/<name>', () => {
  it('answers with the prompt, version, model, provider, output, usage and cost', async () => {
    const res = await call('/prompts/sentiment', { text: 'I love it' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      prompt: 'sentiment',
      version: 2,
      model: 'mock-1',
      provider: 'demo',
      output: expect.stringContaining('Text: I love it'),
      cost_usd: 0,
    });
    expect(res.json.id).toMatch(/^prompt-/);
    const { usage } = res.json;
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    expect(res.headers.get('x-gateway-provider')).toBe('demo');
    expect(res.headers.get('x-gateway-model')).toBe('mock-1');
    expect(res.headers.get('x-gateway-attempts')).toBe('1');
    expect(res.headers.get('x-gateway-cost-usd')).toBe('0.000000000');
    expect(res.headers.get('x-request-id')).toBe(res.json.id.slice('prompt-'.length));
  });

  it('records the call on the ledger with route prompt:<name> and the model group', async () => {
    const records: LedgerRecord[] = [];
    const stop = gw.app.gateway.ledger.onRecord((record) => records.push(record));
    try {
      const res = await call('/prompts/team/hello', { user: { name: 'Ada' } }, { 'x-gateway-tags': 'demo' });
      expect(res.status).toBe(200);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        id: res.headers.get('x-request-id'),
        route: 'prompt:greet',
        model: 'scripted',
        provider: 'fake',
        upstream_model: 'fake-json-1',
        prompt_tokens: 10,
        completion_tokens: 4,
        status: 200,
        tags: ['demo'],
      });
    } finally {
      stop();
    }
  });

  it('reaches an older version at <name>@<version>, and 404s an unknown one', async () => {
    const v1 = await call('/prompts/sentiment@1', { text: 'meh' });
    expect(v1.status).toBe(200);
    expect(v1.json).toMatchObject({ prompt: 'sentiment', version: 1, output: expect.stringContaining('v1 meh') });
    const v2 = await call('/prompts/sentiment@2', { text: 'meh' });
    expect(v2.json.version).toBe(2);
    const missing = await call('/prompts/sentiment@7', { text: 'meh' });
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ type: 'not_found_error', code: 'not_found' });
  });

  it('404s an unknown prompt in the error shape', async () => {
    const res = await call('/prompts/nope', {});
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: { message: 'no prompt API at /prompts/nope', type: 'not_found_error', param: null, code: 'not_found' } });
  });

  it('validates the body against the input schema and names the failing field', async () => {
    const sentBefore = chatBodies().length;
    const missing = await call('/prompts/sentiment', { language: 'en' });
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({ error: { message: "'text' is required", type: 'invalid_request_error', param: 'text', code: 'missing_field' } });

    const wrongType = await call('/prompts/sentiment', { text: 42 });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.error).toMatchObject({ param: 'text', code: 'invalid_request', message: "'text' must be of type string" });

    const tooLong = await call('/prompts/sentiment', { text: 'x'.repeat(51) });
    expect(tooLong.json.error).toMatchObject({ param: 'text', message: "'text' must NOT have more than 50 characters" });

    const extra = await call('/prompts/sentiment', { text: 'ok', txt: 'typo' });
    expect(extra.status).toBe(400);
    expect(extra.json.error).toMatchObject({ param: 'txt', message: "'txt' is not an input of prompt 'sentiment'" });

    const nested = await call('/prompts/team/hello', { user: { city: 'Paris' } });
    expect(nested.status).toBe(400);
    expect(nested.json.error).toMatchObject({ param: 'user.name', code: 'missing_field', message: "'user.name' is required" });

    const notObject = await call('/prompts/sentiment', ['text']);
    expect(notObject.status).toBe(400);
    expect(notObject.json.error.type).toBe('invalid_request_error');

    const badJson = await fetch(`${gw.url}/prompts/sentiment`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":' });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as any).error.code).toBe('invalid_json');
    // Nothing invalid reached the provider.
    expect(chatBodies()).toHaveLength(sentBefore);
  });

  it('sends the rendered messages and params upstream: nested values, empty optionals, injected braces kept literal', async () => {
    const before = fake.requests.length;
    const res = await call('/prompts/team/hello', { user: { name: 'Ada {{note}} {{user.city}}' }, note: '{{user.name}}' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ prompt: 'greet', version: 1, model: 'fake-json-1', provider: 'fake' });
    expect(fake.requests).toHaveLength(before + 1);
    const body = chatBodies().at(-1)!;
    expect(body).toMatchObject({ model: 'fake-json-1', temperature: 0.5, max_tokens: 50 });
    expect(body.messages).toEqual([{ role: 'user', content: 'Greet Ada {{note}} {{user.city}} from . Note: {{user.name}}' }]);
    expect(body.response_format).toBeUndefined();
    // Usage as the provider reported it, priced with the deployment's price (USD per 1M tokens).
    expect(res.json.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 });
    expect(res.json.cost_usd).toBeCloseTo((10 * 1 + 4 * 2) / 1e6, 12);
  });

  it('is also served at /prompts/<name> when the file sets a path', async () => {
    const res = await call('/prompts/greet', { user: { name: 'Bo' } });
    expect(res.status).toBe(200);
    expect(res.json.prompt).toBe('greet');
  });

  it('refuses a prompt that needs approval to a caller without an approved subscription', async () => {
    const res = await call('/prompts/gated', {});
    expect(res.status).toBe(403);
    expect(res.json.error).toMatchObject({ type: 'permission_error', code: 'forbidden' });
    expect(res.json.error.message).toContain('subscription');
  });

  it('answers 503 when the prompt names a model the gateway does not have', async () => {
    const res = await call('/prompts/orphan', {});
    expect(res.status).toBe(503);
    expect(res.json.error.message).toContain("model 'no-such-group'");
  });

  it('accepts a POST without a body as no variables', async () => {
    const res = await call('/prompts/mock-contact');
    expect(res.status).toBe(200);
    expect(res.json.output).toEqual({ name: 'mock', email: 'mock@example.com' });
  });
});

describe('JSON output', () => {
  it('asks for json_schema output, then parses and validates the answer', async () => {
    const before = chatBodies().length;
    const res = await call('/prompts/contact', { text: 'Ada, ada@example.com' });
    expect(res.status).toBe(200);
    expect(res.json.output).toEqual({ name: 'Ada', email: 'ada@example.com' });
    expect(res.headers.get('x-gateway-attempts')).toBe('1');
    const sent = chatBodies().slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'contact', schema: contactSchema } });
  });

  it('accepts JSON wrapped in a Markdown fence', async () => {
    fake.enqueue(answerWith('```json\n{"name":"Bo","email":"bo@example.com"}\n```'));
    const res = await call('/prompts/contact', { text: 'Bo' });
    expect(res.status).toBe(200);
    expect(res.json.output).toEqual({ name: 'Bo', email: 'bo@example.com' });
  });

  it('repairs an invalid answer once: sends it back with the validation error', async () => {
    fake.enqueue(answerWith('{"name":"Ada","email":"not-an-email"}'));
    fake.enqueue(answerWith('{"name":"Ada","email":"ada@example.com"}'));
    const before = chatBodies().length;
    const res = await call('/prompts/contact', { text: 'Ada' });
    expect(res.status).toBe(200);
    expect(res.json.output).toEqual({ name: 'Ada', email: 'ada@example.com' });
    // Both upstream calls are counted and billed.
    expect(res.json.usage).toMatchObject({ prompt_tokens: 20, completion_tokens: 8, total_tokens: 28 });
    expect(res.json.cost_usd).toBeCloseTo((20 * 1 + 8 * 2) / 1e6, 12);
    expect(res.headers.get('x-gateway-attempts')).toBe('2');
    const [first, repair] = chatBodies().slice(before);
    expect(repair!.response_format).toEqual(first!.response_format);
    expect(repair!.messages.slice(0, -2)).toEqual(first!.messages);
    expect(repair!.messages.at(-2)).toEqual({ role: 'assistant', content: '{"name":"Ada","email":"not-an-email"}' });
    expect(repair!.messages.at(-1)!.role).toBe('user');
    expect(repair!.messages.at(-1)!.content).toContain('/email: must match format "email"');
  });

  it('repairs an answer that is not JSON at all', async () => {
    fake.enqueue(answerWith('Sure! The contact is Ada.'));
    fake.enqueue(answerWith('{"name":"Ada","email":"ada@example.com"}'));
    const before = chatBodies().length;
    const res = await call('/prompts/contact', { text: 'Ada' });
    expect(res.status).toBe(200);
    expect(chatBodies().slice(before)[1]!.messages.at(-1)!.content).toContain('not JSON');
  });

  it('answers 502 saying why when the repaired answer is still invalid', async () => {
    fake.enqueue(answerWith('{"name":"Ada"}'));
    fake.enqueue(answerWith('{"name":"Ada","email":"ada@example.com","extra":1}'));
    const before = chatBodies().length;
    const res = await call('/prompts/contact', { text: 'Ada' });
    expect(res.status).toBe(502);
    expect(res.json.error).toMatchObject({ type: 'api_error', code: 'upstream_invalid_response', param: null });
    expect(res.json.error.message).toContain('not valid after one repair attempt');
    expect(res.json.error.message).toContain('must NOT have additional properties "extra"');
    expect(res.headers.get('x-gateway-attempts')).toBe('2');
    expect(res.headers.get('x-gateway-provider')).toBe('fake');
    expect(chatBodies().slice(before)).toHaveLength(2);
  });

  it('keeps the upstream status when the repair call itself fails', async () => {
    fake.enqueue(answerWith('[]'));
    fake.enqueue((_req, res) => sendJson(res, 500, { error: { message: 'boom', type: 'server_error' } }));
    const res = await call('/prompts/contact', { text: 'Ada' });
    expect(res.status).toBe(502);
    expect(res.json.error.code).toBe('upstream_error');
    expect(res.headers.get('x-gateway-attempts')).toBe('2');
  });

  it('refuses to stream a JSON prompt', async () => {
    const res = await call('/prompts/contact?stream=true', { text: 'Ada' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ param: 'stream', type: 'invalid_request_error' });
  });
});

/** Reads an SSE body into its `data:` payloads. */
function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .map((frame) => frame.trim())
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice('data: '.length));
}

describe('streaming', () => {
  for (const [how, path, headers] of [
    ['?stream=true', '/prompts/sentiment?stream=true', {}],
    ['Accept: text/event-stream', '/prompts/sentiment', { accept: 'text/event-stream' }],
  ] as const) {
    it(`streams OpenAI chunks, a final usage chunk and [DONE] with ${how}`, async () => {
      const res = await call(path, { text: 'stream me' }, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      expect(res.headers.get('x-gateway-provider')).toBe('demo');
      const data = sseData(res.text);
      expect(data.at(-1)).toBe('[DONE]');
      const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
      expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
      const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
      expect(text).toContain('Text: stream me');
      const last = chunks.at(-1);
      expect(last.choices).toEqual([]);
      expect(last.usage.total_tokens).toBe(last.usage.prompt_tokens + last.usage.completion_tokens);
      expect(last.usage.completion_tokens).toBeGreaterThan(0);
    });
  }

  it('validates the input before streaming', async () => {
    const res = await call('/prompts/sentiment?stream=true', {});
    expect(res.status).toBe(400);
    expect(res.json.error.param).toBe('text');
  });

  it('does not stream with ?stream=false', async () => {
    const res = await call('/prompts/sentiment?stream=false', { text: 'x' }, { accept: 'text/event-stream' });
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.json.prompt).toBe('sentiment');
  });
});

describe('discovery', () => {
  it('GET /prompts lists every prompt with versions, route, model, input and output', async () => {
    const { prompts } = await getJson('/prompts');
    const names = prompts.map((p: { name: string }) => p.name);
    expect(names).toEqual(['contact', 'gated', 'greet', 'mock-contact', 'orphan', 'sentiment']);
    expect(prompts.find((p: { name: string }) => p.name === 'sentiment')).toEqual({
      name: 'sentiment',
      version: 2,
      versions: [2, 1],
      description: 'Classify the sentiment of a text',
      route: '/prompts/sentiment',
      model: 'mock',
      input: sentimentV2.input,
      output: { type: 'text' },
      approval: 'none',
    });
    expect(prompts.find((p: { name: string }) => p.name === 'greet').route).toBe('/prompts/team/hello');
    expect(prompts.find((p: { name: string }) => p.name === 'contact').output).toEqual({ type: 'json', schema: contactSchema });
  });

  it('reports files that could not be loaded, with path and fault, to the admin', async () => {
    const { faults } = await getJson('/admin/prompts', { authorization: `Bearer ${MASTER}` });
    const byFile = (file: string) => faults.filter((f: { path: string }) => f.path === join(dir, file)).map((f: { fault: string }) => f.fault);
    expect(byFile('broken.yaml')[0]).toMatch(/^not valid YAML/);
    expect(byFile('invalid.yaml')).toEqual(['/messages/0/content: {{who}} uses "who", which is not declared under input.properties']);
    expect(byFile('orphan.yaml')).toEqual(['/model: "no-such-group" is not available on this gateway; calls answer 503']);
    expect(faults.some((f: { path: string }) => f.path.endsWith('notes.txt'))).toBe(false);
    const listing = await fetch(`${gw.url}/admin/prompts`);
    expect(listing.status).toBe(401);
  });

  it('GET /openapi.json describes every prompt route from the registry', async () => {
    const doc = await getJson('/openapi.json');
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/prompts', '/prompts/sentiment', '/prompts/sentiment@1', '/prompts/team/hello', '/prompts/contact']),
    );
    const sentiment = doc.paths['/prompts/sentiment'].post;
    expect(sentiment.operationId).toBe('prompt_sentiment');
    expect(sentiment.summary).toBe('Classify the sentiment of a text');
    expect(sentiment.requestBody.content['application/json'].schema).toEqual(sentimentV2.input);
    expect(Object.keys(sentiment.responses['200'].content)).toEqual(['application/json', 'text/event-stream']);
    expect(sentiment.responses['400'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(doc.paths['/prompts/sentiment@1'].post).toMatchObject({ operationId: 'prompt_sentiment_v1', deprecated: true });
    const contact = doc.paths['/prompts/contact'].post;
    expect(contact.responses['200'].content['application/json'].schema.properties.output).toEqual(contactSchema);
    expect(contact.responses['200'].content['text/event-stream']).toBeUndefined();
    const ids = Object.values(doc.paths).flatMap((item: any) => Object.values(item).map((op: any) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.components.schemas.Error).toBeDefined();
  });
});

describe('hot reload', () => {
  const echo = (name: string, description: string, extra: Record<string, unknown> = {}) => ({
    name,
    description,
    model: 'mock',
    input: { type: 'object', properties: { text: { type: 'string' } } },
    messages: [{ role: 'user', content: `${description}: {{text}}` }],
    ...extra,
  });

  it('serves a file added while running, follows its edits and drops it when deleted', async () => {
    expect((await call('/prompts/live', { text: 'a' })).status).toBe(404);

    await writePrompt('live.yaml', echo('live', 'first'));
    await eventually(async () => {
      const res = await call('/prompts/live', { text: 'a' });
      expect(res.status).toBe(200);
      expect(res.json.output).toContain('first: a');
    });
    await eventually(async () => {
      const doc = await getJson('/openapi.json');
      expect(doc.paths['/prompts/live']).toBeDefined();
    });

    await writePrompt('live.yaml', echo('live', 'second', { version: 3 }));
    await eventually(async () => {
      const res = await call('/prompts/live', { text: 'b' });
      expect(res.json).toMatchObject({ version: 3, output: expect.stringContaining('second: b') });
    });

    await unlink(join(dir, 'live.yaml'));
    await eventually(async () => {
      expect((await call('/prompts/live', { text: 'c' })).status).toBe(404);
      const { prompts } = await getJson('/prompts');
      expect(prompts.map((p: { name: string }) => p.name)).not.toContain('live');
    });
  });

  it('keeps serving the others when a file turns bad, and reports it', async () => {
    await writePrompt('fragile.yaml', echo('fragile', 'ok'));
    await eventually(async () => expect((await call('/prompts/fragile', { text: 'x' })).status).toBe(200));

    await writePrompt('fragile.yaml', { ...echo('fragile', 'ok'), messages: [{ role: 'narrator', content: 'x' }] });
    await eventually(async () => {
      expect((await call('/prompts/fragile', { text: 'x' })).status).toBe(404);
      const { faults } = await getJson('/admin/prompts', { authorization: `Bearer ${MASTER}` });
      expect(faults).toContainEqual({
        path: join(dir, 'fragile.yaml'),
        fault: '/messages/0/role: must be equal to one of the allowed values (system, developer, user, assistant)',
      });
    });
    expect((await call('/prompts/sentiment', { text: 'still here' })).status).toBe(200);
    await unlink(join(dir, 'fragile.yaml'));
  });

  it('reports a second file with the same name and version and keeps the first', async () => {
    await writePrompt('sentiment.zz-copy.yaml', { ...sentimentV2, description: 'a copy' });
    await eventually(async () => {
      const { faults } = await getJson('/admin/prompts', { authorization: `Bearer ${MASTER}` });
      expect(faults).toContainEqual({ path: join(dir, 'sentiment.zz-copy.yaml'), fault: `sentiment@2 is already defined in ${join(dir, 'sentiment.yaml')}` });
    });
    const { prompts } = await getJson('/prompts');
    expect(prompts.find((p: { name: string }) => p.name === 'sentiment').description).toBe('Classify the sentiment of a text');
    await unlink(join(dir, 'sentiment.zz-copy.yaml'));
  });
});

