import type { Scope, WindowState } from './usage-counters.js';

/** `1s`, `250ms`, `6m0s`: durations the way OpenAI writes its `x-ratelimit-reset-*` headers. */
export function formatReset(ms: number): string {
  const value = Math.max(0, Math.ceil(ms));
  if (value < 1000) return `${value}ms`;
  const seconds = value / 1000;
  if (seconds < 60) return `${Number(seconds.toFixed(3))}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${Number((seconds - minutes * 60).toFixed(3))}s`;
}

interface Tightest {
  limit: number;
  remaining: number;
  resetMs: number;
}

/**
 * `x-ratelimit-*` headers as OpenAI sends them. With a key and a team limit, the one with
 * fewer left is shown: it is the one that will stop the caller first.
 */
export function rateLimitHeaders(scopes: readonly Scope[], windows: readonly WindowState[]): Record<string, string> {
  let requests: Tightest | undefined;
  let tokens: Tightest | undefined;
  scopes.forEach((scope, i) => {
    const w = windows[i]!;
    if (scope.rpm !== null) {
      const remaining = Math.max(0, scope.rpm - w.requests);
      if (!requests || remaining < requests.remaining) requests = { limit: scope.rpm, remaining, resetMs: w.requestsResetMs };
    }
    if (scope.tpm !== null) {
      const remaining = Math.max(0, scope.tpm - w.tokens);
      if (!tokens || remaining < tokens.remaining) tokens = { limit: scope.tpm, remaining, resetMs: w.tokensResetMs };
    }
  });
  const headers: Record<string, string> = {};
  if (requests) {
    headers['x-ratelimit-limit-requests'] = String(requests.limit);
    headers['x-ratelimit-remaining-requests'] = String(requests.remaining);
    headers['x-ratelimit-reset-requests'] = formatReset(requests.resetMs);
  }
  if (tokens) {
    headers['x-ratelimit-limit-tokens'] = String(tokens.limit);
    headers['x-ratelimit-remaining-tokens'] = String(tokens.remaining);
    headers['x-ratelimit-reset-tokens'] = formatReset(tokens.resetMs);
  }
  return headers;
}
