/** A Gemini `GenerateContentResponse` → the canonical response. */
import { GatewayError } from '../../src/core/errors.js';
import { protocolError } from '../../src/core/upstream-error.js';
import type { ChatResponse, ToolCall, Usage } from '../../src/core/types.js';
import { randomId, type IdSource } from './ids.js';
import { mapGeminiFinishReason } from './map-finish-reason.js';
import type { GeminiPart, GeminiResponse, GeminiUsageMetadata } from './wire-types.js';

export function fromGeminiUsage(usage: GeminiUsageMetadata | undefined): Usage | undefined {
  if (!usage) return undefined;
  return {
    promptTokens: usage.promptTokenCount ?? 0,
    // Thinking tokens are billed as output.
    completionTokens: (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0),
    cachedTokens: usage.cachedContentTokenCount ?? 0,
  };
}

/**
 * A prompt Gemini refused to answer has `promptFeedback.blockReason` and no candidates. We
 * answer 400 with code `content_filter` (as Azure OpenAI does for a filtered prompt): there is
 * no completion to give, the cause is the caller's input, and another try would be refused too.
 */
export function blockedPromptError(res: GeminiResponse): GatewayError {
  const feedback = res.promptFeedback;
  const detail = feedback?.blockReasonMessage ? `: ${feedback.blockReasonMessage}` : '';
  return new GatewayError('upstream_bad_request', `The prompt was blocked by Gemini's content filter (${feedback?.blockReason}${detail})`, {
    param: 'messages',
    providerCode: 'content_filter',
  });
}

export function isAnswerText(part: GeminiPart): part is GeminiPart & { text: string } {
  return typeof part.text === 'string' && part.thought !== true;
}

export interface FromGeminiOptions {
  newId?: IdSource;
  /** ms since the epoch. */
  now?: () => number;
}

export function fromGeminiResponse(res: GeminiResponse, requestedModel: string, options: FromGeminiOptions = {}): ChatResponse {
  const newId = options.newId ?? randomId;
  const candidates = res.candidates ?? [];
  if (candidates.length === 0) {
    if (res.promptFeedback?.blockReason) throw blockedPromptError(res);
    throw protocolError('gemini', 'Gemini answered without any candidate');
  }
  return {
    id: res.responseId ?? newId('chatcmpl-'),
    created: Math.floor((options.now ?? Date.now)() / 1000),
    model: res.modelVersion ?? requestedModel,
    choices: candidates.map((candidate, position) => {
      const parts = candidate.content?.parts ?? [];
      const texts = parts.filter(isAnswerText).map((part) => part.text);
      const toolCalls: ToolCall[] = parts.flatMap((part) =>
        part.functionCall
          ? [{ id: newId('call_'), type: 'function' as const, function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) } }]
          : [],
      );
      return {
        index: candidate.index ?? position,
        message: {
          role: 'assistant' as const,
          content: texts.length > 0 ? texts.join('') : null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finishReason: mapGeminiFinishReason(candidate.finishReason, toolCalls.length > 0),
      };
    }),
    usage: fromGeminiUsage(res.usageMetadata),
  };
}
