/**
 * The balancer: for each attempt, a deployment of the group that is healthy and under its
 * limits, chosen by the group's strategy; after each attempt, what it learned (latency, load,
 * health). Picks read in-memory state only; Redis is touched only for deployments with
 * `limits` (bottleneck's shared reservoir) and when a cooldown starts (shared with the other
 * instances).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { GatewayError } from '../core/errors.js';
import type { ChatRequest } from '../core/types.js';
import type { Deployment, ModelGroup } from '../core/deployment.js';
import { classifyAttempt, type AttemptReport } from './attempt-outcome.js';
import { DEFAULT_COOLDOWN_POLICY, DeploymentHealth, type CooldownPolicy, type HealthState } from './cooldown.js';
import { createMemoryGate, hasLimits, type DeploymentGate, type LimitsRemaining } from './deployment-limits.js';
import { DeploymentStats } from './deployment-stats.js';
import { estimateCost } from './pick-cheapest.js';
import { pickDeployment, type PickInputs } from './pick-deployment.js';
import { DEFAULT_EXPLORATION } from './pick-fastest.js';
import { createRedisGates, type RedisGates } from './redis-limits.js';
import { createRedisCooldownSync, type CooldownSync } from './shared-cooldowns.js';
import { createTokenEstimator } from './token-estimate.js';

export { classifyAttempt } from './attempt-outcome.js';
export type { AttemptReport };

export interface AcquireOptions {
  /** Aborts a wait (the client left). Read only when a wait begins: it may be made on demand. */
  readonly signal: AbortSignal;
  /** Epoch ms: how long a request may wait for a deployment under its limits. */
  waitUntil: number;
}

/** A deployment as `GET /admin/deployments` shows it. */
export interface DeploymentStatus {
  state: HealthState;
  /** Epoch ms the current cooldown ends; undefined when healthy. */
  cooldownUntil?: number;
  /** A probe request is out after a cooldown. */
  probing: boolean;
  inFlight: number;
  latencyMs?: number;
  ttftMs?: number;
  errorRate: number;
  requests: number;
  failures: number;
}

/** Chooses a deployment of a group for each attempt and learns from the outcome. */
export interface Balancer {
  /**
   * A deployment of `group` for the next attempt, counted in flight until `finished`: under its
   * limits, healthy (while any is), and not in `tried` while an untried one is left. Waits
   * (until `waitUntil`) while every deployment is at its limits, then throws a 429 with
   * `retry-after`.
   */
  acquire(group: ModelGroup, tried: ReadonlySet<string>, req: ChatRequest | undefined, options: AcquireOptions): Promise<Deployment>;
  /** Ends an attempt `acquire` started. */
  finished(report: AttemptReport): void;
  status(deployment: Deployment): DeploymentStatus;
  /** What is left of the deployment's rpm and tpm this window, as every instance shares it; null without limits. */
  remaining(deployment: Deployment): Promise<LimitsRemaining | null>;
  close(): Promise<void>;
}

export interface BalancerOptions {
  /** Shares limits and cooldowns with the other instances; memory only when absent. */
  redis?: Redis;
  /** `store.key_prefix`, the start of every shared id. */
  keyPrefix?: string;
  random?: () => number;
  clock?: () => number;
  cooldown?: CooldownPolicy;
  exploration?: number;
  /** Longest wait for a deployment that answered 429 with `retry-after` when no other is left, ms. */
  maxRetryAfterWaitMs?: number;
  /** Store trouble (Redis down): the balancer carries on without shared state. Called at most every 10 s. */
  onError?: (err: unknown) => void;
}

const DEFAULT_MAX_RETRY_AFTER_WAIT_MS = 5_000;
/** Polling while every deployment is at its limits: quick at first, then every 200 ms. */
const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 200;
const ERROR_REPORT_EVERY_MS = 10_000;

interface DeploymentState {
  stats: DeploymentStats;
  health: DeploymentHealth;
  /** Undefined until first use; null without limits. */
  gate?: DeploymentGate | null;
  /** Attempts in flight that hold room in the gate (none while Redis was down). */
  slots: number;
}

function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

export function createBalancer(options: BalancerOptions = {}): Balancer {
  const random = options.random ?? Math.random;
  const clock = options.clock ?? Date.now;
  const policy = options.cooldown ?? DEFAULT_COOLDOWN_POLICY;
  const exploration = options.exploration ?? DEFAULT_EXPLORATION;
  const maxRetryAfterWaitMs = options.maxRetryAfterWaitMs ?? DEFAULT_MAX_RETRY_AFTER_WAIT_MS;
  // While Redis is down every limited request fails to reach it: one report per interval is enough.
  let lastErrorAt = -Infinity;
  const onError = (err: unknown) => {
    const now = clock();
    if (now - lastErrorAt < ERROR_REPORT_EVERY_MS) return;
    lastErrorAt = now;
    options.onError?.(err);
  };
  const keyPrefix = options.keyPrefix ?? '';
  // Keyed by the deployment object: a config swap that changes a deployment gives it fresh state
  // (limits, latency, health) while attempts still running on the old one settle against theirs;
  // unchanged deployments keep their object across swaps (ModelRegistry reuses it), so their state.
  const states = new WeakMap<Deployment, DeploymentState>();
  // The newest state per deployment id, for cooldowns other instances announce by id; and
  // cooldowns announced for ids this instance has not used yet, applied when it first does.
  const latest = new Map<string, DeploymentState>();
  const announced = new Map<string, number>();
  // `provider/model` names are the client's choice: one deployment, nothing to balance, and no
  // state kept per name (a stream of odd names must not grow memory).
  const direct = new WeakSet<Deployment>();
  const estimateOf = createTokenEstimator();

  const redisGates: RedisGates | undefined = options.redis ? createRedisGates(options.redis, keyPrefix, onError) : undefined;
  const sync: CooldownSync | undefined = options.redis
    ? createRedisCooldownSync(options.redis, keyPrefix, (id, until) => {
        const state = latest.get(id);
        if (state) state.health.applyRemote(until);
        else announced.set(id, until);
      }, onError)
    : undefined;

  function stateOf(deployment: Deployment): DeploymentState {
    let state = states.get(deployment);
    if (!state) {
      state = { stats: new DeploymentStats(), health: new DeploymentHealth(policy), slots: 0 };
      states.set(deployment, state);
      latest.set(deployment.id, state);
      const until = announced.get(deployment.id);
      if (until !== undefined) {
        announced.delete(deployment.id);
        state.health.applyRemote(until);
      }
      sync?.load(deployment.id);
    }
    return state;
  }

  function gateOf(deployment: Deployment, state: DeploymentState): DeploymentGate | null {
    if (state.gate !== undefined) return state.gate;
    const limits = deployment.limits;
    state.gate = !hasLimits(limits)
      ? null
      : redisGates
        ? redisGates.create({ ...deployment, limits })
        : createMemoryGate(limits, clock);
    return state.gate;
  }

  function inputsFor(req: ChatRequest | undefined): PickInputs {
    const stream = req?.stream === true;
    return {
      random,
      exploration,
      latencyOf: (d) => stateOf(d).stats.latencyFor(stream),
      inFlightOf: (d) => stateOf(d).stats.inFlight,
      // An unknown price must not look free; among unknowns, weight decides.
      costOf: (d) => (d.pricing.known ? estimateCost(d.pricing.price, estimateOf(req)) : Number.MAX_VALUE),
    };
  }

  /**
   * Deployments this attempt may use, untried ones first (a retry goes round the group again
   * only when every one was tried); healthy ones only, unless `anyHealth`. Even then, a retry
   * never goes back to a deployment that asked this request to wait (`retry-after`).
   */
  function candidatesOf(group: ModelGroup, tried: ReadonlySet<string>, now: number, anyHealth: boolean): Deployment[] {
    const fresh: Deployment[] = [];
    const again: Deployment[] = [];
    for (const d of group.deployments) {
      const health = stateOf(d).health;
      if (!anyHealth && !health.canTake(now)) continue;
      if (!tried.has(d.id)) fresh.push(d);
      else if (health.blockedUntil(now) === undefined) again.push(d);
    }
    return fresh.length > 0 ? fresh : again;
  }

  /** Takes room in the deployment's gate; Redis trouble lets the request through unlimited. */
  async function takeRoom(deployment: Deployment, state: DeploymentState, req: ChatRequest | undefined, options: AcquireOptions): Promise<boolean> {
    const gate = gateOf(deployment, state);
    if (!gate) return true;
    const tokens = deployment.limits?.tpm !== undefined ? estimateOf(req).promptTokens : 0;
    try {
      if (!(await gate.take(tokens, options))) return false;
      state.slots++;
    } catch (err) {
      onError(err);
    }
    return true;
  }

  function giveRoomBack(state: DeploymentState, tokens?: number): void {
    if (state.slots === 0 || !state.gate) return;
    state.slots--;
    state.gate.release(tokens);
  }

  /** Earliest end of a `retry-after` block in the group (cooldowns are not waited for: they wait for a probe). */
  function soonestUnblock(group: ModelGroup, now: number): number {
    let soonest = Infinity;
    for (const d of group.deployments) soonest = Math.min(soonest, stateOf(d).health.blockedUntil(now) ?? Infinity);
    return soonest;
  }

  async function shortestRetryAfter(deployments: readonly Deployment[]): Promise<number> {
    let shortest = Infinity;
    for (const d of deployments) {
      const gate = stateOf(d).gate;
      if (gate) shortest = Math.min(shortest, await gate.retryAfterMs());
    }
    return Number.isFinite(shortest) ? shortest : 1000;
  }

  return {
    async acquire(group, tried, req, options) {
      if (group.isDirect) {
        direct.add(group.deployments[0]!);
        return group.deployments[0]!;
      }
      const { waitUntil } = options;
      let pollMs = FIRST_POLL_MS;
      let inputs: PickInputs | undefined;
      for (;;) {
        const now = clock();
        let candidates = candidatesOf(group, tried, now, false);
        // Health steers traffic to other deployments; it never makes a group refuse service on
        // its own. With none healthy, a short `retry-after` is waited out, else all are fair game.
        const panic = candidates.length === 0;
        if (panic) {
          const unblock = soonestUnblock(group, now);
          if (unblock - now <= maxRetryAfterWaitMs && unblock <= waitUntil) {
            const signal = options.signal;
            await sleep(unblock - now, undefined, { signal }).catch(() => {
              throw signal.reason;
            });
            continue;
          }
          candidates = candidatesOf(group, tried, now, true);
          if (candidates.length === 0) throw new GatewayError('service_unavailable', `no deployment of '${group.name}' can take a retry now`);
        }
        while (candidates.length > 0) {
          // One candidate under a strategy that draws no random number for one: nothing to weigh.
          const single = candidates.length === 1 && (group.strategy === 'weighted' || group.strategy === 'priority');
          const deployment = single ? candidates[0]! : pickDeployment(group.strategy, candidates, (inputs ??= inputsFor(req)))!;
          const state = stateOf(deployment);
          // Without limits there is no room to take: no promise, no tick.
          if (gateOf(deployment, state) === null || (await takeRoom(deployment, state, req, options))) {
            // The gate may have waited on Redis, and a probe may have gone out meanwhile.
            if (panic || state.health.canTake(clock())) {
              state.health.begin();
              state.stats.inFlight++;
              return deployment;
            }
            giveRoomBack(state);
          }
          candidates.splice(candidates.indexOf(deployment), 1);
        }
        const signal = options.signal;
        if (signal.aborted) throw signal.reason;
        if (clock() >= waitUntil) {
          const limited = group.deployments.filter((d) => stateOf(d).gate);
          throw new GatewayError('rate_limit_exceeded', `every deployment of '${group.name}' is at its rate limit`, {
            retryAfter: retryAfterSeconds(await shortestRetryAfter(limited)),
          });
        }
        await sleep(Math.max(1, Math.min(pollMs, waitUntil - clock())), undefined, { signal }).catch(() => {
          throw signal.reason;
        });
        pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
      }
    },

    finished(report) {
      if (direct.has(report.deployment)) return;
      const state = stateOf(report.deployment);
      state.stats.inFlight = Math.max(0, state.stats.inFlight - 1);
      giveRoomBack(state, report.tokens);
      const outcome = classifyAttempt(report);
      switch (outcome.kind) {
        case 'success':
          state.health.succeed();
          state.stats.recordOutcome(true);
          if (report.ok) {
            if (report.ttftMs !== undefined) state.stats.recordTtft(report.ttftMs);
            else state.stats.recordLatency(report.latencyMs);
          }
          return;
        case 'neutral':
          state.health.abandon();
          return;
        case 'failure': {
          state.stats.recordOutcome(false);
          // A timeout is a latency measurement too: at least that slow.
          if (outcome.timedOut) state.stats.recordSlow(report.latencyMs);
          const until = state.health.fail(clock(), outcome.retryAfterMs);
          if (until !== undefined) sync?.announce(report.deployment.id, until);
          return;
        }
      }
    },

    status(deployment) {
      const { stats, health } = stateOf(deployment);
      const now = clock();
      const state = health.state(now);
      return {
        state,
        // Past `until` only a probe can be out: no end time to show then, rather than a stale one.
        cooldownUntil: now < health.until ? health.until : undefined,
        probing: health.isProbing,
        inFlight: stats.inFlight,
        latencyMs: stats.latencyMs,
        ttftMs: stats.ttftMs,
        errorRate: stats.errorRate,
        requests: stats.requests,
        failures: stats.failures,
      };
    },

    async remaining(deployment) {
      const gate = gateOf(deployment, stateOf(deployment));
      return gate ? gate.remaining() : null;
    },

    async close() {
      await Promise.all([redisGates?.close(), sync?.close()]);
    },
  };
}
