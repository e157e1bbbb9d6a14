/**
 * The one error an adapter throws when the upstream failed: it describes what happened and
 * leaves the decision of what the client sees to one mapping at the edge
 * (`src/pipeline/client-error.ts`), as vercel/ai's `APICallError` does. See
 * docs/architecture.md, "5. Errors".
 *
 * A fault of the caller's own request that the adapter detects before sending (an image URL it
 * cannot map, `n > 1` where unsupported) is not an upstream failure: adapters throw a
 * `GatewayError` (400) for those, and the pipeline never retries them or counts them against a
 * deployment.
 */

/**
 * - `http`: the provider answered with an error status (or an in-stream error event, given the
 *   status the provider uses for its type);
 * - `network`: no answer (connection refused or reset, DNS, TLS);
 * - `timeout`: the attempt's own timeout or the call's deadline passed;
 * - `protocol`: an answer that is not the provider's success shape (a 200 with an error body,
 *   invalid JSON, a stream that ends without a finish);
 * - `aborted`: the caller went away; nobody is waiting for an answer.
 */
export type UpstreamErrorKind = 'http' | 'network' | 'timeout' | 'protocol' | 'aborted';

export interface UpstreamErrorInit {
  kind: UpstreamErrorKind;
  /** The configured provider name (the key under `providers:`). */
  provider: string;
  /** What happened, for the logs; never sent to clients as is (it can name the gateway's account). */
  message: string;
  /** HTTP status (kind `http`). */
  status?: number;
  /** Response headers that matter for the decision (`retry-after`). */
  headers?: Record<string, string | undefined>;
  /** The provider's error body, parsed where it was JSON. */
  body?: unknown;
  cause?: unknown;
}

/** Statuses where another attempt (here or on another deployment) may succeed. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export class UpstreamError extends Error {
  readonly kind: UpstreamErrorKind;
  readonly provider: string;
  readonly status?: number;
  readonly headers: Record<string, string | undefined>;
  readonly body?: unknown;
  /** True where another attempt may succeed; a failed retryable attempt counts against its deployment. */
  readonly isRetryable: boolean;

  constructor(init: UpstreamErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'UpstreamError';
    this.kind = init.kind;
    this.provider = init.provider;
    this.status = init.status;
    this.headers = init.headers ?? {};
    this.body = init.body;
    // 401/403/402 are the gateway's own credentials: another deployment may hold working ones.
    this.isRetryable =
      init.kind === 'http' ? isRetryableStatus(init.status ?? 500) || [401, 402, 403].includes(init.status ?? 0) : init.kind !== 'aborted';
  }
}

export function isUpstreamError(value: unknown): value is UpstreamError {
  return value instanceof UpstreamError;
}

/** A protocol failure: the upstream answered, but not in its success shape. */
export function protocolError(provider: string, message: string, cause?: unknown, body?: unknown): UpstreamError {
  return new UpstreamError({ kind: 'protocol', provider, message, cause, body });
}
