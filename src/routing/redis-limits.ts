/**
 * Deployment limits shared by every gateway instance on one Redis, with bottleneck's Redis
 * datastore: limiters with the same `id` in different processes share one reservoir (rpm, tpm)
 * and one concurrency count, updated atomically by bottleneck's Lua scripts.
 *
 * A request first asks `check()` (no side effect) so a full deployment gives way to the next
 * one at once instead of queueing; then it schedules a job that stays running while the
 * attempt is in flight, which is what holds a concurrency slot and spends one of the minute's
 * requests. If another instance took the room between the two calls, the job waits in
 * bottleneck's queue until `signal` gives up; should it start after that, it hands its request
 * back at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Bottleneck from 'bottleneck';
import type { Redis } from 'ioredis';
import { loadBottleneck, loadIoredis } from '../store/lazy-packages.js';
import type { DeploymentLimits } from '../config/types.js';
import { withTimeout } from '../core/with-timeout.js';
import type { Deployment } from '../core/deployment.js';
import { clampTokens, LIMIT_WINDOW_MS, type DeploymentGate, type GateWait } from './deployment-limits.js';

/** Idle limiter state leaves Redis after this long (a fresh window is full anyway). */
const KEY_TTL_MS = 10 * 60_000;
/** A held slot is freed after this long even if its instance died without freeing it. */
const SLOT_EXPIRATION_MS = 10 * 60_000;
const CONCURRENCY_RETRY_MS = 1_000;
const STOP_WAIT_MS = 1_000;

export interface RedisGates {
  /** The gate of a deployment with limits; one per deployment. */
  create(deployment: Deployment & { limits: DeploymentLimits }): DeploymentGate;
  close(): Promise<void>;
}

/** The limiter ids name the limits too, so a config change starts from fresh shared state. */
export function limiterIds(keyPrefix: string, deployment: Deployment & { limits: DeploymentLimits }) {
  const { rpm, tpm, concurrency } = deployment.limits;
  const base = `${keyPrefix}limits:${deployment.id}`;
  return {
    requests: rpm !== undefined || concurrency !== undefined ? `${base}:requests:${rpm ?? '-'}:${concurrency ?? '-'}` : undefined,
    tokens: tpm !== undefined ? `${base}:tokens:${tpm}` : undefined,
  };
}

function windowLimiter(connection: Bottleneck.IORedisConnection, id: string, perMinute: number | undefined, concurrency?: number) {
  return new (loadBottleneck())({
    id,
    datastore: 'ioredis',
    connection,
    timeout: KEY_TTL_MS,
    maxConcurrent: concurrency ?? null,
    reservoir: perMinute ?? null,
    reservoirRefreshAmount: perMinute ?? null,
    reservoirRefreshInterval: perMinute !== undefined ? LIMIT_WINDOW_MS : null,
  });
}

/** Thrown by a gate while Redis is unreachable, so the balancer can let the request through. */
export class LimitsUnavailable extends Error {
  constructor() {
    super('deployment limits are not enforced while Redis is unreachable');
    this.name = 'LimitsUnavailable';
  }
}

/** How long a request waits for Redis before its limits are skipped: at start-up, or a stuck command. */
const STORE_WAIT_MS = 1_000;

/** Rejects with LimitsUnavailable when `promise` takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return withTimeout(promise, ms, () => new LimitsUnavailable());
}

export function createRedisGates(redis: Redis, keyPrefix: string, onError: (err: unknown) => void): RedisGates {
  let connection: { bottleneck: Bottleneck.IORedisConnection; client: Redis; firstReady: Promise<unknown>; startedAt: number } | undefined;
  const gates: Array<{ stop(): Promise<unknown> }> = [];

  // One extra connection pair (commands + bottleneck's pub/sub) for all limiters, made on first use.
  const connect = () => {
    if (!connection) {
      const client = redis.duplicate();
      const bottleneck = new (loadBottleneck().IORedisConnection)({ client, Redis: loadIoredis().Redis });
      bottleneck.on('error', onError);
      connection = { bottleneck, client, firstReady: new Promise((resolve) => client.once('ready', resolve)), startedAt: Date.now() };
    }
    return connection;
  };

  /** ms until bottleneck refreshes a spent reservoir; its state hash is `b_<id>_settings`. */
  const windowLeftMs = async (id: string): Promise<number | undefined> => {
    const [reservoir, last] = await redis.hmget(`b_${id}_settings`, 'reservoir', 'lastReservoirRefresh');
    // bottleneck stores an unset reservoir (concurrency only) as ''.
    if (!reservoir || !last || Number(reservoir) > 0) return undefined;
    return Math.max(0, Number(last) + LIMIT_WINDOW_MS - Date.now());
  };

  return {
    create(deployment) {
      const { rpm, tpm, concurrency } = deployment.limits;
      const ids = limiterIds(keyPrefix, deployment);
      const { bottleneck, client, firstReady, startedAt } = connect();
      const requests = ids.requests ? windowLimiter(bottleneck, ids.requests, rpm, concurrency) : undefined;
      const tokens = ids.tokens ? windowLimiter(bottleneck, ids.tokens, tpm) : undefined;
      requests?.on('error', onError);
      tokens?.on('error', onError);
      // Held slots, oldest first: resolving one ends its bottleneck job and frees the room.
      const held: Array<{ free: () => void; estimate: number }> = [];

      /** Runs a job that holds its slot until freed; resolves undefined if it did not start in time. */
      const hold = (limiter: Bottleneck, { signal, waitUntil }: GateWait) =>
        new Promise<(() => void) | undefined>((resolve) => {
          if (signal.aborted) return resolve(undefined);
          let gaveUp = false;
          const giveUp = () => {
            gaveUp = true;
            clearTimeout(timer);
            signal.removeEventListener('abort', giveUp);
            resolve(undefined);
          };
          signal.addEventListener('abort', giveUp, { once: true });
          const timer = setTimeout(giveUp, Math.max(0, waitUntil - Date.now()));
          limiter
            .schedule({ expiration: SLOT_EXPIRATION_MS }, () => {
              clearTimeout(timer);
              signal.removeEventListener('abort', giveUp);
              if (gaveUp) {
                // Nobody waits for this slot any more: give the minute's request back.
                if (rpm !== undefined) limiter.incrementReservoir(1).catch(onError);
                return Promise.resolve();
              }
              return new Promise<void>((free) => resolve(free));
            })
            .catch(() => {
              // Dropped (the limiter stopped), or expired after SLOT_EXPIRATION_MS.
              clearTimeout(timer);
              resolve(undefined);
            });
        });

      const gate = {
        async take(estimateTokens: number, wait: GateWait): Promise<boolean> {
          if (client.status !== 'ready') {
            // Requests in the first moments wait for the connection; after that, a Redis that is
            // not ready means its limits are skipped at once rather than every request waiting.
            const startupLeft = startedAt + STORE_WAIT_MS - Date.now();
            if (startupLeft <= 0) throw new LimitsUnavailable();
            await within(firstReady, startupLeft);
          }
          const estimate = clampTokens(estimateTokens, tpm);
          if (tokens && !(await within(tokens.check(Math.max(1, estimate)), STORE_WAIT_MS))) return false;
          let free: (() => void) | undefined = () => undefined;
          if (requests) {
            if (!(await within(requests.check(1), STORE_WAIT_MS))) return false;
            free = await hold(requests, wait);
            if (!free) return false;
          }
          if (tokens && estimate > 0) {
            try {
              await within(tokens.incrementReservoir(-estimate), STORE_WAIT_MS);
            } catch (err) {
              free();
              throw err;
            }
          }
          held.push({ free, estimate });
          return true;
        },
        release(usedTokens?: number) {
          const slot = held.shift();
          if (!slot) return;
          slot.free();
          // Charged off the response path: the next request's check sees it a moment later.
          if (tokens && usedTokens !== undefined && usedTokens !== slot.estimate) {
            tokens.incrementReservoir(slot.estimate - usedTokens).catch(onError);
          }
        },
        async retryAfterMs(): Promise<number> {
          try {
            const waits = await Promise.all([ids.requests, ids.tokens].map((id) => (id ? windowLeftMs(id) : undefined)));
            const known = waits.filter((ms): ms is number => ms !== undefined);
            return known.length > 0 ? Math.max(...known) : CONCURRENCY_RETRY_MS;
          } catch {
            return CONCURRENCY_RETRY_MS;
          }
        },
        async remaining() {
          // bottleneck's own reading of the shared reservoir: null for a limiter with none.
          const [requestsLeft, tokensLeft] = await Promise.all([requests?.currentReservoir(), tokens?.currentReservoir()]);
          return { requests: requestsLeft ?? null, tokens: tokensLeft ?? null };
        },
        /** Frees what is still held, drops jobs still queued, and waits for the frees to reach Redis. */
        stop() {
          while (held.length > 0) held.shift()!.free();
          const limiters = [requests, tokens].filter((l): l is Bottleneck => l !== undefined);
          return Promise.all(limiters.map((l) => l.stop({ dropWaitingJobs: true }).catch(onError)));
        },
      };
      gates.push(gate);
      return gate;
    },
    async close() {
      // Requests are drained by now; whatever is still held is freed for the other instances,
      // within a bound so a stuck Redis cannot hold up shutdown.
      const stopped = Promise.all(gates.map((gate) => gate.stop()));
      await Promise.race([stopped, sleep(STOP_WAIT_MS, undefined, { ref: false })]);
      // Stops every limiter's heartbeat and quits both of bottleneck's clients.
      await connection?.bottleneck.disconnect(true);
    },
  };
}
