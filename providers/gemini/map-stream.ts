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
 * A class rather than a literal with getters made per stream: see ChatStreamSink in
 * src/http/render-chat.ts for what such a literal costs the garbage collector.
 */
class StreamMapper implements GeminiStreamMapper {
  finished = false;
  usage: Usage | undefined;
  private readonly toolCounts = new Map<number, number>();
  private sawMeta = false;

  constructor(private readonly newId: IdSource) {}

  push(res: GeminiResponse, out: ChatChunk[]): void {
    if (!this.sawMeta && (res.responseId || res.modelVersion)) {
      this.sawMeta = true;
      out.push({ type: 'meta', id: res.responseId, model: res.modelVersion });
    }
    const candidates = res.candidates ?? [];
    if (candidates.length === 0 && res.promptFeedback?.blockReason) throw blockedPromptError(res);
    candidates.forEach((candidate, position) => {
      const choice = candidate.index ?? position;
      for (const part of candidate.content?.parts ?? []) {
        if (isAnswerText(part) && part.text) out.push({ type: 'text-delta', choice, text: part.text });
        if (part.functionCall) {
          const toolIndex = this.toolCounts.get(choice) ?? 0;
          this.toolCounts.set(choice, toolIndex + 1);
          out.push({
            type: 'tool-call-delta',
            choice,
            toolIndex,
            id: this.newId('call_'),
            name: part.functionCall.name,
            argumentsDelta: JSON.stringify(part.functionCall.args ?? {}),
          });
        }
      }
      if (candidate.finishReason) {
        this.finished = true;
        out.push({ type: 'finish', choice, finishReason: mapGeminiFinishReason(candidate.finishReason, this.toolCounts.has(choice)) });
      }
    });
    this.usage = fromGeminiUsage(res.usageMetadata) ?? this.usage;
  }
}

export function createGeminiStreamMapper(newId: IdSource = randomId): GeminiStreamMapper {
  return new StreamMapper(newId);
}
