/** The pure parts of the access layer: budget periods, reset formatting, alert thresholds, permissions. */
import { describe, expect, test } from 'vitest';
import { crossedThresholds } from '../src/access/budget-alerts.js';
import { bucketOf, periodEnd } from '../src/access/budget-periods.js';
import { mayUse, permissionsOf } from '../src/access/permissions.js';
import { formatReset, rateLimitHeaders } from '../src/access/rate-limit-headers.js';
import { EMPTY_POLICY } from '../src/access/types.js';

describe('budget periods (UTC calendar)', () => {
  // Wednesday 2025-01-01 13:45 UTC.
  const now = Date.UTC(2025, 0, 1, 13, 45);

  test('buckets name the day, the ISO week by its Monday, the month, or total', () => {
    expect(bucketOf('day', now)).toBe('d2025-01-01');
    expect(bucketOf('week', now)).toBe('w2024-12-30');
    expect(bucketOf('month', now)).toBe('m2025-01');
    expect(bucketOf('total', now)).toBe('total');
    expect(bucketOf('week', Date.UTC(2025, 0, 5, 23, 59))).toBe('w2024-12-30'); // Sunday
    expect(bucketOf('week', Date.UTC(2025, 0, 6))).toBe('w2025-01-06'); // Monday
  });

  test('periods end at the next midnight, Monday, first of the month; total never', () => {
    expect(periodEnd('day', now)).toBe(Date.UTC(2025, 0, 2));
    expect(periodEnd('week', now)).toBe(Date.UTC(2025, 0, 6));
    expect(periodEnd('month', Date.UTC(2024, 11, 31, 23))).toBe(Date.UTC(2025, 0, 1));
    expect(periodEnd('total', now)).toBeUndefined();
  });
});

test('reset durations read like OpenAI writes them', () => {
  expect(formatReset(250)).toBe('250ms');
  expect(formatReset(1000)).toBe('1s');
  expect(formatReset(59_994)).toBe('59.994s');
  expect(formatReset(360_000)).toBe('6m0s');
});

test('x-ratelimit headers show the scope with the fewest left', () => {
  const scope = (rpm: number | null, tpm: number | null) => ({ id: 'x', version: 1, rpm, tpm, budgetNano: null, period: 'total' as const });
  const headers = rateLimitHeaders(
    [scope(10, null), scope(100, 5000)],
    [
      { requests: 9, requestsResetMs: 1000, tokens: 0, tokensResetMs: 60_000 },
      { requests: 50, requestsResetMs: 2000, tokens: 1000, tokensResetMs: 30_000 },
    ],
  );
  expect(headers).toEqual({
    'x-ratelimit-limit-requests': '10',
    'x-ratelimit-remaining-requests': '1',
    'x-ratelimit-reset-requests': '1s',
    'x-ratelimit-limit-tokens': '5000',
    'x-ratelimit-remaining-tokens': '4000',
    'x-ratelimit-reset-tokens': '30s',
  });
});

test('budget alerts fire when a spend increase crosses 80% or 100%, once', () => {
  expect(crossedThresholds(1000, 0, 700)).toEqual([]);
  expect(crossedThresholds(1000, 700, 800)).toEqual([0.8]);
  expect(crossedThresholds(1000, 800, 900)).toEqual([]);
  expect(crossedThresholds(1000, 700, 1200)).toEqual([0.8, 1]);
  expect(crossedThresholds(1000, 1000, 1500)).toEqual([]);
});

test('a name must be allowed by the key and by its team; empty lists allow everything', () => {
  const key = { ...EMPTY_POLICY, models: ['a', 'b'] };
  const team = { ...EMPTY_POLICY, models: ['b', 'c'], prompts: ['p'] };
  const permissions = permissionsOf(key, team)!;
  const caller = { keyId: 'k', team: 't', permissions };
  expect(mayUse(caller, 'models', 'b')).toBe(true);
  expect(mayUse(caller, 'models', 'a')).toBe(false);
  expect(mayUse(caller, 'models', 'c')).toBe(false);
  expect(mayUse(caller, 'prompts', 'p')).toBe(true);
  expect(mayUse(caller, 'prompts', 'q')).toBe(false);
  expect(mayUse(caller, 'services', 'anything')).toBe(true);
  expect(permissionsOf(EMPTY_POLICY, null)).toBeUndefined();
  expect(mayUse({ keyId: null, team: null }, 'models', 'x')).toBe(true);
});
