import { parseRetryAfter } from '../core/errors.js';
import { isUpstreamError } from '../core/upstream-error.js';
import type { Deployment } from '../core/deployment.js';

/** What the balancer learns from each attempt, to steer the next ones. */
export interface AttemptReport {
  deployment: Deployment;
  ok: boolean;
  /** Total attempt time, ms. */
  latencyMs: number;
  /** Time to first chunk for streams, ms. */
  ttftMs?: number;
  /** Why a failed attempt failed (absent: a stream that broke after it started). */
  error?: unknown;
  /** Prompt + completion tokens the attempt used, to settle a `tpm` limit. */
  tokens?: number;
}

/** What an attempt says about a deployment's health. */
export type AttemptOutcome =
  | { kind: 'success' }
  /** Says nothing about the upstream: the client left, the caller's request was at fault, or the gateway itself failed. */
  | { kind: 'neutral' }
  | { kind: 'failure'; retryAfterMs?: number; timedOut: boolean };

/**
 * Only an UpstreamError speaks about the deployment: 429, 5xx, credentials refused, timeouts,
 * refused connections and unreadable answers are its failures; a 4xx the request caused proves
 * the upstream is up. Anything else (the caller's own request, a departed client, a bug in the
 * gateway) leaves its health alone.
 */
export function classifyAttempt(report: AttemptReport): AttemptOutcome {
  if (report.ok) return { kind: 'success' };
  const err = report.error;
  // A stream that broke after it started reports no error object: the upstream failed.
  if (err === undefined) return { kind: 'failure', timedOut: false };
  if (!isUpstreamError(err) || err.kind === 'aborted') return { kind: 'neutral' };
  if (!err.isRetryable) return { kind: 'success' };
  const retryAfter = err.status === 429 ? parseRetryAfter(err.headers['retry-after']) : undefined;
  return { kind: 'failure', retryAfterMs: retryAfter !== undefined ? retryAfter * 1000 : undefined, timedOut: err.kind === 'timeout' };
}
