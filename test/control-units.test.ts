/**
 * The control plane's parts on their own: the overlay merge, secret masking, Redis topology
 * from `store` settings (Sentinel and Cluster are only parsed here: no such servers), the
 * deployment files, snapshot swaps that close replaced providers only once their calls ended,
 * and the config stores' compare-and-set (the Redis one on the real Redis).
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig, parseConfig } from '../src/config/load-config.js';
import { buildSnapshot, type ConfigSnapshot } from '../src/control/config-snapshot.js';
import { ConfigState } from '../src/control/config-state.js';
import { configKeys, createMemoryConfigStore, createRedisConfigStore } from '../src/control/config-store.js';
import { maskConfig, maskSecret, maskUrl, maskWebhook } from '../src/control/mask-secrets.js';
import { applyOverlay, EMPTY_OVERLAY, faultsByName, type OverlayEntry } from '../src/control/overlay.js';
import { createBalancer } from '../src/routing/balancer.js';
import { ServicePools } from '../src/services/service-pools.js';
import { redisTopology } from '../src/store/redis.js';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';

const log = pino({ level: 'silent' });

describe('overlay', () => {
  const seed = {
    providers: { demo: { type: 'mock' }, old: { type: 'mock' } },
    models: [
      { name: 'b', deployments: [] },
      { name: 'a', deployments: [] },
    ],
    services: [{ name: 's', prefix: '/s' }],
  };

  test('replaces entries in place, drops deleted ones (file entries too) and appends new ones by name', () => {
    const overlay = new Map<string, OverlayEntry>([
      ['models/z', { strategy: 'cost' }],
      ['models/b', { strategy: 'priority' }],
      ['models/y', { strategy: 'latency' }],
      ['models/a', null],
      ['providers/old', null],
      ['providers/new', { type: 'mock' }],
      ['services/t', { prefix: '/t' }],
    ]);
    const merged = applyOverlay(seed, overlay);
    expect(merged.models).toEqual([
      { name: 'b', strategy: 'priority' },
      { name: 'y', strategy: 'latency' },
      { name: 'z', strategy: 'cost' },
    ]);
    expect(merged.providers).toEqual({ demo: { type: 'mock' }, new: { type: 'mock' } });
    expect(merged.services).toEqual([{ name: 's', prefix: '/s' }, { name: 't', prefix: '/t' }]);
    expect(seed.models).toHaveLength(2);
    expect(applyOverlay(seed, EMPTY_OVERLAY)).toBe(seed);
  });

  test('names list items in fault paths', () => {
    const faults = faultsByName(['/models/1/deployments/0/provider: unknown provider "x"', '/services/0: bad', '/providers/p/type: bad', '/models/9/name: odd'], seed);
    expect(faults).toEqual(['/models/a/deployments/0/provider: unknown provider "x"', '/services/s: bad', '/providers/p/type: bad', '/models/9/name: odd']);
  });
});

describe('masking', () => {
  test('secrets, URLs with credentials and webhooks', () => {
    expect(maskSecret('sk-proj-abcdefghijklmnop1234')).toBe('****1234');
    expect(maskSecret('short-secret')).toBe('****');
    expect(maskSecret('sk-proj-abcdefghijklmnop1234', false)).toBe('****');
    expect(maskSecret('')).toBe('');
    expect(maskSecret('${OPENAI_API_KEY}')).toBe('${OPENAI_API_KEY}');
    expect(maskSecret('${OPENAI_API_KEY:-sk-fallback-secret}')).toBe('${OPENAI_API_KEY:-****}');
    expect(maskUrl('redis://:p4ssw0rd@redis:6379/2')).toBe('redis://:****@redis:6379/2');
    expect(maskUrl('https://api.example/v1?api-key=abc&region=eu')).toBe('https://api.example/v1?api-key=****&region=****');
    expect(maskUrl('http://127.0.0.1:11434/v1')).toBe('http://127.0.0.1:11434/v1');
    expect(maskWebhook('https://hooks.slack.com/services/T0/B0/secret')).toBe('https://hooks.slack.com/****');
    expect(maskWebhook('')).toBe('');
  });

  test('a whole config, leaving the input untouched', () => {
    const config = parseConfig({
      store: { redis_url: 'redis://user:pw-123@r:6379', sentinel_password: 'sentinel-pw' },
      auth: { master_key: 'sk-master-0123456789abcdef', budget_alert_webhook: 'https://user:pw@alerts.example/hook' },
      providers: { o: { type: 'openai', api_key: 'test-provider-key-0123WXYZ', headers: { 'OpenAI-Organization': 'org-1', Authorization: 'Bearer tok-xyz' } } },
      services: [{ name: 's', prefix: '/s', targets: [{ url: 'http://t' }], request_headers: { set: { 'x-api-key': 'svc-key', 'x-env': 'prod' } } }],
    });
    const masked = maskConfig(config);
    const text = JSON.stringify(masked);
    for (const secret of ['pw-123', 'sentinel-pw', 'sk-master', 'alerts.example/hook', 'test-provider-key', 'tok-xyz', 'svc-key']) expect(text).not.toContain(secret);
    expect(masked).toMatchObject({
      store: { redis_url: 'redis://****:****@r:6379', sentinel_password: '****' },
      auth: { master_key: '****', budget_alert_webhook: 'https://alerts.example/****' },
      providers: { o: { api_key: '****WXYZ', headers: { 'OpenAI-Organization': '****', Authorization: '****' } } },
      services: [{ request_headers: { set: { 'x-api-key': '****', 'x-env': '****' } } }],
    });
    expect(config.auth.master_key).toBe('sk-master-0123456789abcdef');
  });
});

describe('Redis topology from store settings', () => {
  test('single node from redis_url; none without one', () => {
    expect(redisTopology(parseConfig({ store: { redis_url: 'redis://127.0.0.1:6379/0' } }).store)).toEqual({ mode: 'single', url: 'redis://127.0.0.1:6379/0' });
    expect(redisTopology(parseConfig({}).store)).toEqual({ mode: 'none' });
  });

  test('Sentinel: the sentinels, the master name, and the credentials and db of redis_url', () => {
    const { store } = parseConfig(
      {
        store: {
          redis_url: 'rediss://app:${REDIS_PASSWORD}@ignored:6379/3',
          sentinels: [
            { host: 's1', port: '${SENTINEL_PORT}' },
            { host: 's2', port: 26379 },
          ],
          sentinel_name: 'mymaster',
          sentinel_password: 'spw',
        },
      },
      { REDIS_PASSWORD: 'p%40ss', SENTINEL_PORT: '26380' },
    );
    const topology = redisTopology(store);
    expect(topology).toMatchObject({
      mode: 'sentinel',
      options: {
        sentinels: [
          { host: 's1', port: 26380 },
          { host: 's2', port: 26379 },
        ],
        name: 'mymaster',
        sentinelPassword: 'spw',
        username: 'app',
        password: 'p@ss',
        db: 3,
        tls: {},
        maxRetriesPerRequest: 1,
        enableOfflineQueue: true,
      },
    });
  });

  test('Cluster: the seed nodes, credentials for every node, no db', () => {
    const { store } = parseConfig({
      store: { redis_url: 'redis://:pw@x/5', cluster_nodes: [{ host: 'r1', port: 7000 }, { host: 'r2', port: 7001 }] },
    });
    const topology = redisTopology(store);
    expect(topology).toMatchObject({
      mode: 'cluster',
      nodes: [{ host: 'r1', port: 7000 }, { host: 'r2', port: 7001 }],
      options: { enableOfflineQueue: true, redisOptions: { password: 'pw', maxRetriesPerRequest: 1 } },
    });
    expect((topology as { options: { redisOptions: object } }).options.redisOptions).not.toHaveProperty('db');
  });

  test('conflicting or incomplete settings are config faults with their paths', () => {
    const faultsOf = (store: unknown) => {
      try {
        parseConfig({ store });
      } catch (err) {
        return (err as ConfigError).faults;
      }
      return [];
    };
    expect(faultsOf({ sentinels: [{ host: 's', port: 1 }] })).toEqual(['/store/sentinel_name: required with sentinels (the master name)']);
    expect(faultsOf({ sentinels: [{ host: 's', port: 1 }], sentinel_name: 'm', cluster_nodes: [{ host: 'c', port: 2 }] })).toEqual(['/store: set sentinels or cluster_nodes, not both']);
    expect(faultsOf({ cluster_nodes: [{ host: 'c' }] })[0]).toMatch(/^\/store\/cluster_nodes\/0: must have required property 'port'/);
  });
});

describe('deployment files', () => {
  test('gateway.cluster.yaml is a valid config that needs the master key from the environment', async () => {
    const config = await loadConfig('config/deploy/gateway.cluster.yaml', { GATEWAY_MASTER_KEY: 'sk-admin-cluster' });
    expect(config.store).toMatchObject({ redis_url: 'redis://redis:6379', key_prefix: 'konnect:' });
    expect(config.auth).toMatchObject({ master_key: 'sk-admin-cluster', require_keys: true });
    expect(config.ledger.spool_dir).toBe('/var/lib/konnect/spool');
    await expect(loadConfig('config/deploy/gateway.cluster.yaml', {})).rejects.toThrow(/\/auth\/master_key: environment variable GATEWAY_MASTER_KEY is not set/);
  });

  test('compose.yaml runs Redis, three gateways from the Dockerfile on the cluster config, and nginx in front', () => {
    const compose = parseYaml(readFileSync('config/deploy/compose.yaml', 'utf8'), { merge: true }) as {
      services: Record<string, { build?: { context: string; dockerfile: string }; environment?: Record<string, string>; volumes?: string[]; ports?: string[] }>;
    };
    const gateways = Object.keys(compose.services).filter((name) => name.startsWith('gateway-'));
    expect(gateways).toEqual(['gateway-1', 'gateway-2', 'gateway-3']);
    for (const name of gateways) {
      const service = compose.services[name]!;
      expect(service.build).toEqual({ context: '../..', dockerfile: 'config/deploy/Dockerfile' });
      expect(service.environment).toMatchObject({ GATEWAY_CONFIG: 'config/deploy/gateway.cluster.yaml', REDIS_URL: 'redis://redis:6379' });
    }
    expect(compose.services.redis).toBeDefined();
    expect(compose.services.lb!.volumes).toEqual(['./nginx.conf:/etc/nginx/nginx.conf:ro']);
    const nginx = readFileSync('config/deploy/nginx.conf', 'utf8');
    for (const name of gateways) expect(nginx).toContain(`server ${name}:8787`);
    const dockerfile = readFileSync('config/deploy/Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*/m);
    expect(dockerfile).toContain('npm ci --omit=dev');
    // The image starts the gateway as `npm run start:prod` does, heap flags included.
    const startProd = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts['start:prod']!;
    const cmd = JSON.parse(dockerfile.match(/^CMD (\[.*\])$/m)![1]!) as string[];
    expect(cmd.join(' ')).toBe(startProd);
  });
});

describe('snapshot swaps', () => {
  const parts = { servicePools: new ServicePools(), balancer: createBalancer(), ledger: createMemoryLedger(), log };
  const configOf = (slowLatency: number, model = 'm-slow') =>
    parseConfig({
      providers: { fast: { type: 'mock' }, slow: { type: 'mock', latency_ms: slowLatency } },
      models: [{ name: 'g', deployments: [{ provider: 'fast', model: 'm-fast' }, { provider: 'slow', model }] }],
      services: [
        { name: 'root', prefix: '/', targets: [{ url: 'http://127.0.0.1:9' }] },
        { name: 'api', prefix: '/api', targets: [{ url: 'http://127.0.0.1:9' }] },
        { name: 'deep', prefix: '/api/v2/', targets: [{ url: 'http://127.0.0.1:9' }] },
      ],
    });
  const snapshot = (config: ReturnType<typeof configOf>, previous?: ConfigSnapshot) =>
    buildSnapshot(config, previous, { version: previous ? previous.info.version + 1 : 0, source: 'local', overlay: EMPTY_OVERLAY }, parts);

  test('reuse what did not change; close a replaced provider once the calls on its snapshot ended', async () => {
    const first = snapshot(configOf(0));
    const second = snapshot(configOf(5), first);
    const [fast1, slow1] = [first.registry.adapters.get('fast')!, first.registry.adapters.get('slow')!];
    expect(second.registry.adapters.get('fast')).toBe(fast1);
    expect(second.registry.adapters.get('slow')).not.toBe(slow1);
    const [d1, d2] = [first.registry.resolve('g')!.deployments, second.registry.resolve('g')!.deployments];
    expect(d2[0]).toBe(d1[0]);
    expect(d2[1]).not.toBe(d1[1]);
    expect(second.services.entries[0]).toBe(first.services.entries[0]);

    const closeFast = vi.fn(async () => undefined);
    const closeSlow = vi.fn(async () => undefined);
    fast1.close = closeFast;
    slow1.close = closeSlow;
    const state = new ConfigState(first, log);
    first.enter();
    first.enter();
    state.swap(second);
    expect(state.current).toBe(second);
    first.leave();
    expect(closeSlow).not.toHaveBeenCalled();
    first.leave();
    expect(closeSlow).toHaveBeenCalledTimes(1);
    expect(closeFast).not.toHaveBeenCalled();
    await state.close();
  });

  test('after the grace period a replaced provider is closed even with calls left on it', async () => {
    const first = snapshot(configOf(0));
    const closeSlow = vi.fn(async () => undefined);
    first.registry.adapters.get('slow')!.close = closeSlow;
    const state = new ConfigState(first, log, 50);
    first.enter();
    state.swap(snapshot(configOf(7), first));
    expect(closeSlow).not.toHaveBeenCalled();
    await expect.poll(() => closeSlow.mock.calls.length).toBe(1);
    await state.close();
  });

  test('services are found by the longest prefix at a segment boundary', () => {
    const { services } = snapshot(configOf(0));
    const found = (path: string) => services.find(path)?.name;
    expect(found('/api')).toBe('api');
    expect(found('/api/users/1')).toBe('api');
    expect(found('/api/v2')).toBe('deep');
    expect(found('/api/v2/x/')).toBe('deep');
    expect(found('/apiary')).toBe('root');
    expect(found('/')).toBe('root');
    services.retire(undefined);
  });
});

describe('config stores', () => {
  const prefix = uniquePrefix('control-units');
  const redis = new Redis(REDIS_URL);
  afterAll(async () => {
    await redis.quit();
    await dropPrefix(prefix);
  });

  test.each([
    ['memory', () => createMemoryConfigStore()],
    ['redis', () => createRedisConfigStore(redis, prefix)],
  ])('%s: versions, and a commit on a stale version is refused', async (_kind, create) => {
    const store = create();
    expect(await store.read()).toEqual({ version: 0, overlay: new Map() });
    expect(await store.commit(0, 'models/a', { deployments: [] })).toBe(1);
    expect(await store.commit(0, 'models/b', { deployments: [] })).toBeUndefined();
    expect(await store.commit(1, 'models/a', null)).toBe(2);
    expect(await store.version()).toBe(2);
    expect(await store.read()).toEqual({ version: 2, overlay: new Map([['models/a', null]]) });
  });

  test('the Redis keys share one hash slot, as the commit script needs on a Cluster', () => {
    const keys = configKeys('konnect:');
    const tag = (key: string) => /\{([^}]+)\}/.exec(key)?.[1];
    expect(tag(keys.overlay)).toBe('config');
    expect(tag(keys.version)).toBe('config');
  });
});
