/**
 * Helpers every adapter uses to describe an upstream failure as the one neutral
 * `UpstreamError`. What the client sees is decided once, at the edge
 * (src/pipeline/client-error.ts); nothing here knows about client statuses.
 */
import { isGatewayError } from '../src/core/errors.js';
import { UpstreamError, isUpstreamError } from '../src/core/upstream-error.js';
import type { CallSignal } from '../src/core/call-signal.js';

export interface HttpErrorFacts {
  status: number;
  body?: unknown;
  retryAfter?: string | null;
}

/** An error the provider answered with an HTTP status (or an in-stream error event). */
export function fromHttpFacts(provider: string, facts: HttpErrorFacts, cause: unknown): UpstreamError {
  return new UpstreamError({
    kind: 'http',
    provider,
    status: facts.status,
    body: facts.body,
    headers: { 'retry-after': facts.retryAfter ?? undefined },
    message: `${provider} answered ${facts.status}`,
    cause,
  });
}

/**
 * The last word on any error thrown inside an adapter. An aborted call rethrows the abort
 * reason when it is already an UpstreamError (the attempt's timeout) and reports `aborted`
 * otherwise (the client left); a GatewayError (the caller's own request could not be mapped)
 * and an UpstreamError pass through; a parse failure is a protocol error; anything else is the
 * upstream being unreachable.
 */
export function settleAdapterError(provider: string, err: unknown, signal: CallSignal): unknown {
  if (signal.aborted) {
    if (isUpstreamError(signal.reason)) return signal.reason;
    return new UpstreamError({ kind: 'aborted', provider, message: 'the call was abandoned', cause: signal.reason });
  }
  if (isGatewayError(err) || isUpstreamError(err)) return err;
  const name = (err as { name?: string } | null)?.name;
  if (name === 'SyntaxError') {
    return new UpstreamError({ kind: 'protocol', provider, message: `${provider} sent a response the gateway could not read`, cause: err });
  }
  return new UpstreamError({ kind: 'network', provider, message: `${provider} could not be reached: ${describeNetworkError(err)}`, cause: err });
}

function describeNetworkError(err: unknown): string {
  const chain: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current && depth < 4; depth++) {
    const e = current as { code?: string; message?: string; cause?: unknown };
    if (e.code && !chain.includes(e.code)) chain.push(e.code);
    current = e.cause;
  }
  if (chain.length > 0) return chain.join(', ');
  return (err as Error | undefined)?.message?.slice(0, 200) ?? 'connection failed';
}
