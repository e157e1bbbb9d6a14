/**
 * A deployment's health as a small circuit breaker: after `failuresToCool` failures in a row it
 * gets no traffic for a cooldown; then one probe request goes through, and only its success
 * brings full traffic back (a failed probe cools it down again, for twice as long). A 429 with
 * `retry-after` blocks it until then without waiting for more failures. The clock is passed in.
 */

export interface CooldownPolicy {
  /** Consecutive failures that start a cooldown. */
  failuresToCool: number;
  /** First cooldown, ms; each further one in a row doubles, up to `maxCooldownMs`. */
  cooldownMs: number;
  maxCooldownMs: number;
}

export const DEFAULT_COOLDOWN_POLICY: CooldownPolicy = Object.freeze({ failuresToCool: 3, cooldownMs: 5_000, maxCooldownMs: 60_000 });

export type HealthState = 'healthy' | 'cooldown';

export class DeploymentHealth {
  /** Epoch ms until which the deployment gets no traffic. */
  until = 0;
  private consecutiveFailures = 0;
  /** Cooldowns since the last success; doubles the next one. */
  private strikes = 0;
  /** After a cooldown, the next request is a probe and must succeed before others follow. */
  private needsProbe = false;
  private probing = false;

  constructor(private readonly policy: CooldownPolicy) {}

  /** Whether a request may go to the deployment at `now` (as the probe, after a cooldown). */
  canTake(now: number): boolean {
    return now >= this.until && !this.probing;
  }

  /** Notes that a request was sent; after a cooldown it is the probe and holds the others back. */
  begin(): void {
    if (this.needsProbe) this.probing = true;
  }

  /** An answer: whatever the cooldown said, the deployment works. */
  succeed(): void {
    this.until = 0;
    this.consecutiveFailures = 0;
    this.strikes = 0;
    this.needsProbe = false;
    this.probing = false;
  }

  /** An attempt that says nothing about health (the client left, a bad request): a probe may be retried. */
  abandon(): void {
    this.probing = false;
  }

  /**
   * Records a failure; `retryAfterMs` is the upstream's own word on when to come back.
   * Returns the new `until` when this failure started a cooldown, for sharing with other instances.
   */
  fail(now: number, retryAfterMs?: number): number | undefined {
    if (this.probing) {
      this.probing = false;
      return this.coolDown(now, retryAfterMs);
    }
    if (retryAfterMs !== undefined) {
      this.until = Math.max(this.until, now + retryAfterMs);
      return this.until;
    }
    this.consecutiveFailures++;
    if (this.consecutiveFailures < this.policy.failuresToCool) return undefined;
    return this.coolDown(now);
  }

  /** A cooldown another instance started. */
  applyRemote(until: number): void {
    if (until <= this.until) return;
    this.until = until;
    this.needsProbe = true;
    this.consecutiveFailures = 0;
  }

  /** When a `retry-after` block ends (worth waiting for when short); undefined outside one, or in a cooldown. */
  blockedUntil(now: number): number | undefined {
    return now < this.until && !this.needsProbe ? this.until : undefined;
  }

  /**
   * Cooling down until `until`, and while the probe after it is out (nothing else goes then).
   * A cooldown that ran out with no request yet to probe it is over: the next request may go,
   * and reporting it as cooling down would show a cooldown that never ends on an idle group.
   */
  state(now: number): HealthState {
    return now < this.until || this.probing ? 'cooldown' : 'healthy';
  }

  /** Whether a probe request is out. */
  get isProbing(): boolean {
    return this.probing;
  }

  private coolDown(now: number, atLeastMs = 0): number {
    this.strikes++;
    this.consecutiveFailures = 0;
    this.needsProbe = true;
    const ms = Math.min(this.policy.maxCooldownMs, this.policy.cooldownMs * 2 ** (this.strikes - 1));
    this.until = Math.max(this.until, now + Math.max(ms, atLeastMs));
    return this.until;
  }
}
