/**
 * The OpenAI adapter speaks the chat-completions and embeddings wire protocol itself
 * (providers/shared/wire-client.ts), so its SSE reading, its headers and its handling of
 * answers that are not OpenAI's success shape are checked here at the byte level, through the
 * gateway, with the official `openai` SDK as the client.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeServer, type FakeServer } from './fakes/fake-server.js';
import { DEFAULT_TEXT, buildChunks, buildCompletion, fakeEmbedding, sseFrames, startFakeOpenAI, type FakeOpenAI } from './fakes/openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { apiErrorOf } from './helpers/http.js';
import { awkwardCuts, writeSse } from './helpers/sse-cuts.js';

const KEY = 'sk-fake-openai';
const MODEL = 'gpt-4o-mini';
const hello: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Say héllo 🌍' }];
type Body = Record<string, unknown>;

/** Two-, three- and four-byte characters, an emoji with a modifier, and text either side. */
const WIDE_TEXT = 'Grüße aus Zürich — 日本語のテキスト 👋🏽 ¿Qué tal? Ça va ✓ fin.';

let fake: FakeOpenAI;
/** An OpenAI-compatible server that answers 200 with whatever each test scripts. */
let junk: FakeServer;
let gw: TestGateway;

/** A group on the junk server alone, and one that fails over from it to the real fake. */
function junkGroups(name: string) {
  return [
    { name: `${name}-alone`, retries: 0, deployments: [{ provider: 'junk', model: 'junk-model' }] },
    { name: `${name}-failover`, strategy: 'priority', retries: 1, deployments: [{ provider: 'junk', model: 'junk-model' }, { provider: 'openai', model: MODEL }] },
  ];
}

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: KEY });
  junk = await startFakeServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body>unscripted</body></html>');
  });
  gw = await startGateway({
    providers: {
      openai: { type: 'openai', api_key: KEY, base_url: `${fake.url}/v1` },
      junk: { type: 'openai-compatible', base_url: `${junk.url}/v1` },
    },
    models: [
      { name: 'gpt', retries: 0, deployments: [{ provider: 'openai', model: MODEL }] },
      { name: 'embed', retries: 0, deployments: [{ provider: 'openai', model: 'text-embedding-3-small' }] },
      { name: 'junk-embed', retries: 0, deployments: [{ provider: 'junk', model: 'junk-embed' }] },
      ...junkGroups('garbage'),
      ...junkGroups('garbage-stream'),
      ...junkGroups('error-frame'),
      ...junkGroups('not-sse'),
    ],
  });
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
  await junk?.close();
});

/** What the gateway's streamed request makes the fake answer: chunks with usage, then `[DONE]`. */
function chunksFor(req: { body: unknown }, spec: Parameters<typeof buildChunks>[0] = {}): Body[] {
  return buildChunks(spec, req.body as Body);
}

/**
 * OpenAI's frames in CRLF framing, with what a parser must tolerate: comment lines before
 * anything, between frames and inside one, `data:` without its space, an `event:` line,
 * and after `[DONE]` a comment and a frame that must be ignored.
 */
function crlfStream(payloads: Body[]): string {
  const out: string[] = [': OPENROUTER PROCESSING\r\n\r\n'];
  payloads.forEach((payload, i) => {
    const data = JSON.stringify(payload);
    if (i % 4 === 1) out.push(': keep-alive\r\n\r\n');
    if (i % 3 === 0) out.push(`data:${data}\r\n\r\n`);
    else if (i % 3 === 1) out.push(`: a comment inside a frame\r\ndata: ${data}\r\n\r\n`);
    else out.push(`event: chunk\r\ndata: ${data}\r\n\r\n`);
  });
  out.push('data: [DONE]\r\n\r\n', ': after the end\r\n\r\n');
  out.push(`data: ${JSON.stringify({ ...payloads[1], choices: [{ index: 0, delta: { content: 'NOT PART OF THE ANSWER' }, finish_reason: null }] })}\r\n\r\n`);
  return out.join('');
}

/** A stream call through the gateway with plain fetch, to see its exact SSE text. */
async function rawStream(model: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, messages: hello }),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

function dataLines(sse: string): string[] {
  return sse
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice(6));
}

/** Reads a stream with the SDK: the text, tool arguments by index, finish reasons, usage. */
async function readWithSdk(stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>) {
  let text = '';
  const args: string[] = [];
  const finishes: string[] = [];
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    text += choice?.delta.content ?? '';
    for (const call of choice?.delta.tool_calls ?? []) args[call.index] = (args[call.index] ?? '') + (call.function?.arguments ?? '');
    if (choice?.finish_reason) finishes.push(choice.finish_reason);
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, args, finishes, usage };
}

describe('the chat completions wire protocol', () => {
  it('posts to <base_url>/chat/completions with the key, the configured headers (names in any case), base_url slash stripped', async () => {
    const own = await startGateway({
      providers: {
        openai: {
          type: 'openai',
          // The configured Authorization replaces the key's header: one header, never two.
          api_key: 'sk-not-this-one',
          base_url: `${fake.url}/v1//`,
          headers: { Authorization: `Bearer ${KEY}`, 'OpenAI-Organization': 'org-7', 'X-Proxy-Token': 'p-1' },
        },
      },
      models: [{ name: 'gpt', retries: 0, deployments: [{ provider: 'openai', model: MODEL }] }],
    });
    try {
      const res = await own.client.chat.completions.create({ model: 'gpt', messages: hello, temperature: 0.2 });
      expect(res.choices[0]?.message.content).toBe(DEFAULT_TEXT);
      const sent = fake.lastChatRequest();
      expect(sent.method).toBe('POST');
      expect(sent.url).toBe('/v1/chat/completions');
      expect(sent.headers).toMatchObject({
        authorization: `Bearer ${KEY}`,
        'content-type': 'application/json',
        'openai-organization': 'org-7',
        'x-proxy-token': 'p-1',
      });
      expect(sent.body).toEqual({ model: MODEL, messages: hello, temperature: 0.2 });

      await readWithSdk(await own.client.chat.completions.create({ model: 'gpt', messages: hello, stream: true }));
      expect(fake.lastChatRequest().url).toBe('/v1/chat/completions');
      expect(fake.lastChatBody()).toEqual({ model: MODEL, messages: hello, stream: true, stream_options: { include_usage: true } });
    } finally {
      await own.close();
    }
  });

  it('reads a stream sent one byte at a time to the exact text, tool arguments and usage', async () => {
    fake.enqueueChat({ content: WIDE_TEXT, usage: { prompt_tokens: 21, completion_tokens: 17, cached_tokens: 0 } }, { cut: [1] });
    const plain = await readWithSdk(
      await gw.client.chat.completions.create({ model: 'gpt', messages: hello, stream: true, stream_options: { include_usage: true } }),
    );
    expect(plain.text).toBe(WIDE_TEXT);
    expect(plain.finishes).toEqual(['stop']);
    expect(plain.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 17, total_tokens: 38 });

    const toolArgs = '{"city":"Zürich","note":"日本語 👋🏽"}';
    fake.enqueueChat({ tool_calls: [{ id: 'call_1', name: 'get_weather', arguments: toolArgs }] }, { cut: [2, 1, 3] });
    const tools = await readWithSdk(await gw.client.chat.completions.create({ model: 'gpt', messages: hello, stream: true }));
    expect(tools.args).toEqual([toolArgs]);
    expect(tools.finishes).toEqual(['tool_calls']);
  });

  it('reads a CRLF stream cut between \\r and \\n and inside UTF-8 characters, with comments, to the exact text; nothing after [DONE] counts', async () => {
    let sent: Buffer | undefined;
    fake.enqueue(async (req, res) => {
      const bytes = Buffer.from(crlfStream(chunksFor(req, { content: WIDE_TEXT, usage: { prompt_tokens: 14, completion_tokens: 12 } })), 'utf8');
      sent = bytes;
      await writeSse(res, bytes, awkwardCuts(bytes));
    });
    const read = await readWithSdk(
      await gw.client.chat.completions.create({ model: 'gpt', messages: hello, stream: true, stream_options: { include_usage: true } }),
    );
    expect(read.text).toBe(WIDE_TEXT);
    expect(read.finishes).toEqual(['stop']);
    expect(read.usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 12, total_tokens: 26 });
    // The cuts did what they claim: pieces ended on a bare \r and inside characters.
    const cuts = awkwardCuts(sent!);
    expect(cuts.filter((c) => sent![c - 1] === 0x0d && sent![c] === 0x0a).length).toBeGreaterThan(20);
    expect(cuts.filter((c) => (sent![c] ?? 0) >= 0x80 && (sent![c] ?? 0) < 0xc0).length).toBeGreaterThanOrEqual(15);
  });

  it('reads a stream led by a byte-order mark that arrives a byte at a time, its first frame included', async () => {
    fake.enqueue(async (req, res) => {
      const frames = chunksFor(req, { content: WIDE_TEXT });
      // The first frame carries text, so a frame lost behind the mark would show in the answer.
      (frames[0]!.choices as Array<{ delta: Body }>)[0]!.delta.content = 'Led: ';
      const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(sseFrames(frames), 'utf8')]);
      await writeSse(res, bytes, [1, 2, 3, 4, ...awkwardCuts(bytes).filter((cut) => cut > 4)]);
    });
    const read = await readWithSdk(await gw.client.chat.completions.create({ model: 'gpt', messages: hello, stream: true }));
    expect(read.text).toBe(`Led: ${WIDE_TEXT}`);
    expect(read.finishes).toEqual(['stop']);
  });

  it('finishes cleanly when the upstream ends after its finish without [DONE]', async () => {
    fake.enqueue((req, res) => writeSse(res, Buffer.from(sseFrames(chunksFor(req), false)), [40, 41, 300]));
    const { status, text } = await rawStream('gpt');
    expect(status).toBe(200);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const content = dataLines(text)
      .slice(0, -1)
      .map((d) => (JSON.parse(d) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '')
      .join('');
    expect(content).toBe(DEFAULT_TEXT);
  });
});

describe('answers that are not OpenAI success shapes', () => {
  const garbage = (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('<html><body>502 Bad Gateway (but with a 200)</body></html>');
  };

  it('turns a 200 with a garbage body into 502 upstream_invalid_response, and fails over from it', async () => {
    junk.enqueue((_req, res) => garbage(res));
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'garbage-alone', messages: hello }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_invalid_response');
    expect(err.message).not.toContain('Bad Gateway');

    junk.enqueue((_req, res) => garbage(res));
    const { data, response } = await gw.client.chat.completions.create({ model: 'garbage-failover', messages: hello }).withResponse();
    expect(data.choices[0]?.message.content).toBe(DEFAULT_TEXT);
    expect(response.headers.get('x-gateway-provider')).toBe('openai');
    expect(response.headers.get('x-gateway-attempts')).toBe('2');
  });

  it('turns a stream whose first frame is not JSON into 502 upstream_invalid_response before any chunk, and fails over from it', async () => {
    const notJson = (res: ServerResponse) => writeSse(res, Buffer.from('data: <html>oops</html>\n\ndata: [DONE]\n\n'), [9]);
    junk.enqueue((_req, res) => notJson(res));
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'garbage-stream-alone', messages: hello, stream: true }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_invalid_response');

    junk.enqueue((_req, res) => notJson(res));
    const { status, text, headers } = await rawStream('garbage-stream-failover');
    expect(status).toBe(200);
    expect(headers.get('x-gateway-provider')).toBe('openai');
    expect(headers.get('x-gateway-attempts')).toBe('2');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('turns a `data: {"error":…}` frame before any chunk into a 502 the balancer fails over from', async () => {
    const errorFrame = (res: ServerResponse) =>
      writeSse(res, Buffer.from(sseFrames([{ error: { message: 'The server had an error', type: 'server_error', param: null, code: null } }], false)), [5]);
    junk.enqueue((_req, res) => errorFrame(res));
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'error-frame-alone', messages: hello, stream: true }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain('junk failed with 502');
    expect(err.message).not.toContain('The server had an error');

    junk.enqueue((_req, res) => errorFrame(res));
    const read = await readWithSdk(await gw.client.chat.completions.create({ model: 'error-frame-failover', messages: hello, stream: true }));
    expect(read.text).toBe(DEFAULT_TEXT);
  });

  it('turns a 200 that is not an event stream into 502 upstream_invalid_response, and fails over from it', async () => {
    const json = (req: { body: unknown }, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(buildCompletion({}, req.body as Body)));
    };
    junk.enqueue(json);
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'not-sse-alone', messages: hello, stream: true }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_invalid_response');

    junk.enqueue(json);
    const { status, headers } = await rawStream('not-sse-failover');
    expect(status).toBe(200);
    expect(headers.get('x-gateway-attempts')).toBe('2');
  });
});

describe('streams that fail after their headers went out', () => {
  /** The role chunk and three content chunks, then half of the next frame. */
  function headAndHalfFrame(req: { body: unknown }, crlf = false): Buffer {
    const frames = chunksFor(req).map((payload) => `data: ${JSON.stringify(payload)}${crlf ? '\r\n\r\n' : '\n\n'}`);
    const next = frames[4]!;
    return Buffer.from(frames.slice(0, 4).join('') + next.slice(0, Math.floor(next.length / 2)), 'utf8');
  }

  function expectErrorEnd(text: string): Body {
    expect(text).not.toContain('[DONE]');
    const data = dataLines(text);
    expect(data.length).toBeGreaterThan(1);
    const choices = data
      .slice(0, -1)
      .map((d) => (JSON.parse(d) as { choices: Array<{ delta: { content?: string }; finish_reason: string | null }> }).choices[0])
      .filter((c) => c !== undefined);
    expect(choices.every((c) => c.finish_reason === null)).toBe(true);
    const content = choices.map((c) => c.delta.content ?? '').join('');
    expect(content.length).toBeGreaterThan(0);
    expect(DEFAULT_TEXT.startsWith(content)).toBe(true);
    const last = JSON.parse(data.at(-1)!) as { error?: Body };
    expect(last.error).toBeDefined();
    return last.error!;
  }

  it('ends with one error event and no [DONE] when the upstream socket dies mid-frame', async () => {
    fake.enqueue((req, res) => {
      const bytes = headAndHalfFrame(req, true);
      return writeSse(res, bytes, awkwardCuts(bytes), 'destroy');
    });
    const { status, text } = await rawStream('gpt');
    expect(status).toBe(200);
    expect(expectErrorEnd(text)).toMatchObject({ type: 'api_error', code: 'upstream_unavailable' });
  });

  it('ends with one error event and no [DONE] when the upstream closes cleanly mid-frame', async () => {
    fake.enqueue((req, res) => writeSse(res, headAndHalfFrame(req), [11, 200]));
    const { status, text } = await rawStream('gpt');
    expect(status).toBe(200);
    expect(expectErrorEnd(text)).toMatchObject({ code: 'upstream_invalid_response' });
  });

  it('ends with one error event when a frame mid-stream is not JSON', async () => {
    fake.enqueue((req, res) => {
      const frames = sseFrames(chunksFor(req).slice(0, 4), false);
      return writeSse(res, Buffer.from(`${frames}data: {"id":"chatcmpl-1","choices":[{"ind\n\n${sseFrames(chunksFor(req).slice(4))}`), [100]);
    });
    const { status, text } = await rawStream('gpt');
    expect(status).toBe(200);
    expect(expectErrorEnd(text)).toMatchObject({ code: 'upstream_invalid_response' });
  });

  it('makes the openai SDK raise, not finish, on a stream cut mid-frame', async () => {
    fake.enqueue((req, res) => writeSse(res, headAndHalfFrame(req), [64], 'destroy'));
    const stream = await gw.client.chat.completions.create({ model: 'gpt', messages: hello, stream: true });
    let finished = false;
    const run = async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.finish_reason) finished = true;
    };
    await expect(run()).rejects.toBeInstanceOf(OpenAI.APIError);
    expect(finished).toBe(false);
  });
});

describe('embeddings on the wire', () => {
  it('asks for base64 and decodes little-endian float32, as the SDK did', async () => {
    const res = await gw.client.embeddings.create({ model: 'embed', input: ['héllo 🌍', 'abc'], dimensions: 5 });
    expect(res.data.map((d) => d.embedding)).toEqual(['héllo 🌍', 'abc'].map((text) => Array.from(new Float32Array(fakeEmbedding(text, 5)))));
    expect(fake.requests.at(-1)?.url).toBe('/v1/embeddings');
    expect(fake.embeddingBodies().at(-1)).toEqual({ model: 'text-embedding-3-small', input: ['héllo 🌍', 'abc'], dimensions: 5, encoding_format: 'base64' });
  });

  it('takes float arrays from a server that ignores encoding_format, in index order', async () => {
    junk.enqueue((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          object: 'list',
          model: 'junk-embed',
          data: [
            { object: 'embedding', index: 1, embedding: [0.5, -0.25] },
            { object: 'embedding', index: 0, embedding: [0.1, 0.2] },
          ],
          usage: { prompt_tokens: 3, total_tokens: 3 },
        }),
      );
    });
    const res = await gw.client.embeddings.create({ model: 'junk-embed', input: ['a', 'b'], encoding_format: 'float' });
    expect(res.data.map((d) => d.embedding)).toEqual([
      [0.1, 0.2],
      [0.5, -0.25],
    ]);
  });

  it('turns a 200 without data, or a vector that is not float32, into 502 upstream_invalid_response', async () => {
    const answers = [
      { object: 'error', message: 'no' },
      { object: 'list', model: 'junk-embed', data: [{ object: 'embedding', index: 0, embedding: Buffer.from([1, 2, 3]).toString('base64') }] },
    ];
    for (const answer of answers) {
      junk.enqueue((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
      const err = await apiErrorOf(gw.client.embeddings.create({ model: 'junk-embed', input: 'abc' }));
      expect(err.status).toBe(502);
      expect(err.code).toBe('upstream_invalid_response');
    }
  });
});

describe('the adapter module', () => {
  it('loads no `openai` SDK value and no SDK fetch transport', () => {
    const file = fileURLToPath(new URL('../providers/openai.ts', import.meta.url));
    const dir = fileURLToPath(new URL('../providers/openai/', import.meta.url));
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f)) : [file];
    for (const path of files) {
      const source = readFileSync(path, 'utf8');
      const imports = source.match(/^import\s[^;]*?from\s+'[^']+';/gms) ?? [];
      expect(imports.length).toBeGreaterThan(0);
      for (const line of imports) {
        if (/from\s+'openai(\/[^']*)?'/.test(line)) expect(line, `${path}: ${line}`).toMatch(/^import\s+type\s/);
        expect(line, `${path}: ${line}`).not.toContain('http-transport');
      }
    }
  });
});
