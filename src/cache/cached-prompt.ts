/**
 * A non-streamed prompt call through the response cache. The cache keeps the prompt's final
 * answer (the repaired one when a repair was needed) with the usage and cost of every call it
 * took, so a hit returns the same output without calling upstream.
 */
import type { FastifyReply } from 'fastify';
import { GatewayError } from '../core/errors.js';
import type { ChatRequest, Usage } from '../core/types.js';
import type { Call } from '../pipeline/call.js';
import type { ModelGroup } from '../core/deployment.js';
import { checkJsonAnswer } from '../prompts/json-output.js';
import type { Prompt } from '../prompts/prompt-types.js';
import { runPrompt } from '../prompts/run-prompt.js';
import type { CachePlan } from './cache-plan.js';
import { toCachedAnswer, type CachedAnswer } from './cached-answer.js';
import type { ResponseCache } from './response-cache.js';
import { completeThroughCache } from './serve-cached.js';

/** What the prompt route renders, whether the answer was fresh or cached. */
export interface PromptResult {
  output: unknown;
  usage: Usage;
  /** 0 on a hit. */
  costNanoUsd: number;
  attempts: number;
  provider: string;
  upstreamModel: string;
}

/** The output a prompt reads from an answer; a cached answer passed these checks when it was stored. */
function outputOf(prompt: Prompt, answer: CachedAnswer): unknown {
  const text = answer.response.choices[0]?.message.content ?? null;
  if (!prompt.validateOutput) return text ?? '';
  const checked = checkJsonAnswer(text, prompt.validateOutput);
  if (!checked.ok) throw new GatewayError('upstream_invalid_response', `prompt '${prompt.spec.name}': the cached answer is no longer valid: ${checked.reason}`);
  return checked.value;
}

/** Throws the client-facing error (as runPrompt) when a fresh call fails. */
export async function runPromptThroughCache(
  call: Call,
  reply: FastifyReply,
  cache: ResponseCache,
  plan: CachePlan,
  group: ModelGroup,
  prompt: Prompt,
  req: ChatRequest,
): Promise<PromptResult> {
  const result = await completeThroughCache(call, reply, cache, plan, async () => {
    const done = await runPrompt(call, group, prompt, req);
    const answer = toCachedAnswer(done.response, {
      model: done.upstreamModel,
      usage: done.usage,
      provider: done.deployment.provider,
      costNanoUsd: done.costNanoUsd,
    });
    return { answer, attempts: done.attempts, value: done.output };
  });
  const { answer } = result;
  return {
    output: result.status === 'hit' ? outputOf(prompt, answer) : result.value,
    usage: answer.usage,
    costNanoUsd: result.status === 'hit' ? 0 : answer.costNanoUsd,
    attempts: result.attempts,
    provider: answer.provider,
    upstreamModel: answer.response.model,
  };
}
