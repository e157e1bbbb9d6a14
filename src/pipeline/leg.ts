/** What one upstream exchange used and cost: reported by the provider, or counted here. */
import type { Deployment } from '../core/deployment.js';
import type { ChatRequest, Usage } from '../core/types.js';
import { countMessageTokens, countTextTokens } from '../usage/count-tokens.js';
import { costNanoUsd } from '../usage/pricing.js';
import type { Leg } from './call.js';

/** What a leg used: as reported, or counted with tiktoken from the prompt and what was produced. */
export function legOf(deployment: Deployment, attempts: number, reported: Usage | undefined, estimate: () => Usage, upstreamModel: string): Leg {
  const usage = reported ?? estimate();
  return {
    deployment,
    attempts,
    usage,
    usageSource: reported ? 'reported' : 'estimated',
    costNanoUsd: costNanoUsd(usage, deployment.pricing.price),
    upstreamModel,
  };
}

export function estimateUsage(req: ChatRequest, completionText: string): Usage {
  return { promptTokens: countMessageTokens(req.messages), completionTokens: countTextTokens(completionText), cachedTokens: 0 };
}

