/**
 * Latency histograms kept in the hourly usage aggregates, so reports can give percentiles over
 * any range and grouping. Buckets are fixed and log-scale: bucket `i` holds values in
 * (1.2^(i-1), 1.2^i] ms, bucket 0 everything up to 1 ms, the last one everything above ~62 min.
 * Fixed bounds make histograms mergeable by plain addition (two instances, two hours, two
 * teams), and a ratio of 1.2 between bounds keeps a percentile within 20 % of the exact one.
 * Storage is sparse: only buckets that saw a call exist.
 */

/** Ratio between neighbouring bucket bounds: a percentile read from a bucket is off by less than this factor. */
export const BUCKET_RATIO = 1.2;

/** Upper bound of the last bucket, ms (1.2^83 ≈ 62 min): anything slower is counted there. */
const BUCKET_COUNT = 84;

/** Upper bounds in ms, bucket index → 1.2^index. */
const BOUNDS: readonly number[] = Array.from({ length: BUCKET_COUNT }, (_, i) => BUCKET_RATIO ** i);

/** Bucket index → calls; absent buckets are empty. */
export type SparseHistogram = Map<number, number>;

/** The bucket a value in ms falls in: the first whose upper bound is not below it. */
export function bucketOf(ms: number): number {
  if (!(ms > 1)) return 0;
  let low = 0;
  let high = BUCKET_COUNT - 1;
  if (ms > BOUNDS[high]!) return high;
  // Binary search: 7 comparisons, cheaper than a logarithm and exact against BOUNDS.
  while (low < high) {
    const mid = (low + high) >> 1;
    if (ms <= BOUNDS[mid]!) high = mid;
    else low = mid + 1;
  }
  return low;
}

/**
 * What a report shows for a bucket: its upper bound, rounded up to 0.1 ms. An upper bound
 * never understates a latency (the true percentile is at most this, and more than this / 1.2),
 * and reads like Prometheus's `le`.
 */
export function bucketUpperMs(index: number): number {
  const bound = BOUNDS[Math.min(Math.max(index, 0), BUCKET_COUNT - 1)]!;
  return Math.ceil(Math.round(bound * 1e6) / 1e5) / 10;
}

/** A bucket index read back from storage; undefined for anything that is not one. */
export function parseBucket(text: string): number | undefined {
  if (!/^\d{1,3}$/.test(text)) return undefined;
  const index = Number(text);
  return index < BUCKET_COUNT ? index : undefined;
}

export function observe(into: SparseHistogram, ms: number, count = 1): void {
  const index = bucketOf(ms);
  into.set(index, (into.get(index) ?? 0) + count);
}

export function mergeHistogram(into: SparseHistogram, from: SparseHistogram): void {
  for (const [index, count] of from) into.set(index, (into.get(index) ?? 0) + count);
}

/**
 * The nearest-rank percentile (`p` in (0, 1]): the upper bound of the bucket holding the
 * ceil(p × n)-th smallest value. Null for an empty histogram.
 */
export function percentileMs(histogram: SparseHistogram, p: number): number | null {
  let total = 0;
  for (const count of histogram.values()) total += count;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const index of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(index)!;
    if (seen >= rank) return bucketUpperMs(index);
  }
  return null;
}
