import type { ChatRequest } from '../core/types.js';
import { countMessageTokens } from '../usage/count-tokens.js';
import type { TokenEstimate } from './pick-cheapest.js';

/** Completion tokens assumed for cost ranking when the request sets no `max_tokens`. */
export const DEFAULT_COMPLETION_TOKENS = 256;

const NOTHING: TokenEstimate = Object.freeze({ promptTokens: 0, completionTokens: 0 });

/**
 * Token estimates of requests, counted with tiktoken once per request and only when asked
 * (`cost` groups, `tpm` limits): counting a long prompt costs real CPU.
 */
export function createTokenEstimator(): (req: ChatRequest | undefined) => TokenEstimate {
  const estimates = new WeakMap<ChatRequest, TokenEstimate>();
  return (req) => {
    if (!req) return NOTHING;
    let estimate = estimates.get(req);
    if (!estimate) {
      estimate = {
        promptTokens: countMessageTokens(req.messages),
        completionTokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_COMPLETION_TOKENS,
      };
      estimates.set(req, estimate);
    }
    return estimate;
  };
}
