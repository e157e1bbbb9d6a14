/**
 * The Anthropic adapter speaks the Messages wire protocol itself (providers/shared/wire-client.ts),
 * so its SSE reading, its headers and its handling of answers that are not Anthropic's success
 * shape are checked here at the byte level, through the gateway, with the official `openai` SDK.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANTHROPIC_VERSION, anthropicStreamEvents, type AnthropicStreamEvent } from '../providers/anthropic/index.js';
import type { SseEvent } from '../providers/shared/wire-client.js';
import { DEFAULT_TEXT, buildMessage, errorBody, messageEvents, startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { apiErrorOf } from './helpers/http.js';
import { awkwardCuts, writeSse } from './helpers/sse-cuts.js';

const upstreamModel = 'claude-3-5-haiku-latest';
const hello = [{ role: 'user' as const, content: 'Hello?' }];
type Body = Record<string, unknown>;

/** Two-, three- and four-byte characters, an emoji with a modifier, and text either side. */
const WIDE_TEXT = 'Grüße aus Zürich — 日本語のテキスト 👋🏽 ¿Qué tal? Ça va ✓ fin.';

function configFor(baseUrl: string, extra: Record<string, unknown> = {}) {
  return {
    providers: { anthropic: { type: 'anthropic', api_key: 'test-key', base_url: baseUrl, ...extra } },
    models: [{ name: 'claude', retries: 0, deployments: [{ provider: 'anthropic', model: upstreamModel }] }],
  };
}

let fake: FakeAnthropic;
let gw: TestGateway;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  gw = await startGateway(configFor(fake.url));
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
});

/**
 * The real event sequence in CRLF framing, with what a parser must tolerate: comment lines
 * (between frames and inside one), extra `ping` events (one without its `event:` line), frames
 * without an `event:` line (the kind is the data's `type`) and `data:` without its space.
 */
function crlfStream(events: Array<{ event: string; data: unknown }>): string {
  const out: string[] = [': a comment before anything\r\n\r\n'];
  events.forEach((e, i) => {
    const data = JSON.stringify(e.data);
    if (i > 0 && i % 4 === 0) out.push('event: ping\r\ndata: {"type": "ping"}\r\n\r\n');
    if (i % 5 === 0) out.push('data: {"type":"ping"}\r\n\r\n');
    if (e.event === 'content_block_delta' && i % 3 === 0) out.push(`data: ${data}\r\n\r\n`);
    else if (e.event === 'content_block_delta' && i % 3 === 1) out.push(`event: ${e.event}\r\n: a comment inside a frame\r\ndata:${data}\r\n\r\n`);
    else out.push(`event: ${e.event}\r\ndata: ${data}\r\n\r\n`);
  });
  return out.join('');
}

/** A stream call through the gateway with plain fetch, to see its exact SSE text. */
async function rawStream(): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude', stream: true, messages: hello }),
  });
  return { status: res.status, text: await res.text() };
}

function dataLines(sse: string): string[] {
  return sse
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice(6));
}

describe('the Messages wire protocol', () => {
  it('sends the anthropic-version the installed @anthropic-ai/sdk sends', () => {
    const sdkEntry = createRequire(import.meta.url).resolve('@anthropic-ai/sdk');
    const client = readFileSync(join(dirname(sdkEntry), 'client.js'), 'utf8');
    const sent = /'anthropic-version':\s*'([^']+)'/.exec(client)?.[1];
    expect(sent).toBeTruthy();
    expect(ANTHROPIC_VERSION).toBe(sent);
  });

  it('posts to <base_url>/v1/messages with the SDK headers and the configured ones, base_url slash stripped', async () => {
    const own = await startGateway(configFor(`${fake.url}//`, { headers: { 'Anthropic-Beta': 'tools-2099-01-01', 'X-Proxy-Token': 'p-1' } }));
    try {
      const res = await own.client.chat.completions.create({ model: 'claude', messages: hello });
      expect(res.choices[0]?.message.content).toBe(DEFAULT_TEXT);
      const sent = fake.requests.at(-1)!;
      expect(sent.url).toBe('/v1/messages');
      expect(sent.headers).toMatchObject({
        'x-api-key': 'test-key',
        'anthropic-version': ANTHROPIC_VERSION,
        'content-type': 'application/json',
        'anthropic-beta': 'tools-2099-01-01',
        'x-proxy-token': 'p-1',
      });
      expect(sent.body).toEqual({ model: upstreamModel, max_tokens: 4096, messages: [{ role: 'user', content: 'Hello?' }] });
    } finally {
      await own.close();
    }
  });

  it('reads an SSE stream cut between \\r and \\n and inside UTF-8 characters, with comments and pings, to the exact text', async () => {
    const message = buildMessage({ content: [{ type: 'text', text: WIDE_TEXT }], usage: { input_tokens: 14, output_tokens: 12 } }, upstreamModel);
    const bytes = Buffer.from(crlfStream(messageEvents(message)), 'utf8');
    const cuts = awkwardCuts(bytes);
    // The cuts do what they claim: some pieces end on a bare \r, some inside a character.
    expect(cuts.filter((c) => bytes[c - 1] === 0x0d && bytes[c] === 0x0a).length).toBeGreaterThan(20);
    expect(cuts.filter((c) => (bytes[c] ?? 0) >= 0x80 && (bytes[c] ?? 0) < 0xc0).length).toBeGreaterThanOrEqual(15);

    let seen: Body | undefined;
    fake.enqueue(async (req, res) => {
      seen = req.body as Body;
      await writeSse(res, bytes, cuts);
    });
    const stream = await gw.client.chat.completions.create({ model: 'claude', messages: hello, stream: true, stream_options: { include_usage: true } });
    let text = '';
    const finishes: string[] = [];
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(WIDE_TEXT);
    expect(finishes).toEqual(['stop']);
    expect(usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 12, total_tokens: 26 });
    expect(seen).toMatchObject({ model: upstreamModel, stream: true });
    expect(fake.requests.at(-1)!.headers['anthropic-version']).toBe(ANTHROPIC_VERSION);
  });

  it('takes an event kind from the `event:` name or from the data, and skips pings (unit)', async () => {
    // Batches as the wire client yields them: the frames one socket read completed.
    async function* frames(): AsyncGenerator<SseEvent[]> {
      yield [{ event: 'ping', data: '{"type":"ping"}' }, { data: '{"type":"ping"}' }];
      yield [{ data: '' }, { event: 'message_stop', data: '{}' }];
      yield [{ data: '{"type":"content_block_stop","index":0}' }];
    }
    const out: AnthropicStreamEvent[] = [];
    for await (const event of anthropicStreamEvents(frames(), 'claude-eu')) out.push(event);
    expect(out).toEqual([{ type: 'message_stop' }, { type: 'content_block_stop', index: 0 }]);

    const read = async (frame: SseEvent) => {
      const one = (async function* () {
        yield [frame];
      })();
      for await (const event of anthropicStreamEvents(one, 'claude-eu')) void event;
    };
    await expect(read({ event: 'content_block_delta', data: '{"type":"content_bl' })).rejects.toMatchObject({ kind: 'protocol', provider: 'claude-eu' });
    await expect(read({ data: '42' })).rejects.toMatchObject({ kind: 'protocol', provider: 'claude-eu' });
    await expect(read({ event: 'error', data: 'upstream melted' })).rejects.toMatchObject({ kind: 'http', status: 500, body: 'upstream melted' });
  });
});

describe('answers that are not Anthropic success shapes', () => {
  it('turns a 200 with a garbage body into 502 upstream_invalid_response', async () => {
    fake.enqueue((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html><body>502 Bad Gateway (but with a 200)</body></html>');
    });
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'claude', messages: hello }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_invalid_response');
  });

  it('turns a 200 JSON body that is not a message into 502 upstream_invalid_response', async () => {
    fake.enqueue((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(errorBody('api_error', 'not a message')));
    });
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'claude', messages: hello }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_invalid_response');
  });

  it('turns a 200 message whose content blocks are not objects into 502 upstream_invalid_response', async () => {
    fake.enqueue((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...buildMessage({}, upstreamModel), content: [null] }));
    });
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'claude', messages: hello }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_invalid_response');
  });

  it('turns a stream whose first event is not JSON into 502 upstream_invalid_response, before any chunk', async () => {
    fake.enqueue((_req, res) => writeSse(res, Buffer.from('event: message_start\ndata: {"type":"message_start","message":{\n\n'), [7]));
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'claude', messages: hello, stream: true }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_invalid_response');
  });

  it('turns a 200 that is not an event stream into 502 upstream_invalid_response', async () => {
    fake.enqueue((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(buildMessage({}, upstreamModel)));
    });
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'claude', messages: hello, stream: true }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_invalid_response');
  });
});

describe('streams that fail after their headers went out', () => {
  /** The first five events (up to two text deltas) and then half of the sixth frame. */
  function headAndHalfFrame(): Buffer {
    const events = messageEvents(buildMessage({}, upstreamModel));
    const head = events.slice(0, 5).map((e) => `event: ${e.event}\r\ndata: ${JSON.stringify(e.data)}\r\n\r\n`);
    const next = `event: ${events[5]!.event}\r\ndata: ${JSON.stringify(events[5]!.data)}\r\n\r\n`;
    return Buffer.from(head.join('') + next.slice(0, Math.floor(next.length / 2)), 'utf8');
  }

  function expectErrorEnd(text: string): Body {
    expect(text).not.toContain('[DONE]');
    const data = dataLines(text);
    expect(data.length).toBeGreaterThan(1);
    const content = data
      .slice(0, -1)
      .map((d) => (JSON.parse(d) as { choices: Array<{ delta: { content?: string }; finish_reason: string | null }> }).choices[0])
      .filter((c) => c !== undefined);
    expect(content.every((c) => c.finish_reason === null)).toBe(true);
    expect(DEFAULT_TEXT.startsWith(content.map((c) => c.delta.content ?? '').join(''))).toBe(true);
    const last = JSON.parse(data.at(-1)!) as { error?: Body };
    expect(last.error).toBeDefined();
    return last.error!;
  }

  it('ends with one error event and no [DONE] when the upstream socket dies mid-frame', async () => {
    const bytes = headAndHalfFrame();
    fake.enqueue((_req, res) => writeSse(res, bytes, awkwardCuts(bytes), 'destroy'));
    const { status, text } = await rawStream();
    expect(status).toBe(200);
    expectErrorEnd(text);
  });

  it('ends with one error event and no [DONE] when the upstream closes cleanly mid-frame', async () => {
    const bytes = headAndHalfFrame();
    fake.enqueue((_req, res) => writeSse(res, bytes, [11, 200]));
    const { status, text } = await rawStream();
    expect(status).toBe(200);
    expect(String(expectErrorEnd(text).message)).toContain('message_stop');
  });

  it('makes the openai SDK raise, not finish, on a stream cut mid-frame', async () => {
    const bytes = headAndHalfFrame();
    fake.enqueue((_req, res) => writeSse(res, bytes, [64], 'destroy'));
    const stream = await gw.client.chat.completions.create({ model: 'claude', messages: hello, stream: true });
    let finished = false;
    const run = async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.finish_reason) finished = true;
    };
    await expect(run()).rejects.toThrow();
    expect(finished).toBe(false);
  });

  it('maps an `event: error` frame whose data is not JSON as the provider failing (500 → 502 wording)', async () => {
    const events = messageEvents(buildMessage({}, upstreamModel)).slice(0, 5);
    const body = events.map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`).join('') + 'event: error\ndata: upstream melted\n\n';
    fake.enqueue((_req, res) => writeSse(res, Buffer.from(body), [50]));
    const { status, text } = await rawStream();
    expect(status).toBe(200);
    expect(expectErrorEnd(text).message).toBe('anthropic failed with 500');
  });
});

describe('the adapter module', () => {
  it('loads no @anthropic-ai/sdk value and no SDK fetch transport', () => {
    const dir = fileURLToPath(new URL('../providers/anthropic/', import.meta.url));
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(dir, file), 'utf8');
      const imports = source.match(/^import\s[^;]*?from\s+'[^']+';/gms) ?? [];
      for (const line of imports) {
        if (line.includes("'@anthropic-ai/sdk")) expect(line, `${file}: ${line}`).toMatch(/^import\s+type\s/);
        expect(line, `${file}: ${line}`).not.toContain('http-transport');
      }
    }
  });
});
