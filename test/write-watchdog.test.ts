/**
 * The write watchdog against real sockets: it cuts a client that stopped reading, and only
 * that one. A client that reads in bursts with pauses shorter than the idle time, and a
 * response with nothing waiting (a quiet stream), are left alone. The sockets are real; the
 * watchdog's clock and sampling timer are vitest's, advanced one sample at a time with a turn
 * of the real event loop between samples, so no test waits in real time.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { watchWriteProgress } from '../src/http/write-watchdog.js';
import { eventually } from './helpers/wait.js';

const IDLE_MS = 300;
const FRAME = Buffer.alloc(16 * 1024, 0x61);

let server: Server | undefined;
let client: Socket | undefined;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
});
afterEach(async () => {
  vi.useRealTimers();
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

/** The watchdog samples four times per idle period. */
const SAMPLE_MS = IDLE_MS / 4;

/** What the server's socket handed to the kernel, as the watchdog counts it. */
const flushed = (res: ServerResponse) => res.socket!.bytesWritten - res.socket!.writableLength;

/** Lets real I/O (reads, writes, `close`) happen before the next sample. */
const ioTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Advances the watchdog's clock by `ms`, a sample at a time, with real I/O between; stops early once `until()`. */
async function advance(ms: number, until: () => boolean = () => false): Promise<number> {
  let elapsed = 0;
  while (elapsed < ms && !until()) {
    vi.advanceTimersByTime(SAMPLE_MS);
    elapsed += SAMPLE_MS;
    await ioTurn();
  }
  return elapsed;
}

it('cuts a response whose client stopped reading, about one idle period after the last byte moved', async () => {
  let response: ServerResponse | undefined;
  const socket = await serve((res) => {
    response = res;
    watchWriteProgress(res, IDLE_MS);
    writeForever(res);
  });
  socket.pause();
  await eventually(() => (response?.writableLength ?? 0) > 0, { what: 'bytes waiting for the client' });
  const elapsed = await advance(20 * IDLE_MS, () => response!.destroyed);
  expect(response!.destroyed).toBe(true);
  // Never before the idle period; after it by at most the time the buffers took to fill and a sample.
  expect(elapsed).toBeGreaterThanOrEqual(IDLE_MS);
  expect(elapsed).toBeLessThan(3 * IDLE_MS);
});

it('leaves alone a client that reads in bursts with pauses shorter than the idle period', async () => {
  let response: ServerResponse | undefined;
  const socket = await serve((res) => {
    response = res;
    watchWriteProgress(res, IDLE_MS);
    writeForever(res);
  });
  socket.pause();
  let received = 0;
  socket.on('data', (part: Buffer) => (received += part.length));
  await eventually(() => (response?.writableLength ?? 0) > 0, { what: 'bytes waiting for the client' });
  // Over five idle periods of reading a little, then pausing 175 ms: backpressure most of the time, never a stall.
  for (let i = 0; i < 8; i++) {
    const before = received;
    const sent = flushed(response!);
    // A burst: read until the server's socket took more, so the next sample sees bytes move.
    socket.resume();
    await eventually(() => flushed(response!) > sent, { what: 'the server writing more' });
    socket.pause();
    expect(received).toBeGreaterThan(before);
    await advance(175);
    expect(response!.destroyed).toBe(false);
  }
});

it('leaves alone a quiet response with nothing waiting to be sent', async () => {
  let response: ServerResponse | undefined;
  const socket = await serve((res) => {
    response = res;
    watchWriteProgress(res, IDLE_MS);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': open\n\n');
  });
  // Not reading matters not: the one frame fits in the buffers, so nothing is waiting.
  socket.pause();
  await eventually(() => response !== undefined && response.writableLength === 0, { what: 'the frame flushed' });
  await advance(4 * IDLE_MS);
  expect(response!.destroyed).toBe(false);
});
