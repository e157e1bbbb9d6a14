/**
 * Non-streamed answers are read whole by the wire client's dispatch handler
 * (providers/shared/buffered-request.ts), with no stream between the socket and JSON.parse.
 * What that handler must get right, through the gateway with the official `openai` SDK: an
 * answer split anywhere (inside UTF-8 characters, after a byte-order mark), an error body far
 * over what is kept, a client that leaves while the upstream thinks, and an upstream that never
 * answers.
 */
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeServer, type FakeServer } from './fakes/fake-server.js';
import { buildCompletion } from './fakes/openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { apiErrorOf } from './helpers/http.js';

const WIDE_TEXT = 'Grüße — 日本語のテキスト 👋🏽 ¿Qué tal? ✓';
const hello: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Say hello' }];
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

let fake: FakeServer;
let gw: TestGateway;
/** Answers still open (a stall), ended when the suite stops. */
const stalled = new Set<ServerResponse>();

/** Writes `bytes` in pieces of 1 to 7 bytes, one event-loop turn apart, so the gateway reads them one by one. */
async function writeInPieces(res: ServerResponse, bytes: Buffer): Promise<void> {
  for (let at = 0, step = 1; at < bytes.length; at += step, step = (step % 7) + 1) {
    res.write(bytes.subarray(at, at + step));
    await new Promise((resolve) => setImmediate(resolve));
  }
  res.end();
}

function stall(res: ServerResponse): void {
  stalled.add(res);
  res.on('close', () => stalled.delete(res));
}

beforeAll(async () => {
  fake = await startFakeServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(buildCompletion({}, req.body as Record<string, unknown>)));
  });
  gw = await startGateway({
    providers: { upstream: { type: 'openai-compatible', base_url: `${fake.url}/v1` } },
    models: [
      { name: 'm', retries: 0, deployments: [{ provider: 'upstream', model: 'up-model' }] },
      { name: 'quick', retries: 0, timeout_ms: 150, deployments: [{ provider: 'upstream', model: 'up-model' }] },
    ],
  });
});

afterAll(async () => {
  for (const res of stalled) res.destroy();
  await gw?.close();
  await fake?.close();
});

describe('a non-streamed answer read whole', () => {
  it('reads an answer sent a few bytes at a time, split inside UTF-8 characters and led by a byte-order mark', async () => {
    fake.enqueue(async (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const body = JSON.stringify(buildCompletion({ content: WIDE_TEXT, usage: { prompt_tokens: 9, completion_tokens: 21 } }, req.body as Record<string, unknown>));
      await writeInPieces(res, Buffer.concat([BOM, Buffer.from(body)]));
    });
    const answer = await gw.client.chat.completions.create({ model: 'm', messages: hello });
    expect(answer.choices[0]?.message.content).toBe(WIDE_TEXT);
    expect(answer.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 21, total_tokens: 30 });
  });

  it('keeps no more of a 16 MB error body than its message needs, hangs up on the rest, and serves the next call', async () => {
    const piece = Buffer.alloc(64 * 1024, 'x');
    const pieces = 256;
    let written = 0;
    let closed = false;
    fake.enqueue(async (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json', 'content-length': piece.length * pieces });
      res.on('error', () => undefined);
      res.on('close', () => (closed = true));
      // Written as the gateway reads, so what it never read is never sent.
      while (written < pieces && !closed) {
        written++;
        if (!res.write(piece)) await new Promise((resolve) => (res.once('drain', resolve), res.once('close', resolve)));
      }
      res.end();
    });
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'm', messages: hello }));
    expect(err.status).toBe(502);
    expect(err.message).not.toContain('xxxx');
    await vi.waitFor(() => expect(closed).toBe(true));
    expect(written).toBeLessThan(pieces);
    const next = await gw.client.chat.completions.create({ model: 'm', messages: hello });
    expect(next.choices[0]?.message.content).toBeTruthy();
  });

  it('abandons the upstream request when the client leaves before the answer', async () => {
    const before = fake.requests.length;
    fake.enqueue((_req, res) => stall(res));
    const controller = new AbortController();
    const call = gw.client.chat.completions.create({ model: 'm', messages: hello }, { signal: controller.signal });
    await vi.waitFor(() => expect(fake.requests.length).toBe(before + 1));
    controller.abort();
    await expect(call).rejects.toThrow();
    await vi.waitFor(() => expect(stalled.size).toBe(0));
  });

  it('gives up on an upstream that never answers after the attempt timeout, with 504, and closes its request', async () => {
    fake.enqueue((_req, res) => stall(res));
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'quick', messages: hello }));
    expect(err.status).toBe(504);
    expect(err.code).toBe('upstream_timeout');
    await vi.waitFor(() => expect(stalled.size).toBe(0));
  });

  it('answers 50 concurrent calls, each with its own answer', async () => {
    const asks = Array.from({ length: 50 }, (_, i) => `question ${i}`);
    // Each answer echoes its own request's question, in pieces, so answers that crossed would show.
    for (let i = 0; i < 50; i++) {
      fake.enqueue(async (req, res) => {
        const asked = ((req.body as { messages: { content: string }[] }).messages[0]!.content ?? '').toUpperCase();
        res.writeHead(200, { 'content-type': 'application/json' });
        await writeInPieces(res, Buffer.from(JSON.stringify(buildCompletion({ content: asked }, req.body as Record<string, unknown>))));
      });
    }
    const answers = await Promise.all(asks.map((q) => gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: q }] })));
    expect(answers.map((a) => a.choices[0]?.message.content)).toEqual(asks.map((q) => q.toUpperCase()));
  });
});
