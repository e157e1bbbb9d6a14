/**
 * The base of every fake upstream: a real HTTP server on 127.0.0.1:0 that records what it
 * received and lets each test script the next answers (JSON, SSE split at awkward byte
 * boundaries, errors, a destroyed socket, a stall).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body, or the raw text where it is not JSON. */
  body: unknown;
}

export type FakeHandler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface FakeServer {
  url: string;
  port: number;
  /** Every request received, oldest first. */
  requests: RecordedRequest[];
  /** Answers the next request with this handler instead of the default one (FIFO). */
  enqueue(handler: FakeHandler): void;
  /** Sockets currently open, to see that a cancelled call really closed upstream. */
  openSockets(): number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function startFakeServer(defaultHandler: FakeHandler): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const queue: FakeHandler[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer(async (req, res) => {
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: await readBody(req),
    };
    requests.push(recorded);
    const handler = queue.shift() ?? defaultHandler;
    try {
      await handler(recorded, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `fake server failed: ${String(err)}` } }));
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    enqueue: (handler) => queue.push(handler),
    openSockets: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Writes an SSE body re-cut at odd byte offsets (inside multi-byte characters, between
 * `\r` and `\n`, mid-`data:`), so parsers that assume whole lines per read fail.
 */
export async function sendSseSplit(res: ServerResponse, body: string, options: { cut?: number[]; stopAfterBytes?: number } = {}): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let bytes = Buffer.from(body, 'utf8');
  if (options.stopAfterBytes !== undefined) bytes = bytes.subarray(0, options.stopAfterBytes);
  const cuts = options.cut ?? [1, 7, 3, 13, 2, 31, 5];
  let offset = 0;
  let i = 0;
  while (offset < bytes.length) {
    const size = cuts[i++ % cuts.length]!;
    res.write(bytes.subarray(offset, offset + size));
    offset += size;
    // Let each piece leave as its own TCP write.
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (options.stopAfterBytes !== undefined) {
    // A cut stream: the connection dies without the stream's proper end.
    res.socket?.destroy();
    return;
  }
  res.end();
}

/** Formats SSE events: `event:` lines only where a name is given, one `data:` line each. */
export function sseEvents(events: Array<{ event?: string; data: unknown }>): string {
  return events
    .map((e) => `${e.event ? `event: ${e.event}\n` : ''}data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`)
    .join('');
}
