/**
 * Assembles a streamed answer from its canonical chunks into the response the cache keeps:
 * text per choice, tool calls from their deltas, finish reasons. An answer with a choice that
 * never finished is not complete and is not kept.
 */
import { assertNever, type ChatChunk, type ChatResponse, type FinishReason, type ToolCall, type Usage } from '../core/types.js';
import type { CachedAnswer } from './cached-answer.js';

interface ChoiceParts {
  text: string;
  hasText: boolean;
  tools: ToolCall[];
  finish?: FinishReason;
  stopSequence?: string;
}

export class AnswerCollector {
  private readonly choices: ChoiceParts[] = [];
  private id = '';
  private model = '';

  private choice(index: number): ChoiceParts {
    let parts = this.choices[index];
    if (!parts) {
      parts = { text: '', hasText: false, tools: [] };
      this.choices[index] = parts;
    }
    return parts;
  }

  add(chunk: ChatChunk): void {
    switch (chunk.type) {
      case 'text-delta': {
        const parts = this.choice(chunk.choice);
        parts.text += chunk.text;
        // Providers open a tool-call answer with an empty text delta; its content stays null.
        if (chunk.text) parts.hasText = true;
        return;
      }
      case 'tool-call-delta': {
        const parts = this.choice(chunk.choice);
        let call = parts.tools[chunk.toolIndex];
        if (!call) {
          call = { id: '', type: 'function', function: { name: '', arguments: '' } };
          parts.tools[chunk.toolIndex] = call;
        }
        if (chunk.id) call.id = chunk.id;
        if (chunk.name) call.function.name = chunk.name;
        call.function.arguments += chunk.argumentsDelta;
        return;
      }
      case 'finish': {
        const parts = this.choice(chunk.choice);
        parts.finish = chunk.finishReason;
        if (chunk.stopSequence) parts.stopSequence = chunk.stopSequence;
        return;
      }
      case 'meta':
        if (chunk.id) this.id = chunk.id;
        if (chunk.model) this.model = chunk.model;
        return;
      case 'usage':
        return;
      default:
        assertNever(chunk);
    }
  }

  /** The answer as the cache keeps it; undefined when a choice is missing or did not finish. */
  finish(info: { provider: string; model: string; created: number; usage: Usage; costNanoUsd: number }): CachedAnswer | undefined {
    const choices: ChatResponse['choices'] = [];
    for (let index = 0; index < this.choices.length; index++) {
      const parts = this.choices[index];
      if (!parts?.finish) return undefined;
      const tools = parts.tools.filter(Boolean);
      choices.push({
        index,
        message: {
          role: 'assistant',
          content: parts.hasText || tools.length === 0 ? parts.text : null,
          ...(tools.length > 0 ? { tool_calls: tools } : {}),
        },
        finishReason: parts.finish,
        ...(parts.stopSequence ? { stopSequence: parts.stopSequence } : {}),
      });
    }
    if (choices.length === 0) return undefined;
    return {
      response: { id: this.id, created: info.created, model: this.model || info.model, choices },
      usage: info.usage,
      provider: info.provider,
      costNanoUsd: info.costNanoUsd,
    };
  }
}
