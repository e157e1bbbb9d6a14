/**
 * AI streams cut a client that stopped reading once no byte has moved for the model group's
 * `timeout_ms` (live streams) or `server.write_idle_ms` (cached replays), instead of holding
 * the stream, and its upstream, for a fixed minute.
 *
 * Clients reach the gateway over a Unix socket, whose small buffers (about 256 KiB) fill fast.
 */
import { mkdtempSync } from 'node:fs';
import http, { type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { parseConfig } from '../src/config/load-config.js';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { startFakeServer, type FakeServer, type RecordedRequest } from './fakes/fake-server.js';
import { eventually } from './helpers/wait.js';

const IDLE_MS = 300;
const PIECE = 'x'.repeat(1024);

type Body = { model?: string; messages?: Array<{ content?: string }> };

function frame(model: string, delta: Record<string, unknown>, finish: string | null = null): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-idle', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

/** Writes `frames()` until it runs out or the gateway goes away, honouring backpressure. */
function pump(res: ServerResponse, frames: Iterator<string>): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const next = () => {
    for (;;) {
      if (res.destroyed) return;
      const item = frames.next();
      if (item.done) return void res.end();
      if (!res.write(item.value)) return void res.once('drain', next);
    }
  };
  next();
}

/** `endless`: content until the connection closes; otherwise 600 KiB of content, then the end. */
function* answer(model: string, endless: boolean): Generator<string> {
  yield frame(model, { role: 'assistant', content: '' });
  for (let i = 0; endless || i < 600; i++) yield frame(model, { content: PIECE });
  yield frame(model, {}, 'stop');
  yield `data: ${JSON.stringify({ id: 'chatcmpl-idle', object: 'chat.completion.chunk', created: 1, model, choices: [], usage: { prompt_tokens: 5, completion_tokens: 600, total_tokens: 605 } })}\n\n`;
  yield 'data: [DONE]\n\n';
}

function upstreamAnswer(req: RecordedRequest, res: ServerResponse): void {
  const body = (req.body ?? {}) as Body;
  pump(res, answer(body.model ?? 'm', body.messages?.[0]?.content === 'endless'));
}

interface Gateway {
  app: FastifyInstance;
  socketPath: string;
  ledger: ReturnType<typeof createMemoryLedger>;
}

async function startOnSocket(raw: Record<string, unknown>): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'konnect-sse-idle-'));
  const ledger = createMemoryLedger();
  const app = await buildApp(parseConfig({ ...raw, ledger: { spool_dir: join(dir, 'spool') } }, {}), { ledger });
  const socketPath = join(dir, 'gateway.sock');
  await app.listen({ path: socketPath });
  return { app, socketPath, ledger };
}

async function stop(gw: Gateway | undefined): Promise<void> {
  if (!gw) return;
  const closing = gw.app.close();
  gw.app.server.closeAllConnections();
  await closing;
}

function connections(gw: Gateway): Promise<number> {
  return new Promise((resolve, reject) => gw.app.server.getConnections((err, count) => (err ? reject(err) : resolve(count))));
}

function chatRequest(gw: Gateway, model: string, content: string): http.ClientRequest {
  const request = http.request({ socketPath: gw.socketPath, path: '/v1/chat/completions', method: 'POST', agent: false, headers: { 'content-type': 'application/json' } });
  request.end(JSON.stringify({ model, stream: true, temperature: 0, messages: [{ role: 'user', content }] }));
  return request;
}

/** Opens a stream and never reads it; resolves with its status once the headers arrived. */
function openStalled(gw: Gateway, model: string, content: string): Promise<{ status: number; request: http.ClientRequest }> {
  const request = chatRequest(gw, model, content);
  request.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    request.once('response', (res) => {
      res.pause();
      resolve({ status: res.statusCode ?? 0, request });
    });
    request.once('error', reject);
  });
}

/** Reads a stream to its end. */
function readStream(gw: Gateway, model: string, content: string): Promise<{ status: number; cache: string | undefined; text: string }> {
  const request = chatRequest(gw, model, content);
  return new Promise((resolve, reject) => {
    request.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (part: string) => (text += part));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, cache: res.headers['x-gateway-cache'] as string | undefined, text }));
      res.once('error', reject);
    });
    request.once('error', reject);
  });
}

/** How long after `since` the gateway had dropped every client connection. */
async function cutWithin(gw: Gateway, since: number): Promise<number> {
  await eventually(async () => expect(await connections(gw)).toBe(0), 100);
  return Date.now() - since;
}

let upstream: FakeServer;

beforeAll(async () => {
  upstream = await startFakeServer(upstreamAnswer);
});

afterAll(async () => {
  await upstream?.close();
});

describe('a live stream', () => {
  let gw: Gateway | undefined;
  afterAll(() => stop(gw));

  it("is cut after the model group's timeout_ms once its client stops reading", async () => {
    gw = await startOnSocket({
      // The server-wide fallback is long: the group's own timeout is what applies.
      server: { log_level: 'silent', write_idle_ms: 60_000 },
      providers: { up: { type: 'openai-compatible', base_url: `${upstream.url}/v1` } },
      models: [{ name: 'live', timeout_ms: IDLE_MS, retries: 0, deployments: [{ provider: 'up', model: 'm' }] }],
    });
    const started = Date.now();
    const { status, request } = await openStalled(gw, 'live', 'endless');
    expect(status).toBe(200);
    const cutAfter = await cutWithin(gw, started);
    expect(cutAfter).toBeLessThan(10 * IDLE_MS);
    request.destroy();
    // The stream ended as a departed client: billed and recorded, and its upstream released.
    await eventually(async () => expect(gw!.ledger.records().find((r) => r.route === 'chat')).toMatchObject({ status: 499 }));
    await eventually(async () => expect(upstream.openSockets()).toBe(0));
    console.info(`live stream cut ${cutAfter} ms after it was opened`);
  });
});

describe('a cached replay', () => {
  let gw: Gateway | undefined;
  afterAll(() => stop(gw));

  it('is cut after server.write_idle_ms once its client stops reading', async () => {
    gw = await startOnSocket({
      server: { log_level: 'silent', write_idle_ms: IDLE_MS },
      providers: { up: { type: 'openai-compatible', base_url: `${upstream.url}/v1` } },
      models: [{ name: 'cached', timeout_ms: 60_000, retries: 0, cache: { ttl_s: 60 }, deployments: [{ provider: 'up', model: 'm' }] }],
    });
    const live = await readStream(gw, 'cached', 'big');
    expect(live).toMatchObject({ status: 200, cache: 'miss' });
    expect(live.text.endsWith('data: [DONE]\n\n')).toBe(true);

    const started = Date.now();
    const { status, request } = await openStalled(gw, 'cached', 'big');
    expect(status).toBe(200);
    const cutAfter = await cutWithin(gw, started);
    expect(cutAfter).toBeLessThan(10 * IDLE_MS);
    request.destroy();
    console.info(`cached replay cut ${cutAfter} ms after it was opened`);
  });
});
