/**
 * Canonical answers written as an Anthropic Messages `message`: content blocks, stop reason and
 * usage as the Messages API reports them. https://docs.anthropic.com/en/api/messages
 */
import type { ChatChoice, ChatResponse, FinishReason, Usage } from '../core/types.js';

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

export interface AnthropicUsageOut {
  /** Input tokens neither read from nor written to the prompt cache, as Anthropic counts them. */
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type AnthropicContentOut =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicMessageOut {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicContentOut[];
  stop_reason: AnthropicStopReason;
  stop_sequence: string | null;
  usage: AnthropicUsageOut;
}

/** `msg_` and the call id without its dashes: unique per call, and the ledger's key for it. */
export function messageIdOf(callId: string): string {
  return `msg_${callId.replaceAll('-', '')}`;
}

/** The canonical usage (input counts cache reads and writes) in Anthropic's split. */
export function toAnthropicUsage(usage: Usage): AnthropicUsageOut {
  const written = usage.cacheWriteTokens ?? 0;
  return {
    input_tokens: Math.max(0, usage.promptTokens - usage.cachedTokens - written),
    output_tokens: usage.completionTokens,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: usage.cachedTokens,
  };
}

/**
 * The stop reason for a finish. An answer with tool calls is `tool_use` whatever the provider
 * said (Gemini finishes those with STOP): agents run tools only on `tool_use`.
 */
export function toStopReason(finish: FinishReason, stopSequence: string | undefined, hasToolUse: boolean): AnthropicStopReason {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    case 'stop':
      if (hasToolUse) return 'tool_use';
      return stopSequence ? 'stop_sequence' : 'end_turn';
  }
}

/**
 * A tool call's JSON arguments as `input`, which the Messages API types as an object. Arguments
 * that are not a JSON object (a model that wrote broken JSON) become `{}`: the client gets a
 * call it can answer with an error instead of a message it cannot read.
 */
export function toToolInput(args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const input: unknown = JSON.parse(args);
    return input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function contentOf(choice: ChatChoice): AnthropicContentOut[] {
  const content: AnthropicContentOut[] = [];
  const text = choice.message.content;
  if (text) content.push({ type: 'text', text });
  for (const call of choice.message.tool_calls ?? []) {
    content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: toToolInput(call.function.arguments) });
  }
  return content;
}

/** The whole answer as a `message`; the Messages API has one choice, so the first is the answer. */
export function toAnthropicMessage(response: ChatResponse, id: string, usage: Usage): AnthropicMessageOut {
  const choice = response.choices[0];
  const content = choice ? contentOf(choice) : [];
  const hasToolUse = content.some((block) => block.type === 'tool_use');
  const stopReason = toStopReason(choice?.finishReason ?? 'stop', choice?.stopSequence, hasToolUse);
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: response.model,
    content,
    stop_reason: stopReason,
    stop_sequence: stopReason === 'stop_sequence' ? (choice?.stopSequence ?? null) : null,
    usage: toAnthropicUsage(usage),
  };
}
