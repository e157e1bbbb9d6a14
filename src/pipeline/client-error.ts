/**
 * The edge: the one place that turns what went wrong in a call into what the client sees
 * (docs/errors.md; docs/architecture.md, "5. Errors"). Adapters describe upstream
 * failures neutrally (UpstreamError); here 401/403 from a provider become 502, a 429 keeps its
 * `retry-after`, timeouts become 504, protocol failures 502, a departed client 499.
 */
import { GatewayError, isGatewayError, parseRetryAfter, upstreamHttpError } from '../core/errors.js';
import { isUpstreamError, type UpstreamError } from '../core/upstream-error.js';
import { ClientClosedError } from './attempt-signal.js';

/** Pulls a human message out of a provider's JSON error body, whatever its nesting. */
export function messageFromErrorBody(body: unknown, depth = 0): string | undefined {
  if (typeof body === 'string') return body.slice(0, 2000) || undefined;
  if (body === null || typeof body !== 'object' || depth > 4) return undefined;
  const record = body as Record<string, unknown>;
  if (typeof record.message === 'string') return record.message.slice(0, 2000);
  if (record.error !== undefined) return messageFromErrorBody(record.error, depth + 1);
  return undefined;
}

function codeFromErrorBody(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  const inner = (record.error ?? record) as Record<string, unknown> | undefined;
  const code = inner?.code ?? inner?.type;
  return typeof code === 'string' ? code.slice(0, 100) : undefined;
}

function fromUpstream(err: UpstreamError): GatewayError | ClientClosedError {
  switch (err.kind) {
    case 'http':
      return upstreamHttpError(err.provider, err.status ?? 502, messageFromErrorBody(err.body) ?? '', {
        retryAfter: parseRetryAfter(err.headers['retry-after']),
        providerCode: codeFromErrorBody(err.body),
        cause: err,
      });
    case 'network':
      return new GatewayError('upstream_unavailable', err.message, { cause: err });
    case 'timeout':
      return new GatewayError('upstream_timeout', err.message, { cause: err });
    case 'protocol':
      return new GatewayError('upstream_invalid_response', err.message, { cause: err });
    case 'aborted':
      return new ClientClosedError();
  }
}

/** The client-facing error of anything a call threw. */
export function toClientError(err: unknown): GatewayError | ClientClosedError {
  if (isGatewayError(err) || err instanceof ClientClosedError) return err;
  if (isUpstreamError(err)) return fromUpstream(err);
  return new GatewayError('internal_error', 'the gateway failed to handle the call', { cause: err });
}

/** Client-facing status of a call that ended with `err` (499, nginx's "client closed", when the caller left). */
export function statusOf(err: GatewayError | ClientClosedError): number {
  return isGatewayError(err) ? err.status : 499;
}

/** The ledger's `error_code` of a failed call. */
export function errorCodeOf(err: GatewayError | ClientClosedError): string {
  return isGatewayError(err) ? err.code : 'client_closed';
}

/** True when another attempt may succeed: only upstream failures, and only those the upstream may recover from. */
export function isRetryable(err: unknown): boolean {
  return isUpstreamError(err) && err.isRetryable;
}
