/** A Messages API answer → the canonical response. */
import { protocolError } from '../../src/core/upstream-error.js';
import type { ChatResponse, ToolCall, Usage } from '../../src/core/types.js';
import { mapAnthropicFinishReason } from './map-finish-reason.js';
import { isTextBlock, isToolUseBlock, type AnthropicMessage, type AnthropicUsage } from './wire-types.js';

/**
 * Anthropic counts cache reads and writes apart from `input_tokens`; OpenAI's prompt_tokens holds
 * all three. Writes are kept apart too (only when there are any), so the Messages route can answer
 * them as Anthropic does.
 */
export function fromAnthropicUsage(usage: AnthropicUsage): Usage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const out: Usage = {
    promptTokens: (usage.input_tokens ?? 0) + cacheRead + cacheWrite,
    completionTokens: usage.output_tokens ?? 0,
    cachedTokens: cacheRead,
  };
  if (cacheWrite > 0) out.cacheWriteTokens = cacheWrite;
  return out;
}

/** `now` (ms) stands in for `created`, which the Messages API does not send; `provider` names the configured provider in errors. */
export function fromAnthropicResponse(res: AnthropicMessage, now = Date.now(), provider = 'anthropic'): ChatResponse {
  // A 200 that is not a message (an error body, a proxy's page) is the upstream's failure.
  if (res === null || typeof res !== 'object' || !Array.isArray(res.content)) {
    throw protocolError(provider, 'Anthropic answered 200 without a message', undefined, res);
  }
  const text = res.content.filter(isTextBlock).map((block) => block.text).join('');
  const toolCalls: ToolCall[] = res.content.filter(isToolUseBlock).map((block) => ({
    id: block.id,
    type: 'function',
    function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
  }));
  return {
    id: res.id,
    created: Math.floor(now / 1000),
    model: res.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          // OpenAI answers null content beside tool calls, and a string otherwise.
          content: text || (toolCalls.length > 0 ? null : ''),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finishReason: mapAnthropicFinishReason(res.stop_reason),
        ...(res.stop_reason === 'stop_sequence' && res.stop_sequence ? { stopSequence: res.stop_sequence } : {}),
      },
    ],
    usage: fromAnthropicUsage(res.usage),
  };
}
