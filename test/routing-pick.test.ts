/** The strategies as pure functions: each is given the candidates, what it ranks by, and the random source. */
import { describe, expect, it } from 'vitest';
import { estimateCost, pickCheapest } from '../src/routing/pick-cheapest.js';
import { pickFastest } from '../src/routing/pick-fastest.js';
import { pickLeastBusy } from '../src/routing/pick-least-busy.js';
import { pickWeighted } from '../src/routing/pick-weighted.js';
import { seeded } from './helpers/random.js';

interface Item {
  name: string;
  weight: number;
}

function shares(items: Item[], picks: number, pick: () => Item | undefined): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(items.map((i) => [i.name, 0]));
  for (let i = 0; i < picks; i++) counts[pick()!.name]!++;
  return Object.fromEntries(Object.entries(counts).map(([name, n]) => [name, n / picks]));
}

describe('pickWeighted', () => {
  const items: Item[] = [
    { name: 'a', weight: 1 },
    { name: 'b', weight: 3 },
    { name: 'c', weight: 6 },
  ];

  it('sends traffic in proportion to weight over thousands of picks', () => {
    const random = seeded(42);
    const got = shares(items, 20_000, () => pickWeighted(items, random));
    // Binomial sd at n=20000 is under 0.0035; 0.015 is over 4 sd.
    expect(Math.abs(got.a! - 0.1)).toBeLessThan(0.015);
    expect(Math.abs(got.b! - 0.3)).toBeLessThan(0.015);
    expect(Math.abs(got.c! - 0.6)).toBeLessThan(0.015);
  });

  it('maps the random source onto cumulative weights', () => {
    expect(pickWeighted(items, () => 0)!.name).toBe('a');
    expect(pickWeighted(items, () => 0.099)!.name).toBe('a');
    expect(pickWeighted(items, () => 0.1)!.name).toBe('b');
    expect(pickWeighted(items, () => 0.41)!.name).toBe('c');
    expect(pickWeighted(items, () => 0.999999)!.name).toBe('c');
  });

  it('returns the only item without drawing, and undefined for none', () => {
    const draws: number[] = [];
    const only = pickWeighted([items[0]!], () => {
      draws.push(1);
      return 0.5;
    });
    expect(only!.name).toBe('a');
    expect(draws).toHaveLength(0);
    expect(pickWeighted([], Math.random)).toBeUndefined();
  });
});

describe('pickCheapest', () => {
  const prices = {
    premium: { input: 2.5, output: 10 },
    mini: { input: 0.15, output: 0.6 },
    chatty: { input: 0.1, output: 4 },
  };

  it('prices a request per 1M input and output tokens', () => {
    expect(estimateCost(prices.mini, { promptTokens: 1_000_000, completionTokens: 0 })).toBeCloseTo(0.15e6);
    expect(estimateCost(prices.mini, { promptTokens: 1000, completionTokens: 500 })).toBeCloseTo(1000 * 0.15 + 500 * 0.6);
  });

  it('picks the cheapest for the request, which depends on its input/output mix', () => {
    const items = Object.entries(prices).map(([name, price]) => ({ name, weight: 1, price }));
    const longPrompt = { promptTokens: 50_000, completionTokens: 10 };
    const longAnswer = { promptTokens: 10, completionTokens: 4000 };
    expect(pickCheapest(items, (i) => estimateCost(i.price, longPrompt), Math.random)!.name).toBe('chatty');
    expect(pickCheapest(items, (i) => estimateCost(i.price, longAnswer), Math.random)!.name).toBe('mini');
  });

  it('shares equal prices by weight', () => {
    const items = [
      { name: 'key1', weight: 1, cost: 0.45 },
      { name: 'key2', weight: 3, cost: 0.15 * 3 },
      { name: 'dear', weight: 100, cost: 9 },
    ];
    const random = seeded(7);
    const got = shares(items, 8000, () => pickCheapest(items, (i) => i.cost, random));
    expect(got.dear).toBe(0);
    expect(Math.abs(got.key1! - 0.25)).toBeLessThan(0.03);
    expect(Math.abs(got.key2! - 0.75)).toBeLessThan(0.03);
  });
});

describe('pickLeastBusy', () => {
  it('picks the deployment with the fewest requests in flight', () => {
    const items = [
      { name: 'a', weight: 5, inFlight: 4 },
      { name: 'b', weight: 1, inFlight: 1 },
      { name: 'c', weight: 1, inFlight: 2 },
    ];
    for (let i = 0; i < 100; i++) expect(pickLeastBusy(items, (x) => x.inFlight, Math.random)!.name).toBe('b');
  });

  it('shares equally idle deployments by weight', () => {
    const items = [
      { name: 'a', weight: 1, inFlight: 0 },
      { name: 'b', weight: 1, inFlight: 0 },
      { name: 'busy', weight: 50, inFlight: 1 },
    ];
    const random = seeded(3);
    const got = shares(items, 6000, () => pickLeastBusy(items, (x) => x.inFlight, random));
    expect(got.busy).toBe(0);
    expect(Math.abs(got.a! - 0.5)).toBeLessThan(0.03);
  });
});

describe('pickFastest', () => {
  const items: Item[] = [
    { name: 'fast', weight: 1 },
    { name: 'slow', weight: 1 },
    { name: 'slower', weight: 1 },
  ];
  const latency: Record<string, number | undefined> = { fast: 120, slow: 900, slower: 2000 };

  it('picks the lowest latency, exploring the others a little', () => {
    const random = seeded(11);
    const got = shares(items, 20_000, () => pickFastest(items, (i) => latency[i.name], random, 0.05));
    expect(Math.abs(got.fast! - 0.95)).toBeLessThan(0.01);
    expect(got.slow).toBeGreaterThan(0.015);
    expect(got.slower).toBeGreaterThan(0.015);
  });

  it('never explores with exploration 0', () => {
    const got = shares(items, 2000, () => pickFastest(items, (i) => latency[i.name], Math.random, 0));
    expect(got.fast).toBe(1);
  });

  it('tries a deployment with no measurement before ranking', () => {
    const measured = { fast: 100, slow: 800 } as Record<string, number | undefined>;
    for (let i = 0; i < 50; i++) expect(pickFastest(items, (x) => measured[x.name], Math.random)!.name).toBe('slower');
  });
});
