/** Streamed Gemini responses → canonical chunks. */
import type { ChatChunk, Usage } from '../../src/core/types.js';
import { blockedPromptError, fromGeminiUsage, isAnswerText } from './from-response.js';
import { randomId, type IdSource } from './ids.js';
import { mapGeminiFinishReason } from './map-finish-reason.js';
import type { GeminiResponse } from './wire-types.js';

export interface GeminiStreamMapper {
  /** Maps one streamed GenerateContentResponse, pushing canonical chunks into `out`. */
  push(res: GeminiResponse, out: ChatChunk[]): void;
  /** Whether a candidate reported its finish reason: Gemini always does on a whole stream. */
  readonly finished: boolean;
  /** The last usage seen: Gemini repeats it, cumulative, so the last one counts. */
  readonly usage: Usage | undefined;
}

/**
 * Each streamed chunk is a whole GenerateContentResponse holding the new text; a function
 * call arrives whole in one chunk, so it becomes one tool-call delta with its full arguments.
 */
export function createGeminiStreamMapper(newId: IdSource = randomId): GeminiStreamMapper {
  const toolCounts = new Map<number, number>();
  let finished = false;
  let usage: Usage | undefined;
  let sawMeta = false;
  return {
    get finished() {
      return finished;
    },
    get usage() {
      return usage;
    },
    push(res, out) {
      if (!sawMeta && (res.responseId || res.modelVersion)) {
        sawMeta = true;
        out.push({ type: 'meta', id: res.responseId, model: res.modelVersion });
      }
      const candidates = res.candidates ?? [];
      if (candidates.length === 0 && res.promptFeedback?.blockReason) throw blockedPromptError(res);
      candidates.forEach((candidate, position) => {
        const choice = candidate.index ?? position;
        for (const part of candidate.content?.parts ?? []) {
          if (isAnswerText(part) && part.text) out.push({ type: 'text-delta', choice, text: part.text });
          if (part.functionCall) {
            const toolIndex = toolCounts.get(choice) ?? 0;
            toolCounts.set(choice, toolIndex + 1);
            out.push({
              type: 'tool-call-delta',
              choice,
              toolIndex,
              id: newId('call_'),
              name: part.functionCall.name,
              argumentsDelta: JSON.stringify(part.functionCall.args ?? {}),
            });
          }
        }
        if (candidate.finishReason) {
          finished = true;
          out.push({ type: 'finish', choice, finishReason: mapGeminiFinishReason(candidate.finishReason, toolCounts.has(choice)) });
        }
      });
      usage = fromGeminiUsage(res.usageMetadata) ?? usage;
    },
  };
}
