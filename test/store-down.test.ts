/** With its Redis gone, the admin API answers 503 in our error shape, never a 500. */
import { expect, it } from 'vitest';
import { startGateway } from './helpers/gateway.js';
import { freePort } from './helpers/ports.js';

it('admin routes answer 503 with retry-after while Redis is unreachable', async () => {
  const port = await freePort();
  const gw = await startGateway({
    store: { redis_url: `redis://127.0.0.1:${port}`, key_prefix: 'test:store-down:' },
    auth: { master_key: 'sk-master-store-down' },
    providers: { demo: { type: 'mock' } },
    models: [{ name: 'm', deployments: [{ provider: 'demo', model: 'x' }] }],
  });
  try {
    for (const path of ['/admin/keys', '/admin/teams', '/admin/usage']) {
      const res = await fetch(`${gw.url}${path}`, { headers: { authorization: 'Bearer sk-master-store-down' } });
      const body = (await res.json()) as { error: { type: string; code: string; message: string } };
      expect(res.status, path).toBe(503);
      expect(res.headers.get('retry-after'), path).toBe('1');
      expect(body.error.code, path).toBe('service_unavailable');
      expect(body.error.message, path).not.toMatch(/at .*\.ts|ECONNREFUSED/);
    }
  } finally {
    await gw.close();
  }
});
