/** What one upstream exchange used and cost: reported by the provider, or counted here. */
import type { Deployment } from '../core/deployment.js';
import type { ChatRequest, Usage } from '../core/types.js';
import { countMessageTokens, countMessageTokensAsync, countTextTokens, countTextTokensAsync } from '../usage/count-tokens.js';
import { costNanoUsd } from '../usage/pricing.js';
import type { Leg } from './call.js';

/** What a leg used: as reported, or counted with tiktoken from the prompt and what was produced. */
export async function legOf(deployment: Deployment, attempts: number, reported: Usage | undefined, estimate: () => Promise<Usage>, upstreamModel: string): Promise<Leg> {
  const usage = reported ?? (await estimate());
  return {
    deployment,
    attempts,
    usage,
    usageSource: reported ? 'reported' : 'estimated',
    costNanoUsd: costNanoUsd(usage, deployment.pricing.price),
    upstreamModel,
  };
}

/**
 * Exact counts for billing (long texts are counted off the event loop). When the counter is
 * saturated, the synchronous count stands in: exact for ordinary texts, a safe upper bound for
 * very long ones, never below what was used.
 */
async function exactly<T>(count: () => Promise<number>, fallback: () => number): Promise<number> {
  try {
    return await count();
  } catch {
    return fallback();
  }
}

export async function estimateUsage(req: ChatRequest, completionText: string): Promise<Usage> {
  const [promptTokens, completionTokens] = await Promise.all([
    exactly(() => countMessageTokensAsync(req.messages), () => countMessageTokens(req.messages)),
    exactly(() => countTextTokensAsync(completionText), () => countTextTokens(completionText)),
  ]);
  return { promptTokens, completionTokens, cachedTokens: 0 };
}

export async function estimateTextsTokens(texts: readonly string[]): Promise<number> {
  const counts = await Promise.all(texts.map((text) => exactly(() => countTextTokensAsync(text), () => countTextTokens(text))));
  return counts.reduce((sum, n) => sum + n, 0);
}
