/** The SSE writer against a real socket: backpressure, and a client that stops reading. */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { SseWriter } from '../src/http/sse-writer.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

it('gives up on a client that stops reading instead of holding the stream forever', async () => {
  const outcome = new Promise<{ frames: number; closed: boolean }>((resolve) => {
    server = createServer(async (_req, res) => {
      const writer = new SseWriter(res, 300);
      writer.open({});
      const frame = `data: ${'x'.repeat(64 * 1024)}\n\n`;
      let frames = 0;
      // Far more than socket buffers hold: without the timeout this loop would wait on 'drain' forever.
      while (!writer.isClosed && frames < 10_000) {
        await writer.write(frame);
        frames++;
      }
      resolve({ frames, closed: writer.isClosed });
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const socket = connect((server!.address() as AddressInfo).port, '127.0.0.1');
  socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  // Read nothing: the kernel buffers fill up and the writer sees backpressure.
  socket.pause();
  const result = await outcome;
  socket.destroy();
  expect(result.closed).toBe(true);
  expect(result.frames).toBeLessThan(10_000);
});
