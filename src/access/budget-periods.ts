import type { BudgetPeriod } from './types.js';

/**
 * Budget periods are calendar periods in UTC: a day, an ISO week (from Monday), a month, or
 * the whole life of the key/team. Spend is counted per bucket, so a period resets by moving
 * to a new bucket, never by a job that clears counters.
 */

const DAY_MS = 86_400_000;

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Start of the ISO week (Monday 00:00 UTC) that holds `now`. */
function weekStart(now: number): number {
  const day = Math.floor(now / DAY_MS);
  // 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays.
  return (day - ((day + 3) % 7)) * DAY_MS;
}

/** The bucket name of `period` at `now`: `d2025-01-31`, `w2025-01-27` (the week's Monday), `m2025-01`, `total`. */
export function bucketOf(period: BudgetPeriod, now: number): string {
  if (period === 'total') return 'total';
  const date = new Date(period === 'week' ? weekStart(now) : now);
  const month = `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}`;
  if (period === 'month') return `m${month}`;
  return `${period === 'day' ? 'd' : 'w'}${month}-${pad(date.getUTCDate())}`;
}

/** Epoch ms when the bucket holding `now` ends; undefined for `total`. */
export function periodEnd(period: BudgetPeriod, now: number): number | undefined {
  switch (period) {
    case 'day':
      return (Math.floor(now / DAY_MS) + 1) * DAY_MS;
    case 'week':
      return weekStart(now) + 7 * DAY_MS;
    case 'month': {
      const date = new Date(now);
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
    }
    case 'total':
      return undefined;
  }
}

/** How long a bucket's counter is kept, seconds: past its period so reports of it still read. 0: forever. */
export const BUCKET_TTL_S: Record<BudgetPeriod, number> = {
  day: 3 * 86_400,
  week: 15 * 86_400,
  month: 62 * 86_400,
  total: 0,
};
