/** Anthropic's failures, from the SDK or from an in-stream `event: error`, as UpstreamErrors. */
import Anthropic from '@anthropic-ai/sdk';
import type { UpstreamError } from '../../src/core/upstream-error.js';
import { fromHttpFacts, settleAdapterError } from '../upstream-errors.js';

/** In-stream errors carry a type but no HTTP status; these are the statuses the API uses for them. */
const STATUS_OF_ERROR_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

export function fromAnthropicErrorEvent(provider: string, body: { error?: { type?: string } }, cause: unknown): UpstreamError {
  const status = STATUS_OF_ERROR_TYPE[body.error?.type ?? ''] ?? 500;
  return fromHttpFacts(provider, { status, body }, cause);
}

/** What the adapter throws for anything that went wrong in a call. */
export function settleAnthropicError(provider: string, err: unknown, signal: AbortSignal): unknown {
  if (!signal.aborted && err instanceof Anthropic.APIError) {
    if (typeof err.status === 'number') {
      return fromHttpFacts(provider, { status: err.status, body: err.error, retryAfter: err.headers?.get('retry-after') }, err);
    }
    // An `event: error` frame after the 200; connection errors have no body and fall through.
    if (err.error && typeof err.error === 'object') return fromAnthropicErrorEvent(provider, err.error, err);
  }
  return settleAdapterError(provider, err, signal);
}
