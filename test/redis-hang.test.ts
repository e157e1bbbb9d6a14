/**
 * A Redis that hangs (it keeps the connection but stops answering: a paused process, a
 * network partition without resets) must not hang calls that read it on the request path.
 * The gateway talks to the real Redis through a local proxy this suite can freeze.
 */
import { createServer, Socket, type Server } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { admin, chat, clientFor, createKey, MASTER } from './helpers/access.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { dropPrefix, uniquePrefix } from './helpers/redis.js';

const prefix = uniquePrefix('redis-hang');

/** A TCP proxy to 127.0.0.1:6379; `freeze` stops relaying in both directions, `thaw` resumes. */
interface FreezableProxy {
  url: string;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

async function startProxy(): Promise<FreezableProxy> {
  const pairs: Array<[Socket, Socket]> = [];
  let frozen = false;
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(6379, '127.0.0.1');
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    pairs.push([client, upstream]);
    if (frozen) {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze() {
      frozen = true;
      for (const [client, upstream] of pairs) {
        client.pause();
        upstream.pause();
      }
    },
    thaw() {
      frozen = false;
      for (const [client, upstream] of pairs) {
        client.resume();
        upstream.resume();
      }
    },
    async close() {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let proxy: FreezableProxy;
let gw: TestGateway;

beforeAll(async () => {
  proxy = await startProxy();
  gw = await startGateway({
    store: { redis_url: proxy.url, key_prefix: prefix },
    auth: { master_key: MASTER, require_keys: true },
    providers: { demo: { type: 'mock' } },
    models: [{ name: 'free', deployments: [{ provider: 'demo', model: 'mock-free' }] }],
    prompts: { dir: '/nonexistent-prompts-dir' },
  });
});

afterAll(async () => {
  proxy?.thaw();
  await gw?.close();
  await proxy?.close();
  await dropPrefix(prefix);
});

test('a keyed call answers 503 in a few seconds while Redis hangs, and works again after', async () => {
  const { key } = await createKey(gw.url, { name: 'hang', rpm: 100 });
  const client = clientFor(gw.url, key);
  expect((await chat(client)).status).toBe(200);

  proxy.freeze();
  const late = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 8000).unref());
  const during = await Promise.race([chat(client), late]);
  expect(during).not.toBe('hung');
  expect(during).toMatchObject({ status: 503, code: 'service_unavailable' });

  proxy.thaw();
  // The admin API reads the same store: it answers again once Redis does.
  await expect.poll(async () => (await admin(gw.url, 'GET', '/admin/keys')).status, { timeout: 10_000 }).toBe(200);
  await expect.poll(async () => (await chat(client)).status, { timeout: 10_000 }).toBe(200);
});
