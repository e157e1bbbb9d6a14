/**
 * The usage counters' contract, on memory (with an injected clock) and on the real Redis: a
 * reservation's correction lands in the window it was taken in, or nowhere once that window
 * rolled over; a replayed settlement batch counts once; reservations of calls that never
 * settle are released when they expire; budgets count what is held.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryCounters } from '../src/access/memory-counters.js';
import { accessKeys } from '../src/access/redis-access-store.js';
import { createRedisCounters } from '../src/access/redis-counters.js';
import type { Scope, UsageCounters } from '../src/access/usage-counters.js';
import { dropPrefix, REDIS_URL, uniquePrefix } from './helpers/redis.js';

const prefix = uniquePrefix('counters-windows');
const redis = new Redis(REDIS_URL);
afterAll(async () => {
  await dropPrefix(prefix);
  redis.disconnect();
});

const scope = (id: string, limits: Partial<Pick<Scope, 'tpm' | 'budgetNano'>>): Scope => ({
  id,
  version: 1,
  rpm: null,
  tpm: limits.tpm ?? null,
  budgetNano: limits.budgetNano ?? null,
  period: 'total',
});

interface Harness {
  counters: UsageCounters;
  /** Makes the scope's current tpm window end, as 60 s passing would. */
  rollOver(scopeId: string): Promise<void>;
  /** Moves time past every reservation's expiry. */
  expireReservations(scopeId: string): Promise<void>;
}

let clock = 1_800_000_000_000;
const memory = (): Harness => ({
  counters: createMemoryCounters({ now: () => clock, reservationTtlMs: 10_000 }),
  rollOver: async () => {
    clock += 61_000;
  },
  expireReservations: async () => {
    clock += 11_000;
  },
});

const onRedis = (name: string): Harness => {
  const p = `${prefix}${name}:`;
  return {
    counters: createRedisCounters(redis, p),
    // Redis times windows itself (PEXPIRE); ending one early is what its expiry does.
    rollOver: async (scopeId) => void (await redis.del(`${p}rl:${scopeId}:t`, `${p}rl:${scopeId}:tg`)),
    // Redis's own clock times reservations: back-dating their expiry is what waiting would do.
    expireReservations: async (scopeId) => {
      const expiries = `${p}resv:${scopeId}:x`;
      for (const member of await redis.zrange(expiries, '0', '-1')) await redis.zadd(expiries, '0', member);
    },
  };
};

async function versions(name: string, ids: string[]): Promise<void> {
  // The Redis admission checks each scope's record version, as the access store writes it.
  for (const id of ids) await redis.hset(accessKeys(`${prefix}${name}:`).versions, id, '1');
}

describe.each([{ kind: 'memory' }, { kind: 'redis' }])('counters on $kind', ({ kind }) => {
  const harness = (name: string, ids: string[]) => (kind === 'memory' ? Promise.resolve(memory()) : versions(name, ids).then(() => onRedis(name)));
  const now = () => clock;

  it('applies a late correction to the window it reserved in, never to the next one', async () => {
    const h = await harness('late', ['k:late']);
    const s = scope('k:late', { tpm: 6000 });
    const admit = (callId: string, tokens: number) => h.counters.admit({ scopes: [s], callId, tokens, reserveNano: 0, count: true, now: now() });
    expect((await admit('a', 4008)).outcome).toBe('admitted');
    await h.rollOver('k:late');
    const b = await admit('b', 5008);
    expect(b.outcome).toBe('admitted');
    // Call a used 8 of its 4008 tokens; its window is gone, so nothing is given back in b's.
    await h.counters.settle('batch-a', [{ callId: 'a', scopeIds: ['k:late'], tokens: 8, costNano: 0, time: now() }]);
    const c = await admit('c', 1000);
    expect(c.outcome).toBe('over_tpm');
    // b's own correction does land in its own window.
    await h.counters.settle('batch-b', [{ callId: 'b', scopeIds: ['k:late'], tokens: 8, costNano: 0, time: now() }]);
    expect((await admit('d', 1000)).outcome).toBe('admitted');
  });

  it('counts a replayed batch once and releases the reservation it settles', async () => {
    const h = await harness('replay', ['k:replay']);
    const s = scope('k:replay', { budgetNano: 1000 });
    const admit = (callId: string, reserveNano: number) => h.counters.admit({ scopes: [s], callId, tokens: 0, reserveNano, count: true, now: now() });
    expect((await admit('a', 600)).outcome).toBe('admitted');
    // 600 held: another 600 does not fit, 400 does.
    expect((await admit('b', 600)).outcome).toBe('over_budget');
    const settled = { callId: 'a', scopeIds: ['k:replay'], tokens: 10, costNano: 250, time: now() };
    expect(await h.counters.settle('batch-1', [settled])).toEqual([[{ day: 250, week: 250, month: 250, total: 250 }]]);
    expect(await h.counters.settle('batch-1', [settled])).toEqual([[]]);
    expect(await h.counters.spend([s], now())).toEqual([250]);
    expect((await admit('c', 750)).outcome).toBe('admitted');
    expect((await admit('d', 1)).outcome).toBe('over_budget');
  });

  it('releases the reservation of a call that never settles once it expires', async () => {
    const h = await harness('expire', ['k:expire']);
    const s = scope('k:expire', { budgetNano: 1000 });
    const admit = (callId: string) => h.counters.admit({ scopes: [s], callId, tokens: 0, reserveNano: 900, count: true, now: now() });
    expect((await admit('lost')).outcome).toBe('admitted');
    expect((await admit('next')).outcome).toBe('over_budget');
    await h.expireReservations('k:expire');
    expect((await admit('after')).outcome).toBe('admitted');
  });
});
