import { GatewayError, isGatewayError } from '../core/errors.js';
import type { ChatRequest } from '../core/types.js';
import type { Balancer } from '../routing/balancer.js';
import { AttemptSignal } from './attempt-signal.js';
import type { Deployment, ModelGroup, ModelRegistry } from './model-registry.js';

export interface AttemptPlan {
  group: ModelGroup;
  registry: ModelRegistry;
  balancer: Balancer;
  /** Aborts when the client leaves. */
  clientSignal: AbortSignal;
  /** For cost/latency strategies; absent for embeddings. */
  request?: ChatRequest;
  /** Called for every failed attempt, for the logs. */
  onAttemptFailed?: (deployment: Deployment, err: unknown, attempt: number) => void;
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

function isRetryable(err: unknown): boolean {
  return isGatewayError(err) && err.retryable;
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
 * further attempts within a group on retryable errors, then each fallback group. A
 * non-retryable error or a departed client ends it at once. The attempt's signal stays armed
 * on success so a stream keeps its idle timeout; the caller disposes it.
 */
export async function runAttempts<T>(
  plan: AttemptPlan,
  call: (deployment: Deployment, signal: AttemptSignal) => Promise<T>,
): Promise<AttemptSuccess<T>> {
  let attempts = 0;
  let last: unknown;
  let lastDeployment: Deployment | undefined;
  const deadlineAt = plan.group.deadlineMs !== undefined ? Date.now() + plan.group.deadlineMs : undefined;
  for (const group of groupChain(plan)) {
    const tried = new Set<string>();
    for (let i = 0; i <= group.retries; i++) {
      if (plan.clientSignal.aborted) throw new AttemptsExhausted(plan.clientSignal.reason, attempts, lastDeployment);
      if (deadlineAt !== undefined && Date.now() >= deadlineAt) {
        throw new AttemptsExhausted(
          new GatewayError('upstream_timeout', `no answer within the ${plan.group.deadlineMs} ms deadline`, { cause: last }),
          attempts,
          lastDeployment,
        );
      }
      // Once every deployment was tried, retries go round again rather than stop early.
      if (tried.size >= group.deployments.length) tried.clear();
      const deployment = plan.balancer.pick(group, tried, plan.request);
      if (!deployment) break;
      tried.add(deployment.id);
      attempts++;
      lastDeployment = deployment;
      const signal = new AttemptSignal(plan.clientSignal, deployment.timeoutMs, deadlineAt, deployment.provider);
      const startedAt = Date.now();
      plan.balancer.started(deployment);
      try {
        const value = await call(deployment, signal);
        return { value, deployment, group, attempts, signal, startedAt };
      } catch (err) {
        signal.dispose();
        plan.balancer.finished({ deployment, ok: false, latencyMs: Date.now() - startedAt });
        last = err;
        plan.onAttemptFailed?.(deployment, err, attempts);
        if (plan.clientSignal.aborted || !isRetryable(err)) throw new AttemptsExhausted(err, attempts, deployment);
      }
    }
  }
  throw new AttemptsExhausted(last ?? new GatewayError('service_unavailable', 'no deployment is available'), attempts, lastDeployment);
}
