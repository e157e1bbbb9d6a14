/**
 * The write watchdog against real sockets: it cuts a client that stopped reading, and only
 * that one. A client that reads in bursts with pauses shorter than the idle time, and a
 * response with nothing waiting (a quiet stream), are left alone.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { watchWriteProgress } from '../src/http/write-watchdog.js';

const IDLE_MS = 300;
const FRAME = Buffer.alloc(16 * 1024, 0x61);

let server: Server | undefined;
let client: Socket | undefined;
afterEach(async () => {
  client?.destroy();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Starts a server on a Unix socket whose one response is handled by `handle`; returns a raw client on it. */
async function serve(handle: (res: ServerResponse) => void): Promise<Socket> {
  server = createServer((_req, res) => handle(res));
  const path = join(mkdtempSync(join(tmpdir(), 'konnect-watchdog-')), 's.sock');
  await new Promise<void>((resolve) => server!.listen(path, resolve));
  client = connect(path);
  client.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  return client;
}

/** Writes frames as fast as the socket takes them, until the response closes. */
function writeForever(res: ServerResponse): void {
  const next = () => {
    while (!res.destroyed) if (!res.write(FRAME)) return void res.once('drain', next);
  };
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  next();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('cuts a response whose client stopped reading, about one idle period after the last byte moved', async () => {
  let closedAt = 0;
  const socket = await serve((res) => {
    watchWriteProgress(res, IDLE_MS);
    res.once('close', () => (closedAt = Date.now()));
    writeForever(res);
  });
  socket.pause();
  const started = Date.now();
  while (closedAt === 0 && Date.now() - started < 5_000) await sleep(20);
  expect(closedAt).toBeGreaterThan(0);
  // Stalled almost at once (the buffers are small); cut after the idle period, sampled every quarter.
  expect(closedAt - started).toBeGreaterThanOrEqual(IDLE_MS);
  expect(closedAt - started).toBeLessThan(4 * IDLE_MS);
});

it('leaves alone a client that reads in bursts with pauses shorter than the idle period', async () => {
  let closed = false;
  const socket = await serve((res) => {
    watchWriteProgress(res, IDLE_MS);
    res.once('close', () => (closed = true));
    writeForever(res);
  });
  socket.pause();
  let received = 0;
  socket.on('data', (part: Buffer) => (received += part.length));
  // Over five idle periods of reading 20 ms, then pausing 180 ms: backpressure most of the time, never a stall.
  for (let i = 0; i < 8; i++) {
    socket.resume();
    await sleep(20);
    socket.pause();
    await sleep(180);
  }
  expect(closed).toBe(false);
  expect(received).toBeGreaterThan(0);
});

it('leaves alone a quiet response with nothing waiting to be sent', async () => {
  let closed = false;
  const socket = await serve((res) => {
    watchWriteProgress(res, IDLE_MS);
    res.once('close', () => (closed = true));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': open\n\n');
  });
  // Not reading matters not: the one frame fits in the buffers, so nothing is waiting.
  socket.pause();
  await sleep(4 * IDLE_MS);
  expect(closed).toBe(false);
});
