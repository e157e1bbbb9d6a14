import type { Strategy } from '../config/types.js';
import { assertNever } from '../core/types.js';
import type { Deployment } from '../core/deployment.js';
import { pickCheapest } from './pick-cheapest.js';
import { pickFastest } from './pick-fastest.js';
import { pickLeastBusy } from './pick-least-busy.js';
import { pickWeighted } from './pick-weighted.js';

/** What the strategies may look at besides the candidates. */
export interface PickInputs {
  random: () => number;
  /** Share of `latency` picks that explore a deployment other than the fastest. */
  exploration: number;
  /** Recent latency ranking this request: TTFT for streams; undefined when never measured. */
  latencyOf(deployment: Deployment): number | undefined;
  inFlightOf(deployment: Deployment): number;
  /** Expected cost of this request on the deployment (any monotonic unit). */
  costOf(deployment: Deployment): number;
}

/** One deployment among `candidates` (healthy, in config order) by the group's strategy. */
export function pickDeployment(strategy: Strategy, candidates: readonly Deployment[], inputs: PickInputs): Deployment | undefined {
  switch (strategy) {
    case 'weighted':
      return pickWeighted(candidates, inputs.random);
    case 'priority':
      return candidates[0];
    case 'cost':
      return pickCheapest(candidates, inputs.costOf, inputs.random);
    case 'latency':
      return pickFastest(candidates, inputs.latencyOf, inputs.random, inputs.exploration);
    case 'least-busy':
      return pickLeastBusy(candidates, inputs.inFlightOf, inputs.random);
    default:
      return assertNever(strategy);
  }
}
