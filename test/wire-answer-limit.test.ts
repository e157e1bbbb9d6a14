/**
 * What an upstream can make the gateway hold for one call is bounded. A provider's
 * `answer_limit_mb` bounds a 200 JSON answer that never stops growing and one stream event
 * whose line never ends: either fails the call with 502 `upstream_invalid_response`, the
 * upstream connection is dropped (it stops being read, so the rest is never sent), and the
 * next call is served. And a stream whose client stops reading holds its upstream back instead
 * of queueing what the provider sends. Driven with the official `openai` SDK and raw HTTP; the
 * limit is 1 MB here so the upstream need not send 128.
 */
import { request as httpRequest, type ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeServer, type FakeServer } from './fakes/fake-server.js';
import { buildChunks, buildCompletion, sseFrames } from './fakes/openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { apiErrorOf } from './helpers/http.js';
import { eventually } from './helpers/wait.js';

const hello: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Say hello' }];
/** 16 MB in 64 KB pieces: sixteen times the provider's limit. */
const PIECE = Buffer.alloc(64 * 1024, 'x');
const PIECES = 256;

let fake: FakeServer;
let gw: TestGateway;

/** What the upstream managed to send before the gateway hung up. */
interface Flood {
  written: number;
  closed: boolean;
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Writes `head`, then pieces only as fast as the gateway reads them (so what it never read is
 * never sent), until PIECES were written or the gateway hung up.
 */
function flood(res: ServerResponse, head: string, flooded: Flood): Promise<void> {
  res.on('error', () => undefined);
  res.on('close', () => (flooded.closed = true));
  res.write(head);
  return (async () => {
    while (flooded.written < PIECES && !flooded.closed) {
      flooded.written++;
      if (!res.write(PIECE)) await drainedOrClosed(res);
    }
    res.end();
  })();
}

beforeAll(async () => {
  fake = await startFakeServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(buildCompletion({}, req.body as Record<string, unknown>)));
  });
  gw = await startGateway({
    providers: { capped: { type: 'openai-compatible', base_url: `${fake.url}/v1`, answer_limit_mb: 1 } },
    models: [{ name: 'm', retries: 0, deployments: [{ provider: 'capped', model: 'up-model' }] }],
  });
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
});

async function expectServedAfter(): Promise<void> {
  const next = await gw.client.chat.completions.create({ model: 'm', messages: hello });
  expect(next.choices[0]?.message.content).toBeTruthy();
}

describe("a provider's answer limit", () => {
  it('fails a 200 JSON answer that grows past it with 502 and hangs up on the rest', async () => {
    const flooded: Flood = { written: 0, closed: false };
    fake.enqueue((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      return flood(res, '{"id":"chatcmpl-big","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"', flooded);
    });
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'm', messages: hello }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_invalid_response');
    expect(err.message).not.toContain('xxxx');
    await vi.waitFor(() => expect(flooded.closed).toBe(true));
    // 1 MB is 16 pieces; what the sockets' buffers held besides is far below the 256 offered.
    expect(flooded.written).toBeLessThan(PIECES / 2);
    await expectServedAfter();
  });

  it('fails a stream whose event never ends, after the events before it reached the client', async () => {
    const flooded: Flood = { written: 0, closed: false };
    fake.enqueue((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const first = sseFrames(buildChunks({ content: 'Hi!' }, req.body as Record<string, unknown>).slice(0, 2), false);
      return flood(res, `${first}data: {"choices":[{"delta":{"content":"`, flooded);
    });
    const stream = await gw.client.chat.completions.create({ model: 'm', messages: hello, stream: true });
    let text = '';
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).message).toMatch(/over 1048576 bytes/);
    expect(text).toBe('Hi!');
    await vi.waitFor(() => expect(flooded.closed).toBe(true));
    expect(flooded.written).toBeLessThan(PIECES / 2);
    await expectServedAfter();
  });
});

/**
 * 64 MB offered to a client that stops reading. The kernel's autotuned socket buffers hold
 * several MB on each leg (8 MB in all here, 8.1 MB once on a loaded CI run; Linux lets a
 * receive buffer grow to `tcp_rmem`'s maximum, 32 MB on this box), so the bound is half of
 * what is offered: a gateway that queued what it read would take all of it.
 */
const OFFERED_TO_A_STALLED_CLIENT = 1024;

describe('a stream whose client stops reading', () => {
  it('holds the upstream back instead of queueing what it sends', async () => {
    // Small events, written only as fast as the gateway reads them.
    const flooded: Flood = { written: 0, closed: false };
    const frame = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'up-model', choices: [{ index: 0, delta: { content: 'x'.repeat(200) }, finish_reason: null }] })}\n\n`;
    const piece = Buffer.from(frame.repeat(Math.floor(PIECE.length / frame.length)));
    fake.enqueue((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.on('error', () => undefined);
      res.on('close', () => (flooded.closed = true));
      return (async () => {
        while (flooded.written < OFFERED_TO_A_STALLED_CLIENT && !flooded.closed) {
          flooded.written++;
          if (!res.write(piece)) await drainedOrClosed(res);
        }
        res.end();
      })();
    });
    // A raw client that reads the head and one piece of the body, then nothing more.
    const req = httpRequest(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.end(JSON.stringify({ model: 'm', messages: hello, stream: true }));
    const res = await new Promise<import('node:http').IncomingMessage>((resolve) => req.once('response', resolve));
    expect(res.statusCode).toBe(200);
    await new Promise((resolve) => res.once('data', resolve));
    res.pause();
    // The upstream stops being read: its count settles (sockets' buffers, the gateway's
    // bounded queue and one piece the parser holds), far below the pieces offered.
    let last = -1;
    await eventually(() => {
      const now = flooded.written;
      const settled = now === last;
      last = now;
      return settled;
    }, { what: 'the upstream held back' });
    expect(flooded.written).toBeLessThan(OFFERED_TO_A_STALLED_CLIENT / 2);
    res.destroy();
    await vi.waitFor(() => expect(flooded.closed).toBe(true));
    await expectServedAfter();
  });
});
