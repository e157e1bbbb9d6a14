/** The in-memory deployment gate: rpm and tpm per one-minute window, concurrency, retry-after. */
import { describe, expect, it } from 'vitest';
import { createMemoryGate } from '../src/routing/deployment-limits.js';

const never = { signal: new AbortController().signal, waitUntil: Infinity };

function clockAt(start: number) {
  const clock = { now: start, read: () => clock.now };
  return clock;
}

describe('memory gate', () => {
  it('lets rpm requests through per window, then again when the window turns', () => {
    const clock = clockAt(1_000);
    const gate = createMemoryGate({ rpm: 3 }, clock.read);
    const taken = Array.from({ length: 5 }, () => gate.take(0, never));
    expect(taken).toEqual([true, true, true, false, false]);
    // Finishing requests does not give back the minute's requests.
    gate.release();
    expect(gate.take(0, never)).toBe(false);
    clock.now += 20_000;
    expect(gate.retryAfterMs()).toBe(40_000);
    clock.now += 40_000;
    expect(gate.take(0, never)).toBe(true);
  });

  it('holds concurrency until requests finish', () => {
    const gate = createMemoryGate({ concurrency: 2 });
    expect(gate.take(0, never)).toBe(true);
    expect(gate.take(0, never)).toBe(true);
    expect(gate.take(0, never)).toBe(false);
    expect(gate.retryAfterMs()).toBe(1000);
    gate.release();
    expect(gate.take(0, never)).toBe(true);
  });

  it('charges the token estimate up front and settles the real usage after', () => {
    const clock = clockAt(0);
    const gate = createMemoryGate({ tpm: 1000 }, clock.read);
    expect(gate.take(400, never)).toBe(true);
    expect(gate.take(400, never)).toBe(true);
    expect(gate.take(400, never)).toBe(false); // 800 + 400 > 1000
    gate.release(100); // used 100 of its 400
    expect(gate.take(400, never)).toBe(true); // 500 + 400
    gate.release(1000); // 900 - 400 + 1000 = 1500: spent
    expect(gate.take(1, never)).toBe(false);
    expect(gate.take(0, never)).toBe(false);
    expect(gate.retryAfterMs()).toBe(60_000);
  });

  it('lets a request bigger than the whole tpm through on a fresh window', () => {
    const clock = clockAt(0);
    const gate = createMemoryGate({ tpm: 1000 }, clock.read);
    expect(gate.take(50_000, never)).toBe(true);
    expect(gate.take(1, never)).toBe(false);
    clock.now = 60_000;
    expect(gate.take(50_000, never)).toBe(true);
  });

  it('applies every limit it has', () => {
    const gate = createMemoryGate({ rpm: 10, tpm: 100, concurrency: 1 });
    expect(gate.take(10, never)).toBe(true);
    expect(gate.take(10, never)).toBe(false); // concurrency
    gate.release(10);
    expect(gate.take(95, never)).toBe(false); // tokens: 10 + 95 > 100
    expect(gate.take(90, never)).toBe(true);
  });
});
