import { GatewayError, isGatewayError, parseRetryAfter, upstreamHttpError } from '../src/core/errors.js';

/** Pulls a human message out of a provider's JSON error body, whatever its nesting. */
export function messageFromErrorBody(body: unknown): string | undefined {
  if (typeof body === 'string') return body || undefined;
  if (body === null || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  if (typeof record.message === 'string') return record.message;
  if (record.error !== undefined) return messageFromErrorBody(record.error);
  return undefined;
}

function codeFromErrorBody(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  const inner = (record.error ?? record) as Record<string, unknown> | undefined;
  const code = inner?.code ?? inner?.type;
  return typeof code === 'string' ? code : undefined;
}

export interface HttpErrorFacts {
  status: number;
  body?: unknown;
  retryAfter?: string | null;
}

/** An error the provider answered with an HTTP status. */
export function fromHttpFacts(provider: string, facts: HttpErrorFacts, cause: unknown): GatewayError {
  const message = messageFromErrorBody(facts.body) ?? '';
  return upstreamHttpError(provider, facts.status, message, {
    retryAfter: parseRetryAfter(facts.retryAfter ?? undefined),
    providerCode: codeFromErrorBody(facts.body),
    cause,
  });
}

/**
 * The last word on any error thrown inside an adapter: an aborted call rethrows the abort
 * reason (the caller knows whether it was a timeout or a departed client), a GatewayError
 * passes through, anything else is the upstream being unreachable or unreadable.
 */
export function settleAdapterError(provider: string, err: unknown, signal: AbortSignal): GatewayError | unknown {
  if (signal.aborted) return signal.reason;
  if (isGatewayError(err)) return err;
  const name = (err as { name?: string } | null)?.name;
  if (name === 'SyntaxError') {
    return new GatewayError('upstream_invalid_response', `${provider} sent a response the gateway could not read`, { cause: err });
  }
  return new GatewayError('upstream_unavailable', `${provider} could not be reached: ${describeNetworkError(err)}`, { cause: err });
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
