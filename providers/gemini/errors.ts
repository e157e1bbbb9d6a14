/**
 * Gemini's failures as UpstreamErrors, with what Gemini says in its error details. Its error
 * body is `{ error: { code, message, status, details } }`; the wire client keeps it whole on the
 * UpstreamError, and this module reads the details the edge cannot know about.
 * https://ai.google.dev/gemini-api/docs/troubleshooting
 */
import { UpstreamError, isUpstreamError } from '../../src/core/upstream-error.js';
import { settleAdapterError } from '../upstream-errors.js';
import type { CallSignal } from '../../src/core/call-signal.js';

interface ErrorDetail {
  '@type'?: string;
  reason?: string;
  retryDelay?: string;
}

/** `error.details` of a Google error body, or undefined where the body has none (a proxy's page). */
function detailsOf(body: unknown): ErrorDetail[] | undefined {
  const error = (body as { error?: { details?: unknown } } | null | undefined)?.error;
  const details = error !== null && typeof error === 'object' ? error.details : undefined;
  return Array.isArray(details) ? details.filter((d): d is ErrorDetail => d !== null && typeof d === 'object') : undefined;
}

/** Gemini puts no `retry-after` header on a 429; it sends a google.rpc.RetryInfo detail ("37s"). */
function retryDelaySeconds(details: ErrorDetail[] | undefined): string | undefined {
  const delay = details?.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay;
  const seconds = typeof delay === 'string' ? Number.parseFloat(delay) : Number.NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? String(Math.ceil(seconds)) : undefined;
}

/**
 * An HTTP failure as the edge should judge it: a bad key is a 400 INVALID_ARGUMENT with reason
 * API_KEY_INVALID, which is the gateway's credentials (401), not the caller's request; a
 * RetryInfo delay becomes `retry-after`. Anything else is returned as it came.
 */
function withGeminiFacts(err: UpstreamError): UpstreamError {
  const details = detailsOf(err.body);
  if (!details) return err;
  const badKey = details.some((d) => d.reason === 'API_KEY_INVALID');
  const status = badKey ? 401 : err.status;
  const retryAfter = retryDelaySeconds(details) ?? err.headers['retry-after'];
  if (status === err.status && retryAfter === err.headers['retry-after']) return err;
  return new UpstreamError({
    kind: 'http',
    provider: err.provider,
    status,
    headers: { ...err.headers, 'retry-after': retryAfter },
    body: err.body,
    message: badKey ? `${err.provider} refused the API key (${err.status} API_KEY_INVALID)` : err.message,
    cause: err,
  });
}

/** What the adapter throws for anything that went wrong in a call. */
export function settleGeminiError(provider: string, err: unknown, signal: CallSignal): unknown {
  const settled = settleAdapterError(provider, err, signal);
  return isUpstreamError(settled) && settled.kind === 'http' && !signal.aborted ? withGeminiFacts(settled) : settled;
}
