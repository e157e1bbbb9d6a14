/** The client-facing answers of a refused admission: 429s with OpenAI's headers and wording. */
import { GatewayError } from '../core/errors.js';
import { periodEnd } from './budget-periods.js';
import type { Identity } from './identity.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import type { Admission } from './usage-counters.js';

const ADJECTIVE = { day: 'daily ', week: 'weekly ', month: 'monthly ', total: '' } as const;

type Refused = Extract<Admission, { outcome: 'over_budget' | 'over_rpm' | 'over_tpm' }>;

/** 429 insufficient_quota until the budget's period ends (no retry-after for a total budget). */
function overBudget(identity: Identity, scopeIndex: number, now: number): GatewayError {
  const scope = identity.scopes[scopeIndex]!;
  const owner = scopeIndex === 0 ? `key '${identity.key.name}'` : `team '${identity.team?.name}'`;
  const end = periodEnd(scope.period, now);
  return new GatewayError('insufficient_quota', `The ${owner} has used its ${ADJECTIVE[scope.period]}budget of $${scope.budgetNano! / 1e9}`, {
    retryAfter: end === undefined ? undefined : Math.ceil((end - now) / 1000),
    // Tells the openai SDKs not to retry: waiting seconds does not refill a budget.
    headers: { 'x-should-retry': 'false' },
  });
}

/** The error for a refused admission; `tokens` is the call's estimate. */
export function refusalOf(identity: Identity, admission: Refused, tokens: number, now: number): GatewayError {
  if (admission.outcome === 'over_budget') return overBudget(identity, admission.scope, now);
  const scope = identity.scopes[admission.scope]!;
  const window = admission.windows[admission.scope]!;
  const owner = admission.scope === 0 ? 'key' : 'team';
  let message: string;
  let resetMs: number;
  if (admission.outcome === 'over_rpm') {
    message = `Rate limit reached for requests: the ${owner} allows ${scope.rpm} per minute`;
    resetMs = window.requestsResetMs;
  } else {
    message =
      tokens > scope.tpm!
        ? `Request too large: about ${tokens} tokens, more than the ${owner}'s limit of ${scope.tpm} tokens per minute`
        : `Rate limit reached for tokens: the ${owner} allows ${scope.tpm} per minute, ${window.tokens} used, this call needs about ${tokens}`;
    resetMs = window.tokensResetMs;
  }
  return new GatewayError('rate_limit_exceeded', message, {
    retryAfter: Math.max(1, Math.ceil(resetMs / 1000)),
    headers: rateLimitHeaders(identity.scopes, admission.windows),
  });
}
