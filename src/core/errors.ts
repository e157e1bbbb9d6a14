/**
 * One error class, one table of codes. Every non-2xx body the gateway writes comes from a
 * GatewayError through `toErrorBody`, so the shape is the same everywhere.
 */

export type ErrorCode =
  | 'invalid_json'
  | 'invalid_request'
  | 'missing_field'
  | 'unauthorized'
  | 'invalid_api_key'
  | 'forbidden'
  | 'model_not_found'
  | 'model_unavailable'
  | 'not_found'
  | 'entry_in_use'
  | 'method_not_allowed'
  | 'body_too_large'
  | 'rate_limit_exceeded'
  | 'insufficient_quota'
  | 'upstream_bad_request'
  | 'upstream_not_found'
  | 'upstream_payload_too_large'
  | 'upstream_unprocessable'
  | 'upstream_rate_limited'
  | 'upstream_auth_failed'
  | 'upstream_error'
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'upstream_invalid_response'
  | 'guardrail_violation'
  | 'service_unavailable'
  | 'gateway_busy'
  | 'internal_error';

export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'api_error'
  | 'timeout_error';

const table: Record<ErrorCode, { status: number; type: OpenAIErrorType }> = {
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_request: { status: 400, type: 'invalid_request_error' },
  missing_field: { status: 400, type: 'invalid_request_error' },
  unauthorized: { status: 401, type: 'authentication_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  forbidden: { status: 403, type: 'permission_error' },
  model_not_found: { status: 404, type: 'not_found_error' },
  // Configured, but no deployment can serve it (its providers have no API key): the operator's
  // fix, not the caller's, so 5xx; the message names what to set.
  model_unavailable: { status: 503, type: 'api_error' },
  not_found: { status: 404, type: 'not_found_error' },
  // An admin change that would leave other config entries pointing at nothing.
  entry_in_use: { status: 409, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  body_too_large: { status: 413, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  insufficient_quota: { status: 429, type: 'insufficient_quota' },
  upstream_bad_request: { status: 400, type: 'invalid_request_error' },
  upstream_not_found: { status: 404, type: 'not_found_error' },
  upstream_payload_too_large: { status: 413, type: 'invalid_request_error' },
  upstream_unprocessable: { status: 422, type: 'invalid_request_error' },
  upstream_rate_limited: { status: 429, type: 'rate_limit_error' },
  // The gateway's own provider credentials were refused: never the caller's fault.
  upstream_auth_failed: { status: 502, type: 'api_error' },
  upstream_error: { status: 502, type: 'api_error' },
  upstream_unavailable: { status: 502, type: 'api_error' },
  upstream_timeout: { status: 504, type: 'timeout_error' },
  upstream_invalid_response: { status: 502, type: 'api_error' },
  guardrail_violation: { status: 400, type: 'invalid_request_error' },
  service_unavailable: { status: 503, type: 'api_error' },
  // The gateway's own connections to an upstream are all in use: load, not the upstream's fault.
  gateway_busy: { status: 503, type: 'api_error' },
  internal_error: { status: 500, type: 'api_error' },
};

export interface GatewayErrorOptions {
  param?: string | null;
  cause?: unknown;
  /** Seconds the client should wait, sent as `retry-after`. */
  retryAfter?: number;
  /** Extra response headers (rate-limit state and the like). */
  headers?: Record<string, string>;
  /** The provider's own error code, passed through to the client where it helps. */
  providerCode?: string;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: OpenAIErrorType;
  readonly param: string | null;
  readonly retryAfter?: number;
  readonly headers?: Record<string, string>;
  readonly providerCode?: string;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    const entry = table[code];
    this.code = code;
    this.status = entry.status;
    this.type = entry.type;
    this.param = options.param ?? null;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers;
    this.providerCode = options.providerCode;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

export interface ErrorBody {
  error: { message: string; type: OpenAIErrorType; param: string | null; code: string };
}

export function toErrorBody(err: GatewayError): ErrorBody {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.providerCode ?? err.code } };
}

/**
 * Maps an upstream HTTP status to the gateway's answer (docs/errors.md):
 * 400/404/413/422 keep their status and the provider's message, 401/403 become 502,
 * 429 stays 429, other 4xx become 400 and 5xx become 502.
 */
export function upstreamHttpError(
  provider: string,
  status: number,
  providerMessage: string,
  options: { retryAfter?: number; providerCode?: string; cause?: unknown } = {},
): GatewayError {
  const message = providerMessage || `${provider} answered ${status}`;
  const base = { cause: options.cause, retryAfter: options.retryAfter };
  switch (status) {
    case 400:
      return new GatewayError('upstream_bad_request', message, { ...base, providerCode: options.providerCode });
    case 404:
      return new GatewayError('upstream_not_found', message, { ...base, providerCode: options.providerCode });
    case 413:
      return new GatewayError('upstream_payload_too_large', message, base);
    case 422:
      return new GatewayError('upstream_unprocessable', message, base);
    case 429: {
      // The provider's own words stay in the logs (via cause); the caller learns who and when.
      const when = options.retryAfter !== undefined ? `; retry after ${options.retryAfter} s` : '';
      return new GatewayError('upstream_rate_limited', `${provider} is rate limiting the gateway${when}`, base);
    }
    case 402:
      // Payment required: the gateway's own account with the provider, never the caller's fault.
      return new GatewayError('upstream_auth_failed', `${provider} refused the gateway's account (402)`, base);
    case 408:
      return new GatewayError('upstream_timeout', `${provider} timed out (408)`, base);
    case 401:
    case 403:
      // The provider's words about our credentials are for the operator's logs, not the caller.
      return new GatewayError('upstream_auth_failed', `${provider} refused the gateway's credentials (${status})`, base);
    default:
      if (status >= 400 && status < 500) {
        return new GatewayError('upstream_bad_request', message, { ...base, providerCode: options.providerCode });
      }
      // Upstream error bodies go to the logs via cause, never to clients.
      return new GatewayError('upstream_error', `${provider} failed with ${status}`, base);
  }
}

/** Parses a `retry-after` header value (seconds or an HTTP date) into whole seconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}
