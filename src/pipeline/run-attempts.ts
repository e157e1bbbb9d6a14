import { GatewayError } from '../core/errors.js';
import { isRetryable } from './client-error.js';
import type { ChatRequest } from '../core/types.js';
import type { AcquireOptions, Balancer } from '../routing/balancer.js';
import { attachUpstreamHeaders } from '../core/upstream-headers.js';
import { AttemptSignal } from './attempt-signal.js';
import type { ClientLink } from './client-link.js';
import type { AttemptTrace, CallTrace } from './call-trace.js';
import type { Deployment, ModelGroup, ModelRegistry } from './model-registry.js';

export interface AttemptPlan {
  group: ModelGroup;
  registry: ModelRegistry;
  balancer: Balancer;
  /** Whether the client is still there. */
  client: ClientLink;
  /** For cost/latency strategies; absent for embeddings. */
  request?: ChatRequest;
  /** Called for every failed attempt, for the logs. */
  onAttemptFailed?: (deployment: Deployment, err: unknown, attempt: number) => void;
  /** The call's span when tracing is on: each attempt gets a child span and sends its traceparent upstream. */
  trace?: CallTrace;
}

export interface AttemptSuccess<T> {
  value: T;
  deployment: Deployment;
  /** The group that served it (a fallback group when the first failed). */
  group: ModelGroup;
  /** Upstream attempts made, the successful one included. */
  attempts: number;
  /** Still armed for streams: the caller touches it per chunk and disposes it at the end. */
  signal: AttemptSignal;
  startedAt: number;
  /** The attempt's span (tracing on): still open, like `signal`; the caller ends it with the exchange. */
  span: AttemptTrace | undefined;
}

/** Thrown when every attempt failed; carries how many were made. */
export class AttemptsExhausted extends Error {
  constructor(
    readonly last: unknown,
    readonly attempts: number,
    readonly deployment: Deployment | undefined,
  ) {
    super('every attempt failed');
  }
}


/** The group, then its fallback groups (one level, each once). */
function groupChain(plan: AttemptPlan): ModelGroup[] {
  const chain = [plan.group];
  for (const name of plan.group.fallbacks) {
    const fallback = plan.registry.resolve(name);
    if (fallback && !chain.includes(fallback)) chain.push(fallback);
  }
  return chain;
}

/**
 * Runs `call` on deployments chosen by the balancer until one succeeds: up to `retries`
 * further attempts within a group on retryable errors (429, 5xx, timeouts, connection
 * errors), then each fallback group. A non-retryable error or a departed client ends it at
 * once. A group with nothing to offer (every deployment at its limits or cooling down) passes
 * to the fallbacks without an attempt. `deadline_ms` of the first group bounds everything,
 * waits included. The attempt's signal stays armed on success so a stream keeps its idle
 * timeout; the caller disposes it and reports the end to the balancer.
 */
export async function runAttempts<T>(
  plan: AttemptPlan,
  call: (deployment: Deployment, signal: AttemptSignal) => Promise<T>,
): Promise<AttemptSuccess<T>> {
  let attempts = 0;
  let last: unknown;
  let unavailable: unknown;
  let lastDeployment: Deployment | undefined;
  const deadlineAt = plan.group.deadlineMs !== undefined ? Date.now() + plan.group.deadlineMs : undefined;
  const stopped = (cause: unknown) => new AttemptsExhausted(cause, attempts, lastDeployment);
  for (const group of groupChain(plan)) {
    const tried = new Set<string>();
    for (let i = 0; i <= group.retries; i++) {
      if (plan.client.left) throw stopped(plan.client.reason);
      if (deadlineAt !== undefined && Date.now() >= deadlineAt) {
        throw stopped(new GatewayError('upstream_timeout', `no answer within the ${plan.group.deadlineMs} ms deadline`, { cause: last }));
      }
      const waitUntil = Math.min(Date.now() + group.timeoutMs, deadlineAt ?? Infinity);
      let deployment: Deployment;
      try {
        deployment = await plan.balancer.acquire(group, tried, plan.request, new ClientWait(plan.client, waitUntil));
      } catch (err) {
        if (plan.client.left) throw stopped(plan.client.reason);
        unavailable = err;
        break;
      }
      tried.add(deployment.id);
      attempts++;
      lastDeployment = deployment;
      const signal = new AttemptSignal(plan.client, deployment.timeoutMs, deadlineAt, deployment.provider);
      const span = plan.trace?.startAttempt(deployment, attempts);
      if (span) attachUpstreamHeaders(signal.signal, span.headers);
      const startedAt = Date.now();
      try {
        const value = await call(deployment, signal);
        return { value, deployment, group, attempts, signal, startedAt, span };
      } catch (err) {
        signal.dispose();
        span?.end(err);
        plan.balancer.finished({ deployment, ok: false, latencyMs: Date.now() - startedAt, error: err });
        last = err;
        plan.onAttemptFailed?.(deployment, err, attempts);
        if (plan.client.left || !isRetryable(err)) throw stopped(err);
      }
    }
  }
  // An upstream's own error says more than "nothing was available" for the groups after it.
  throw stopped(last ?? unavailable ?? new GatewayError('service_unavailable', 'no deployment is available'));
}

/** The balancer's wait options: the client's signal is made only if the balancer has to wait. */
class ClientWait implements AcquireOptions {
  constructor(
    private readonly client: ClientLink,
    readonly waitUntil: number,
  ) {}

  get signal(): AbortSignal {
    return this.client.signal;
  }
}
