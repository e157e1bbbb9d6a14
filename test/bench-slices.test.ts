import { describe, expect, it } from 'vitest';
import { combineSlices, ratios, scenarios, type Slice } from '../load-tests/bench-scenarios.js';

const slice = (over: Partial<Slice>): Slice => ({ requests: 100, seconds: 2, cpuUs: 10_000, p50: 1, p99: 4, mean: 1, errors: 0, non2xx: 0, ...over });

describe('npm run bench: a scenario measured in interleaved slices', () => {
  it('divides the CPU of all slices by all their requests, not the mean of per-slice figures', () => {
    // 100 µs/req in a fast slice and 300 µs/req in a slow one: 40,000 µs over 200 requests.
    const r = combineSlices('gateway plain', [slice({ requests: 100, cpuUs: 10_000 }), slice({ requests: 100, cpuUs: 30_000 })]);
    expect(r.cpuUsPerRequest).toBe(200);
    const weighted = combineSlices('gateway plain', [slice({ requests: 300, cpuUs: 30_000 }), slice({ requests: 100, cpuUs: 30_000 })]);
    expect(weighted.cpuUsPerRequest).toBe(150);
  });

  it('weights the mean latency by requests, keeps the worst p99 and the median p50, and adds up errors', () => {
    const r = combineSlices('x', [
      slice({ requests: 300, mean: 1, p50: 1, p99: 3, errors: 1 }),
      slice({ requests: 100, mean: 5, p50: 4, p99: 9, non2xx: 2 }),
      slice({ requests: 100, mean: 1, p50: 2, p99: 5 }),
    ]);
    expect(r.mean).toBeCloseTo((300 * 1 + 100 * 5 + 100 * 1) / 500);
    expect(r.p50).toBe(2);
    expect(r.p99).toBe(9);
    expect(r.rps).toBeCloseTo(500 / 6);
    expect([r.errors, r.non2xx]).toEqual([1, 2]);
  });

  it('has no CPU figure for a process it does not measure, so no ratio is made from it', () => {
    const direct = combineSlices('gateway plain', [slice({ cpuUs: undefined })]);
    expect(direct.cpuUsPerRequest).toBeUndefined();
    const plain = ratios([direct, combineSlices('floor plain', [slice({})])]).find((r) => r.of === 'gateway plain' && r.over === 'floor plain');
    expect(plain?.value).toBeUndefined();
  });

  it('shows how far one round strayed: the lowest and highest per-round ratio around the ratio over all slices', () => {
    const gateway = [slice({ requests: 100, cpuUs: 12_000 }), slice({ requests: 100, cpuUs: 30_000 })];
    const floor = [slice({ requests: 100, cpuUs: 10_000 }), slice({ requests: 100, cpuUs: 20_000 })];
    const results = [combineSlices('gateway plain', gateway), combineSlices('floor plain', floor)];
    const plain = ratios(results, new Map([['gateway plain', gateway], ['floor plain', floor]])).find((r) => r.of === 'gateway plain' && r.over === 'floor plain');
    expect(plain?.value).toBeCloseTo(42_000 / 30_000);
    expect(plain?.spread?.[0]).toBeCloseTo(1.2);
    expect(plain?.spread?.[1]).toBeCloseTo(1.5);
    // A round where one side is missing gives no spread rather than a wrong one.
    const short = ratios(results, new Map([['gateway plain', gateway], ['floor plain', floor.slice(1)]])).find((r) => r.of === 'gateway plain');
    expect(short?.spread).toBeUndefined();
  });

  it('runs the two sides of every targeted ratio back to back in each round', () => {
    const order = scenarios('sk-bench', false, true).map((s) => s.name);
    const next = (a: string, b: string) => order.indexOf(b) - order.indexOf(a);
    expect(next('floor plain', 'gateway plain')).toBe(1);
    expect(next('gateway plain', 'gateway redis ledger')).toBe(1);
    expect(next('gateway redis ledger', 'gateway redis+keys+limits+budget')).toBe(1);
    expect(next('floor stream', 'gateway stream')).toBe(1);
    expect(next('floor rest', 'gateway rest')).toBe(1);
  });
});
