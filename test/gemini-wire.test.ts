/**
 * The Gemini adapter on the wire (undici + the shared SSE parser, no SDK): SSE cut at awkward
 * byte boundaries, 200s that are not Gemini's success shape, streams cut mid-frame, in-stream
 * error events, the request's URL and headers, and the keep-alive pool. Driven through the
 * gateway with the official `openai` SDK (or raw HTTP where the SSE bytes themselves matter).
 */
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { sendJson, sendSseSplit } from './fakes/fake-server.js';
import { MODEL_VERSION, startFakeGemini, textResponse, toStreamEvents, type FakeGemini, type WireResponse } from './fakes/gemini.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { apiErrorOf } from './helpers/http.js';

type Ledger = ReturnType<typeof createMemoryLedger>;

/** Two-, three- and four-byte UTF-8, a ZWJ sequence and combining marks: a cut can land inside any of them. */
const AWKWARD = 'Grüße 👩‍👩‍👧 naïve — 日本語のテキスト, ёжик, 𝄞 e\u0301\u0301 déjà vu 🌍!';

function gatewayConfig(baseUrl: string, extra: { retries?: number; headers?: Record<string, string> } = {}) {
  return {
    providers: { gemini: { type: 'gemini', api_key: 'test-key', base_url: baseUrl, ...(extra.headers ? { headers: extra.headers } : {}) } },
    models: [
      { name: 'gem', retries: extra.retries ?? 0, deployments: [{ provider: 'gemini', model: 'gemini-2.0-flash' }] },
      { name: 'gem-embed', retries: 0, deployments: [{ provider: 'gemini', model: 'text-embedding-004' }] },
    ],
  };
}

const hello = [{ role: 'user' as const, content: 'Say hello' }];

let fake: FakeGemini;
let gw: TestGateway;
let ledger: Ledger;

beforeEach(async () => {
  fake = await startFakeGemini();
  ledger = createMemoryLedger();
  gw = await startGateway(gatewayConfig(fake.url), { ledger });
});

afterEach(async () => {
  await gw.close();
  await fake.close();
});

/** Gemini-style SSE (`data: {json}` then a blank line) with the given line break. */
function sseBody(events: WireResponse[], eol = '\r\n'): string {
  return events.map((event) => `data: ${JSON.stringify(event)}${eol}${eol}`).join('');
}

/** Answers the next request with `body` as SSE, written in pieces of the given byte sizes. */
function streamNext(body: string, cut: number[]): void {
  fake.enqueue((_req, res) => sendSseSplit(res, body, { cut }));
}

/** Byte offsets of `body` that fall inside a multi-byte UTF-8 character or between `\r` and `\n`. */
function awkwardOffsets(body: string): number[] {
  const bytes = Buffer.from(body, 'utf8');
  const offsets: number[] = [];
  for (let i = 1; i < bytes.length; i++) {
    const continuation = (bytes[i]! & 0xc0) === 0x80;
    const insideCrlf = bytes[i - 1] === 0x0d && bytes[i] === 0x0a;
    if (continuation || insideCrlf) offsets.push(i);
  }
  return offsets;
}

/** Piece sizes that end a piece at each of `offsets`. */
function piecesAt(offsets: number[], total: number): number[] {
  const sizes: number[] = [];
  let last = 0;
  for (const offset of [...offsets, total]) {
    if (offset > last) sizes.push(offset - last);
    last = offset;
  }
  return sizes;
}

async function streamedText(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { chunks, text: chunks.map((c) => c.choices[0]?.delta.content ?? '').join('') };
}

/** The text deltas in the raw SSE the gateway wrote. */
function deltaText(sse: string): string {
  return sse
    .split('\n')
    .filter((line) => line.startsWith('data: {"id"'))
    .map((line) => (JSON.parse(line.slice('data: '.length)) as OpenAI.Chat.Completions.ChatCompletionChunk).choices[0]?.delta.content ?? '')
    .join('');
}

/** The raw SSE text the gateway wrote for one streamed chat call. */
async function rawStream(): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gem', messages: hello, stream: true }),
  });
  return { status: res.status, text: await res.text() };
}

describe('SSE at awkward byte boundaries', () => {
  it('has offsets to test: inside multi-byte characters and inside CRLF', () => {
    const body = sseBody(toStreamEvents(textResponse(AWKWARD)));
    const bytes = Buffer.from(body, 'utf8');
    const offsets = awkwardOffsets(body);
    expect(offsets.some((i) => bytes[i - 1] === 0x0d)).toBe(true);
    expect(offsets.some((i) => (bytes[i]! & 0xc0) === 0x80)).toBe(true);
  });

  it('streams the exact text when every piece ends inside a character or between \\r and \\n', async () => {
    const body = sseBody(toStreamEvents(textResponse(AWKWARD, { usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 30, totalTokenCount: 37 } })));
    streamNext(body, piecesAt(awkwardOffsets(body), Buffer.byteLength(body)));
    const { chunks, text } = await streamedText(
      await gw.client.chat.completions.create({ model: 'gem', messages: hello, stream: true, stream_options: { include_usage: true } }),
    );
    expect(text).toBe(AWKWARD);
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0]!.finish_reason)).toEqual(['stop']);
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 30, total_tokens: 37 });
    expect(ledger.records().at(-1)).toMatchObject({ status: 200, usage_source: 'reported' });
  });

  it.each([
    ['one byte at a time, CRLF', '\r\n', [1]],
    ['odd sizes, LF', '\n', [1, 7, 3, 13, 2, 31, 5]],
    ['odd sizes, CRLF', '\r\n', [2, 5, 1, 11]],
  ])('streams the exact text: %s', async (_label, eol, cut) => {
    streamNext(sseBody(toStreamEvents(textResponse(AWKWARD)), eol), cut);
    const { text, chunks } = await streamedText(await gw.client.chat.completions.create({ model: 'gem', messages: hello, stream: true }));
    expect(text).toBe(AWKWARD);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks[0]!.model).toBe(MODEL_VERSION);
  });
});

describe('a 200 that is not Gemini success shape', () => {
  const garbage: Array<[string, (res: import('node:http').ServerResponse) => void]> = [
    ['invalid JSON', (res) => sendRaw(res, 'application/json', '{"candidates": [ oops')],
    ['an HTML page', (res) => sendRaw(res, 'text/html', '<html><body>Proxy says hi</body></html>')],
    ['a JSON array', (res) => sendJson(res, 200, [1, 2, 3])],
    ['JSON null', (res) => sendRaw(res, 'application/json', 'null')],
    ['candidates of the wrong type', (res) => sendJson(res, 200, { candidates: 'none' })],
    ['parts of the wrong type', (res) => sendJson(res, 200, { candidates: [{ content: { parts: 7 }, finishReason: 'STOP' }] })],
    ['no candidate at all', (res) => sendJson(res, 200, { usageMetadata: { promptTokenCount: 1, totalTokenCount: 1 } })],
  ];

  it.each(garbage)('answers 502 upstream_invalid_response to %s (chat)', async (_label, send) => {
    fake.enqueue((_req, res) => send(res));
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'gem', messages: hello }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_invalid_response');
    expect(err.message).not.toContain('127.0.0.1');
    expect(ledger.records().at(-1)).toMatchObject({ status: 502, error_code: 'upstream_invalid_response' });
  });

  it.each([
    ['an event that is not JSON', 'data: {"candidates": [\r\n\r\n'],
    ['an event that is a JSON string', 'data: "hello"\r\n\r\n'],
    ['an event with candidates of the wrong type', 'data: {"candidates": 5}\r\n\r\n'],
  ])('answers a stream whose first event is %s with 502 before any chunk', async (_label, body) => {
    fake.enqueue((_req, res) => sendSseSplit(res, body, { cut: [3] }));
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'gem', messages: hello, stream: true }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_invalid_response');
  });

  it('answers a stream call answered with a JSON 200 (not an event stream) with 502', async () => {
    fake.enqueue((_req, res) => sendJson(res, 200, textResponse('not a stream')));
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'gem', messages: hello, stream: true }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_invalid_response');
  });

  it.each([
    ['a single input', 'one text', { embedding: { values: 'nope' } }],
    ['a batch', ['a', 'b'], { embeddings: [{ values: [0.5] }] }],
  ])('answers embeddings for %s with 502 when the vectors are missing', async (_label, input, body) => {
    fake.enqueue((_req, res) => sendJson(res, 200, body));
    const err = await apiErrorOf(gw.client.embeddings.create({ model: 'gem-embed', input, encoding_format: 'float' }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_invalid_response');
  });
});

describe('a stream cut mid-frame', () => {
  const events = toStreamEvents(textResponse('First words arrive, then the connection dies in the middle of a frame.'));
  const body = sseBody(events);
  /** Through the first two whole events and 25 bytes into the third. */
  const midFrame = Buffer.byteLength(sseBody(events.slice(0, 2))) + 25;

  it('ends with one error event and no [DONE] when the socket dies', async () => {
    fake.cutStream(midFrame, textResponse('First words arrive, then the connection dies in the middle of a frame.'));
    const { status, text } = await rawStream();
    expect(status).toBe(200);
    expect(deltaText(text)).toMatch(/^First words/);
    const lines = text.split('\n').filter((line) => line.startsWith('data: '));
    const errors = lines.filter((line) => line.startsWith('data: {"error":'));
    expect(errors).toHaveLength(1);
    expect(lines.at(-1)).toBe(errors[0]);
    expect(text).not.toContain('[DONE]');
    expect(JSON.parse(errors[0]!.slice('data: '.length))).toMatchObject({ error: { type: 'api_error' } });
    expect(ledger.records().at(-1)).toMatchObject({ status: 502, usage_source: 'estimated' });
  });

  it('ends with one error event and no [DONE] when the upstream closes cleanly mid-frame', async () => {
    fake.enqueue((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(Buffer.from(body, 'utf8').subarray(0, midFrame));
    });
    const { text } = await rawStream();
    expect(deltaText(text)).toMatch(/^First words/);
    expect(text.split('\n').filter((line) => line.startsWith('data: {"error":'))).toHaveLength(1);
    expect(text).not.toContain('[DONE]');
    expect(ledger.records().at(-1)).toMatchObject({ status: 502, error_code: 'upstream_invalid_response' });
  });

  it('makes the openai SDK raise an APIError, not a clean finish', async () => {
    fake.cutStream(midFrame, textResponse('First words arrive, then the connection dies in the middle of a frame.'));
    const stream = await gw.client.chat.completions.create({ model: 'gem', messages: hello, stream: true });
    await expect(streamedText(stream)).rejects.toBeInstanceOf(OpenAI.APIError);
  });
});

describe('error events inside a stream', () => {
  const overloaded = { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } };

  it('treats an error event before any text as a failed attempt, retried elsewhere', async () => {
    const retrying = await startGateway(gatewayConfig(fake.url, { retries: 1 }), { ledger });
    try {
      fake.enqueue((_req, res) => sendSseSplit(res, `data: ${JSON.stringify(overloaded)}\r\n\r\n`));
      const { data, response } = await retrying.client.chat.completions.create({ model: 'gem', messages: hello, stream: true }).withResponse();
      expect((await streamedText(data)).text.length).toBeGreaterThan(0);
      expect(response.headers.get('x-gateway-attempts')).toBe('2');
    } finally {
      await retrying.close();
    }
  });

  it('keeps a 429 error event as 429 with retry-after from RetryInfo', async () => {
    const quota = {
      error: {
        code: 429,
        message: 'You exceeded your current quota.',
        status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '4.5s' }],
      },
    };
    fake.enqueue((_req, res) => sendSseSplit(res, `data: ${JSON.stringify(quota)}\r\n\r\n`));
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'gem', messages: hello, stream: true }));
    expect(err.status).toBe(429);
    expect(err.headers?.get('retry-after')).toBe('5');
  });

  it('ends a stream with an error event when the error comes after text', async () => {
    const [first] = toStreamEvents(textResponse('Some text, then trouble.'));
    fake.enqueue((_req, res) => sendSseSplit(res, `${sseBody([first!])}data: ${JSON.stringify(overloaded)}\r\n\r\n`));
    const { text } = await rawStream();
    expect(text.split('\n').filter((line) => line.startsWith('data: {"error":'))).toHaveLength(1);
    expect(text).not.toContain('[DONE]');
    expect(ledger.records().at(-1)).toMatchObject({ status: 502 });
  });
});

describe('the request on the wire', () => {
  it('sends the configured headers, never letting them replace the key or the content type', async () => {
    const custom = await startGateway(
      gatewayConfig(`${fake.url}/`, { headers: { 'X-Proxy-Token': 'proxy-1', 'x-goog-api-key': 'not-ours', 'Content-Type': 'text/plain' } }),
    );
    try {
      await custom.client.chat.completions.create({ model: 'gem', messages: hello });
      const [call] = fake.calls();
      expect(call!.url).toBe('/v1beta/models/gemini-2.0-flash:generateContent'); // the base URL's trailing slash is not doubled
      expect(call!.headers['x-proxy-token']).toBe('proxy-1');
      expect(call!.headers['x-goog-api-key']).toBe('test-key');
      expect(call!.headers['content-type']).toBe('application/json');
    } finally {
      await custom.close();
    }
  });

  it('keeps one connection alive across sequential calls, streamed or not', async () => {
    await gw.client.chat.completions.create({ model: 'gem', messages: hello });
    await streamedText(await gw.client.chat.completions.create({ model: 'gem', messages: hello, stream: true }));
    await gw.client.chat.completions.create({ model: 'gem', messages: hello });
    expect(fake.calls()).toHaveLength(3);
    expect(fake.openSockets()).toBe(1);
  });
});

function sendRaw(res: import('node:http').ServerResponse, type: string, text: string): void {
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
