import { get_encoding, type Tiktoken } from 'tiktoken';
import type { ChatMessage } from '../core/types.js';

/**
 * Token estimates for when a provider reports no usage (or a stream is cut) and for limits
 * checked before a call. One o200k_base encoder is made on first use and kept: creating one
 * costs milliseconds and WASM memory.
 */
let encoder: Tiktoken | undefined;

function getEncoder(): Tiktoken {
  encoder ??= get_encoding('o200k_base');
  return encoder;
}

export function countTextTokens(text: string): number {
  if (text.length === 0) return 0;
  return getEncoder().encode_ordinary(text).length;
}

// Per-message framing overhead of the chat format, as OpenAI's cookbook counts it.
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_REPLY = 3;
// An image's cost depends on its size, which the gateway does not fetch; a low-detail tile is the floor.
const TOKENS_PER_IMAGE = 85;

export function countMessageTokens(messages: readonly ChatMessage[]): number {
  let total = TOKENS_PER_REPLY;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE;
    const content = message.content;
    if (typeof content === 'string') total += countTextTokens(content);
    else if (Array.isArray(content)) {
      for (const part of content) total += part.type === 'text' ? countTextTokens(part.text) : TOKENS_PER_IMAGE;
    }
    if (message.role === 'assistant' && message.tool_calls) {
      for (const call of message.tool_calls) total += countTextTokens(call.function.name) + countTextTokens(call.function.arguments);
    }
  }
  return total;
}
