/**
 * The pure parts of service routing: path mapping and its refusals, and the target pool's
 * health bookkeeping under an injected clock and random source.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/load-config.js';
import { GatewayError } from '../src/core/errors.js';
import { compileService } from '../src/services/compile-service.js';
import { createTargetPool } from '../src/services/target-pool.js';
import { toPathRule, toUpstreamPath } from '../src/services/upstream-path.js';

describe('toUpstreamPath', () => {
  const strip = toPathRule('/api/users', '');
  const keep = toPathRule('/api/users/', '/api/users');
  const rewrite = toPathRule('/legacy', '/internal/v2/');
  const root = toPathRule('/', '');

  it.each([
    [strip, '/api/users', '/'],
    [strip, '/api/users/', '/'],
    [strip, '/api/users/7', '/7'],
    [strip, '/api/users/7/', '/7/'],
    [strip, '/api/users//7//x', '/7/x'],
    [strip, '/api/users/a/./b/../c', '/a/c'],
    [strip, '/api/users/a/b/..', '/a/'],
    [strip, '/api/users/a%20b', '/a%20b'],
    [strip, '/api/users/...', '/...'],
    [strip, '/api/users/a..b', '/a..b'],
    [strip, '/api/%75sers/1', '/1'],
    [strip, '/api/users/x;v=1', '/x;v=1'],
    [keep, '/api/users/7', '/api/users/7'],
    [keep, '/api/users', '/api/users'],
    [rewrite, '/legacy/a', '/internal/v2/a'],
    [rewrite, '/legacy', '/internal/v2'],
    [root, '/', '/'],
    [root, '/anything/here', '/anything/here'],
  ])('%# maps %s', (rule, input, expected) => {
    expect(toUpstreamPath(input, rule)).toBe(expected);
  });

  it.each([
    '/api/users/..',
    '/api/users/../orders',
    '/api/users/../../x',
    '/api/users/%2e%2e',
    '/api/users/%2E%2e/x',
    '/api/users/.%2E/x',
    '/api/users/%2e',
    '/api/users/a%2fb',
    '/api/users/a%2Fb',
    '/api/users/a%5cb',
    '/api/users/a\\b',
    '/api/users/a%00',
    '/api/users/..;/x',
    '/api/users/.;x/y',
    '/api/users/%zz',
    '/api/users/%E0%A4%A',
    '/api/users/a#b',
    '/api/orders/1',
  ])('refuses %s with a 400', (input) => {
    let caught: unknown;
    try {
      toUpstreamPath(input, strip);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect((caught as GatewayError).status).toBe(400);
  });

  it('refuses climbing out of the root service', () => {
    expect(() => toUpstreamPath('/a/../../etc', root)).toThrow(GatewayError);
  });
});

describe('createTargetPool', () => {
  const make = (maxFails = 2) => {
    const clock = { now: 1_000_000 };
    let next = 0;
    const randoms: number[] = [];
    const pool = createTargetPool(
      [
        { url: 'http://a.test:1/base/', weight: 1 },
        { url: 'http://b.test:2', weight: 3 },
      ],
      { maxFails, cooldownMs: 5000, now: () => clock.now, random: () => randoms[next++] ?? 0 },
    );
    const [a, b] = pool.targets;
    return { pool, a: a!, b: b!, clock, randoms };
  };

  it('keeps the base path of a target URL without its trailing slash', () => {
    const { a, b } = make();
    expect(a.base).toBe('http://a.test:1/base');
    expect(a.origin).toBe('http://a.test:1');
    expect(b.base).toBe('http://b.test:2');
  });

  it('picks by weight', () => {
    const { pool, a, b, randoms } = make();
    randoms.push(0.2, 0.3, 0.99);
    expect(pool.pick()).toBe(a);
    expect(pool.pick()).toBe(b);
    expect(pool.pick()).toBe(b);
  });

  it('skips targets already tried', () => {
    const { pool, a, b } = make();
    expect(pool.pick([a])).toBe(b);
    expect(pool.pick([b])).toBe(a);
    expect(pool.pick([a, b])).toBeUndefined();
  });

  it('ejects after max_fails consecutive failures, a success resets the count', () => {
    const { pool, a, b } = make(2);
    pool.report(b, 'failed');
    pool.report(b, 'ok');
    pool.report(b, 'failed');
    expect(pool.pick([a])).toBe(b);
    pool.report(b, 'failed');
    expect(pool.pick([a])).toBeUndefined();
    expect(pool.pick()).toBe(a);
  });

  it('ejects a refusing target at once and takes it back after the cooldown', () => {
    const { pool, a, b, clock } = make(5);
    pool.report(b, 'refused');
    expect(pool.pick()).toBe(a);
    expect(pool.secondsUntilRecovery()).toBe(5);
    clock.now += 4999;
    expect(pool.pick([a])).toBeUndefined();
    clock.now += 1;
    expect(pool.pick([a])).toBe(b);
  });

  it('has nothing to pick while every target is out, and says when one returns', () => {
    const { pool, a, b, clock } = make(1);
    pool.report(a, 'refused');
    clock.now += 2000;
    pool.report(b, 'failed');
    expect(pool.pick()).toBeUndefined();
    expect(pool.secondsUntilRecovery()).toBe(3);
  });

  it('follows the active check, which does not cut a passive cooldown short', () => {
    const { pool, a, b, clock } = make(1);
    pool.setChecked(b, false);
    expect(pool.pick([a])).toBeUndefined();
    pool.setChecked(b, true);
    expect(pool.pick([a])).toBe(b);
    pool.report(b, 'refused');
    pool.setChecked(b, true);
    expect(pool.pick([a])).toBeUndefined();
    clock.now += 5000;
    expect(pool.pick([a])).toBe(b);
  });
});

describe('compileService', () => {
  const compile = (service: Record<string, unknown>) => {
    const config = parseConfig({ services: [{ name: 's', prefix: '/s', targets: [{ url: 'http://127.0.0.1:1' }], ...service }] }, {});
    return compileService(config.services[0]!, 0, { defaultBodyLimitMb: 10 });
  };

  it('fills defaults: strip, retries, health, all common methods, the server body limit', () => {
    const service = compile({});
    expect(service.path.upstreamPrefix).toBe('');
    expect(service.retries).toBe(2);
    expect(service.config.health).toEqual({ max_fails: 3, cooldown_ms: 10000 });
    expect([...service.methods]).toEqual(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
    expect(service.bodyLimit).toBe(10 * 1024 * 1024);
    expect(compile({ body_limit_mb: 0.5 }).bodyLimit).toBe(512 * 1024);
  });

  it.each([
    [{ prefix: '/api/:tenant' }, '/services/0/prefix'],
    [{ prefix: '/api/*' }, '/services/0/prefix'],
    [{ prefix: '/api/%2e%2e' }, '/services/0/prefix'],
    [{ prefix: '/api/../admin' }, '/services/0/prefix'],
    [{ rewrite: '/v2?x=1' }, '/services/0/rewrite'],
    [{ targets: [{ url: 'http://user:pw@127.0.0.1:1' }] }, '/services/0/targets/0/url'],
    [{ targets: [{ url: 'http://127.0.0.1:1/?q=1' }] }, '/services/0/targets/0/url'],
  ])('refuses %j naming %s', (service, where) => {
    let caught: unknown;
    try {
      compile(service);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).faults[0]).toContain(where);
  });

  it('refuses an unknown method at config load', () => {
    expect(() => compile({ methods: ['GET', 'FETCH'] })).toThrow(ConfigError);
  });
});
