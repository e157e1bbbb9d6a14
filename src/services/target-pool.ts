/**
 * A service's targets with their health: weighted picks over the targets in service, passive
 * ejection (a refused connection at once, `maxFails` consecutive 5xx/timeouts otherwise) for a
 * cooldown, and the active check's verdict. Clock and random source are injected for tests.
 */
import { pickWeighted } from '../routing/pick-weighted.js';

export interface ServiceTarget {
  /** Origin and base path, no trailing slash: `http://10.0.0.5:3001/v2`. */
  readonly base: string;
  readonly origin: string;
  /** What the upstream's `host` header says: `10.0.0.5:3001`. */
  readonly host: string;
  /** The base path alone, no trailing slash: `/v2`, or '' at the root. */
  readonly basePath: string;
  /** Relative share of traffic. */
  readonly weight: number;
  /** Failures since the last success. */
  fails: number;
  /** Epoch ms until which passive health keeps the target out. */
  ejectedUntil: number;
  /** Set while the active check fails; cleared by the next passing check. */
  checkFailed: boolean;
}

export interface TargetPoolOptions {
  maxFails: number;
  /** ms. */
  cooldownMs: number;
  now?: () => number;
  random?: () => number;
}

/** How an attempt on a target ended, as health sees it. */
export type TargetOutcome = 'ok' | 'refused' | 'failed';

export interface TargetPool {
  readonly targets: readonly ServiceTarget[];
  /** A target in service by weight, skipping `tried`; undefined when none is left. */
  pick(tried?: readonly ServiceTarget[]): ServiceTarget | undefined;
  report(target: ServiceTarget, outcome: TargetOutcome): void;
  /** The active check's verdict. */
  setChecked(target: ServiceTarget, healthy: boolean): void;
  /** Seconds until an ejected target returns (at least 1), for `retry-after`. */
  secondsUntilRecovery(): number;
}

function toTarget(url: string, weight: number): ServiceTarget {
  const parsed = new URL(url);
  const basePath = parsed.pathname.replace(/\/+$/, '');
  return {
    base: parsed.origin + basePath,
    origin: parsed.origin,
    host: parsed.host,
    basePath,
    weight,
    fails: 0,
    ejectedUntil: 0,
    checkFailed: false,
  };
}

export function createTargetPool(configured: ReadonlyArray<{ url: string; weight: number }>, options: TargetPoolOptions): TargetPool {
  const targets = configured.map((t) => toTarget(t.url, t.weight));
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const inService = (t: ServiceTarget, at: number) => !t.checkFailed && t.ejectedUntil <= at;

  const eject = (target: ServiceTarget) => {
    target.ejectedUntil = now() + options.cooldownMs;
    // Back from a cooldown it gets a fresh count, like a half-open circuit.
    target.fails = 0;
  };

  return {
    targets,
    pick(tried) {
      const at = now();
      let allIn = true;
      for (const t of targets) {
        if (!inService(t, at)) {
          allIn = false;
          break;
        }
      }
      // The hot path: everything healthy, first attempt: no allocation.
      if (allIn && (tried === undefined || tried.length === 0)) return pickWeighted(targets, random);
      return pickWeighted(
        targets.filter((t) => inService(t, at) && !tried?.includes(t)),
        random,
      );
    },
    report(target, outcome) {
      if (outcome === 'ok') {
        target.fails = 0;
        return;
      }
      target.fails += 1;
      if (outcome === 'refused' || target.fails >= options.maxFails) eject(target);
    },
    setChecked(target, healthy) {
      // A passing check does not cut a passive cooldown short: real traffic failed there.
      target.checkFailed = !healthy;
    },
    secondsUntilRecovery() {
      const at = now();
      let soonest = Infinity;
      for (const t of targets) if (t.ejectedUntil > at) soonest = Math.min(soonest, t.ejectedUntil - at);
      return Number.isFinite(soonest) ? Math.max(1, Math.ceil(soonest / 1000)) : 1;
    },
  };
}
