/**
 * What a failed upstream attempt means: the client's error, whether another target may be
 * tried (only when the request may not have been processed, i.e. the connection failed),
 * and how target health should count it.
 */
import { GatewayError, isGatewayError } from '../core/errors.js';
import type { TargetOutcome } from './target-pool.js';

export interface UpstreamFailure {
  error: GatewayError;
  /** A connection-level failure: safe to try another target for an idempotent request. */
  isConnectionError: boolean;
  /** How target health counts it; undefined when the target is not to blame (the client's fault). */
  outcome: TargetOutcome | undefined;
}

/** The target never took the connection: eject it at once. */
const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
/** The connection broke: counts as one failure. */
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** undici's error may wrap the socket's: look at every `code` down the chain. */
function codesOf(err: unknown): { codes: string[]; gatewayError?: GatewayError } {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    if (isGatewayError(current)) return { codes, gatewayError: current };
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = current.cause;
  }
  return { codes };
}

export function classifyUpstreamError(err: unknown, service: string): UpstreamFailure {
  const { codes, gatewayError } = codesOf(err);
  // Ours, raised while streaming the client's body (too large): the target did nothing wrong.
  if (gatewayError) return { error: gatewayError, isConnectionError: false, outcome: undefined };
  if (codes.some((c) => REFUSED.has(c))) {
    const timedOut = codes.includes('UND_ERR_CONNECT_TIMEOUT') || codes.includes('ETIMEDOUT');
    const error = timedOut
      ? new GatewayError('upstream_timeout', `service ${service}: connecting to the upstream timed out`, { cause: err })
      : new GatewayError('upstream_unavailable', `service ${service}: the upstream refused the connection`, { cause: err });
    return { error, isConnectionError: true, outcome: 'refused' };
  }
  if (codes.some((c) => BROKEN.has(c))) {
    const error = new GatewayError('upstream_unavailable', `service ${service}: the upstream closed the connection`, { cause: err });
    return { error, isConnectionError: true, outcome: 'failed' };
  }
  if (codes.some((c) => TIMEOUTS.has(c))) {
    const error = new GatewayError('upstream_timeout', `service ${service}: the upstream did not answer in time`, { cause: err });
    return { error, isConnectionError: false, outcome: 'failed' };
  }
  const error = new GatewayError('upstream_error', `service ${service}: the upstream call failed`, { cause: err });
  return { error, isConnectionError: false, outcome: 'failed' };
}
