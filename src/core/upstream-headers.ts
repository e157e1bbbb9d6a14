/**
 * Headers an upstream attempt adds to the provider request it makes (the W3C `traceparent` of
 * the attempt's span), filed under the attempt's signal. Every adapter already hands that
 * signal to the wire client unchanged, so the pipeline can reach the request without a new
 * parameter on the adapter interface, and without AsyncLocalStorage.
 *
 * Nothing is filed unless tracing is on; until then `withUpstreamHeaders` is one boolean test
 * and returns the adapter's own object, so the hot path allocates nothing.
 */
import type { CallSignal } from './call-signal.js';

const extra = new WeakMap<CallSignal, Readonly<Record<string, string>>>();
let inUse = false;

/** Adds `headers` to every request sent with `signal` (the attempt's). */
export function attachUpstreamHeaders(signal: CallSignal, headers: Readonly<Record<string, string>>): void {
  inUse = true;
  extra.set(signal, headers);
}

/** The headers to send: the adapter's, plus the attempt's where it filed any (they win). */
export function withUpstreamHeaders(signal: CallSignal, headers: Record<string, string>): Record<string, string> {
  if (!inUse) return headers;
  const more = extra.get(signal);
  return more === undefined ? headers : { ...headers, ...more };
}
