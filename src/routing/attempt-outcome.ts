import { isGatewayError } from '../core/errors.js';
import type { AttemptReport } from './balancer.js';

/** What an attempt says about a deployment's health. */
export type AttemptOutcome =
  | { kind: 'success' }
  /** Says nothing about the upstream: the client left, or the gateway itself failed. */
  | { kind: 'neutral' }
  | { kind: 'failure'; retryAfterMs?: number; timedOut: boolean };

/**
 * 429, 5xx, timeouts, refused connections and unreadable answers are the deployment's
 * failures; a 4xx the request caused proves the upstream is up.
 */
export function classifyAttempt(report: AttemptReport): AttemptOutcome {
  if (report.ok) return { kind: 'success' };
  const err = report.error;
  // A stream that broke after it started reports no error object: the upstream failed.
  if (err === undefined) return { kind: 'failure', timedOut: false };
  if (!isGatewayError(err)) return { kind: 'neutral' };
  if (err.retryable) {
    const retryAfterMs = err.code === 'upstream_rate_limited' && err.retryAfter !== undefined ? err.retryAfter * 1000 : undefined;
    return { kind: 'failure', retryAfterMs, timedOut: err.code === 'upstream_timeout' };
  }
  if (err.code === 'upstream_invalid_response') return { kind: 'failure', timedOut: false };
  if (err.code.startsWith('upstream_')) return { kind: 'success' };
  return { kind: 'neutral' };
}
