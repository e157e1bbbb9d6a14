import type { Socket } from 'node:net';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coalesceWrites } from '../src/store/coalesced-writes.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';

const prefix = uniquePrefix('coalesce');
let redis: Redis;

/** Counts the socket writes (single or vectored) the connection makes from now on. */
function countWrites(socket: Socket): () => number {
  let writes = 0;
  const target = socket as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  const write = target._write.bind(socket);
  const writev = target._writev.bind(socket);
  target._write = (...a) => {
    writes++;
    write(...a);
  };
  target._writev = (...a) => {
    writes++;
    writev(...a);
  };
  return () => writes;
}

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  await once(redis, 'ready');
});

afterAll(async () => {
  await dropPrefix(prefix);
  await redis.quit();
});

describe('coalesceWrites', () => {
  it('sends the commands of one turn of the event loop in one socket write, in order', async () => {
    const writes = countWrites(redis.stream as Socket);
    const replies: Array<Promise<unknown>> = [];
    for (let i = 0; i < 50; i++) {
      coalesceWrites(redis);
      replies.push(redis.set(`${prefix}k`, String(i)));
      coalesceWrites(redis);
      replies.push(redis.get(`${prefix}k`));
    }
    // Nothing left yet: the turn is not over.
    expect(writes()).toBe(0);
    const answers = await Promise.all(replies);
    expect(writes()).toBe(1);
    // Each GET saw the SET issued just before it: the order on the connection held.
    for (let i = 0; i < 50; i++) expect(answers[2 * i + 1]).toBe(String(i));
  });

  it('leaves the next turn free: a command issued later goes in its own write', async () => {
    const writes = countWrites(redis.stream as Socket);
    coalesceWrites(redis);
    await redis.set(`${prefix}a`, '1');
    coalesceWrites(redis);
    await redis.set(`${prefix}b`, '2');
    expect(writes()).toBe(2);
    expect((redis.stream as Socket).writableCorked).toBe(0);
  });

  it('does nothing for a client that is not connected: its commands wait in ioredis as before', async () => {
    const offline = new Redis(REDIS_URL, { lazyConnect: true });
    coalesceWrites(offline);
    const reply = offline.ping();
    expect(offline.status).not.toBe('ready');
    await expect(reply).resolves.toBe('PONG');
    expect((offline.stream as Socket).writableCorked).toBe(0);
    await offline.quit();
  });
});
