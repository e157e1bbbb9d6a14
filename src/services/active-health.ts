/**
 * The optional active health check: every `interval_ms`, GET `path` on each target; 2xx/3xx
 * within `timeout_ms` keeps it in service, anything else takes it out until a check passes.
 * It uses node:http rather than the forwarding pool so a check never queues behind traffic.
 */
import http from 'node:http';
import https from 'node:https';
import type { FastifyBaseLogger } from 'fastify';
import type { TargetPool, ServiceTarget } from './target-pool.js';

export interface HealthCheckOptions {
  path: string;
  /** ms. */
  interval_ms: number;
  /** ms. */
  timeout_ms: number;
}

export interface HealthChecker {
  /** Runs one round over every target; resolves when all answered or timed out. */
  runOnce(): Promise<void>;
  stop(): void;
}

function probe(url: URL, timeoutMs: number, inFlight: Set<http.ClientRequest>): Promise<boolean> {
  return new Promise((resolve) => {
    const client = url.protocol === 'https:' ? https : http;
    // A fresh connection each time (no agent): a check must see a target that stopped accepting.
    const req = client.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 400);
    });
    inFlight.add(req);
    req.once('close', () => inFlight.delete(req));
    req.once('timeout', () => req.destroy(new Error('health check timed out')));
    req.once('error', () => resolve(false));
  });
}

export function startHealthChecks(service: string, pool: TargetPool, options: HealthCheckOptions, log: FastifyBaseLogger): HealthChecker {
  const inFlight = new Set<http.ClientRequest>();
  let stopped = false;

  const checkOne = async (target: ServiceTarget) => {
    const healthy = await probe(new URL(target.base + options.path), options.timeout_ms, inFlight);
    if (stopped) return;
    if (healthy === target.checkFailed) {
      log.warn({ service, target: target.origin, healthy }, healthy ? 'service target passes its health check again' : 'service target failed its health check');
    }
    pool.setChecked(target, healthy);
  };
  const runOnce = async () => {
    await Promise.all(pool.targets.map(checkOne));
  };

  let timer: NodeJS.Timeout | undefined;
  const loop = () => {
    void runOnce().finally(() => {
      if (!stopped) timer = setTimeout(loop, options.interval_ms).unref();
    });
  };
  loop();

  return {
    runOnce,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const req of inFlight) req.destroy();
    },
  };
}
