import type { ChatRequest } from '../core/types.js';
import type { Deployment, ModelGroup } from '../pipeline/model-registry.js';
import { pickWeighted } from './pick-weighted.js';

/** What the balancer learns from each attempt, to steer the next ones. */
export interface AttemptReport {
  deployment: Deployment;
  ok: boolean;
  /** Total attempt time, ms. */
  latencyMs: number;
  /** Time to first chunk for streams, ms. */
  ttftMs?: number;
}

/** Chooses a deployment of a group for one attempt and learns from the outcome. */
export interface Balancer {
  /** A deployment not in `tried`, or undefined when none is left. */
  pick(group: ModelGroup, tried: ReadonlySet<string>, req: ChatRequest | undefined): Deployment | undefined;
  /** Called when an attempt starts, so in-flight counts stay true. */
  started(deployment: Deployment): void;
  finished(report: AttemptReport): void;
}

/** Weighted and priority picks with no memory; the full balancer replaces it. */
export function createSimpleBalancer(random: () => number = Math.random): Balancer {
  return {
    pick(group, tried) {
      const left = group.deployments.filter((d) => !tried.has(d.id));
      if (group.strategy === 'priority') return left[0];
      return pickWeighted(left, random);
    },
    started() {},
    finished() {},
  };
}
