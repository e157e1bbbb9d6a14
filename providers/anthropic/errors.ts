/**
 * Anthropic's in-stream failures (`event: error` after the 200) as UpstreamErrors. HTTP error
 * statuses need nothing Anthropic-specific: the wire client reports them with their status
 * (529 overloaded included), parsed body and `retry-after`.
 */
import type { UpstreamError } from '../../src/core/upstream-error.js';
import { fromHttpFacts } from '../upstream-errors.js';

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

/** `body` is the frame's data, `{ type: 'error', error: { type, message } }`, or its raw text where it is not JSON. */
export function fromAnthropicErrorEvent(provider: string, body: unknown, cause: unknown): UpstreamError {
  const type = (body as { error?: { type?: unknown } } | null | undefined)?.error?.type;
  const status = typeof type === 'string' && Object.hasOwn(STATUS_OF_ERROR_TYPE, type) ? STATUS_OF_ERROR_TYPE[type]! : 500;
  return fromHttpFacts(provider, { status, body }, cause);
}
