/**
 * A deployment's `limits` (rpm, tpm, concurrency) as a gate a request passes before its
 * attempt. Two implementations share the semantics of bottleneck's reservoir: requests and
 * tokens per fixed one-minute window that starts with the first use, and a concurrency count.
 * The in-memory gate is synchronous (the embedded store); `redis-limits.ts` shares the same
 * limits across instances through bottleneck's Redis datastore.
 */
import type { DeploymentLimits } from '../config/types.js';

export const LIMIT_WINDOW_MS = 60_000;
/** What a client is told to wait when only the concurrency limit is full. */
const CONCURRENCY_RETRY_MS = 1_000;

/** Bounds a wait inside a shared store: the client may leave, and the request's patience ends. */
export interface GateWait {
  signal: AbortSignal;
  /** Epoch ms. */
  waitUntil: number;
}

export interface DeploymentGate {
  /**
   * Takes room for one request expected to use `tokens` (prompt estimate) when there is some now;
   * false when a limit is reached.
   */
  take(tokens: number, wait: GateWait): boolean | Promise<boolean>;
  /** Gives back the room of one finished request; `usedTokens` corrects the token estimate. */
  release(usedTokens?: number): void;
  /** ms until room is likely back, for `retry-after`. */
  retryAfterMs(): number | Promise<number>;
  /** What is left of this window's rpm and tpm (null: no such limit), for operators. */
  remaining(): LimitsRemaining | Promise<LimitsRemaining>;
}

export interface LimitsRemaining {
  requests: number | null;
  tokens: number | null;
}

/** A token estimate above the whole budget could never pass; it passes on a fresh window instead. */
export function clampTokens(tokens: number, tpm: number | undefined): number {
  return tpm === undefined ? 0 : Math.min(Math.max(0, Math.ceil(tokens)), tpm);
}

export function createMemoryGate(limits: DeploymentLimits, clock: () => number = Date.now): DeploymentGate {
  let windowStart = clock();
  let requests = 0;
  let tokensUsed = 0;
  let inFlight = 0;
  // Estimates of requests in flight, oldest first, to settle against their real usage.
  const estimates: number[] = [];

  const roll = (now: number) => {
    if (now < windowStart + LIMIT_WINDOW_MS) return;
    windowStart = now;
    requests = 0;
    tokensUsed = 0;
  };

  return {
    take(tokens) {
      roll(clock());
      const estimate = clampTokens(tokens, limits.tpm);
      if (limits.concurrency !== undefined && inFlight >= limits.concurrency) return false;
      if (limits.rpm !== undefined && requests >= limits.rpm) return false;
      // At least one token must be left, so a spent budget also stops requests with no estimate.
      if (limits.tpm !== undefined && tokensUsed + Math.max(1, estimate) > limits.tpm) return false;
      inFlight++;
      requests++;
      tokensUsed += estimate;
      estimates.push(estimate);
      return true;
    },
    release(usedTokens) {
      if (inFlight === 0) return;
      inFlight--;
      const estimate = estimates.shift() ?? 0;
      if (limits.tpm !== undefined && usedTokens !== undefined) tokensUsed += usedTokens - estimate;
    },
    retryAfterMs() {
      const now = clock();
      roll(now);
      const windowFull =
        (limits.rpm !== undefined && requests >= limits.rpm) || (limits.tpm !== undefined && tokensUsed >= limits.tpm);
      return windowFull ? Math.max(0, windowStart + LIMIT_WINDOW_MS - now) : CONCURRENCY_RETRY_MS;
    },
    remaining() {
      roll(clock());
      return {
        requests: limits.rpm === undefined ? null : Math.max(0, limits.rpm - requests),
        tokens: limits.tpm === undefined ? null : Math.max(0, limits.tpm - tokensUsed),
      };
    },
  };
}

export function hasLimits(limits: DeploymentLimits | undefined): limits is DeploymentLimits {
  return limits !== undefined && (limits.rpm !== undefined || limits.tpm !== undefined || limits.concurrency !== undefined);
}
