/**
 * A cached answer as the canonical chunks of a live stream: per choice, its text in word-sized
 * deltas, each tool call as a first delta (id and name) and argument fragments, then the
 * finish. Usage is left to the writer, which sends it only when the client asked.
 */
import type { ChatChunk } from '../core/types.js';
import type { CachedAnswer } from './cached-answer.js';

// A word and the spaces after it (at most 16 code points), or leading spaces: about one token per delta.
const PIECE = /\S{1,16}\s*|\s+/gu;

export function splitPieces(text: string): string[] {
  return text.match(PIECE) ?? [];
}

export function replayChunks(answer: CachedAnswer): ChatChunk[] {
  const chunks: ChatChunk[] = [];
  for (const choice of answer.response.choices) {
    const { content, tool_calls: calls } = choice.message;
    for (const text of content ? splitPieces(content) : []) chunks.push({ type: 'text-delta', choice: choice.index, text });
    calls?.forEach((call, toolIndex) => {
      chunks.push({ type: 'tool-call-delta', choice: choice.index, toolIndex, id: call.id, name: call.function.name, argumentsDelta: '' });
      for (const fragment of splitPieces(call.function.arguments)) {
        chunks.push({ type: 'tool-call-delta', choice: choice.index, toolIndex, argumentsDelta: fragment });
      }
    });
    chunks.push({ type: 'finish', choice: choice.index, finishReason: choice.finishReason, ...(choice.stopSequence ? { stopSequence: choice.stopSequence } : {}) });
  }
  return chunks;
}
