import type { Redis } from 'ioredis';

/** How often the offset is measured again, ms. */
const REFRESH_MS = 60_000;

/**
 * The difference between Redis's clock and this process's, so an admission can carry a
 * deadline in Redis time. Measured with TIME, halfway through the round trip; refreshed in the
 * background at most once a minute, never on the request path's own round trip.
 */
export class RedisClock {
  private offset: number | undefined;
  private measuredAt = -Infinity;
  private measuring = false;

  constructor(
    private readonly redis: Pick<Redis, 'time'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Redis ms minus local ms; undefined until first measured (admissions then carry no deadline). */
  offsetMs(): number | undefined {
    if (!this.measuring && this.now() - this.measuredAt >= REFRESH_MS) void this.measure();
    return this.offset;
  }

  private async measure(): Promise<void> {
    this.measuring = true;
    const sent = this.now();
    try {
      const [seconds, micros] = await this.redis.time();
      const received = this.now();
      const redisMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      this.offset = redisMs - (sent + received) / 2;
      this.measuredAt = received;
    } catch {
      // Unreachable now; the next admission asks again.
      this.measuredAt = this.now() - REFRESH_MS + 1000;
    } finally {
      this.measuring = false;
    }
  }
}
