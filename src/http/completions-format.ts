/**
 * Canonical chat answers written back in the shape of OpenAI's legacy `POST /v1/completions`
 * (`object: "text_completion"`): each choice is the assistant's text, with `logprobs: null`
 * since chat upstreams report none the gateway could pass on.
 * https://platform.openai.com/docs/api-reference/completions/object
 */
import { assertNever, type ChatChunk, type ChatResponse, type FinishReason, type Usage } from '../core/types.js';
import type { ChatFormat } from './chat-format.js';
import { OpenAIFrameEncoder, toOpenAIUsage } from './openai-format.js';

/** The finish reasons a text completion can carry (OpenAI's SDK types them so). */
export type TextFinishReason = 'stop' | 'length' | 'content_filter';

export interface TextChoice {
  text: string;
  index: number;
  logprobs: null;
  finish_reason: TextFinishReason;
}

/** One prompt's answer, as the pipeline gave it. */
export interface PromptAnswer {
  response: ChatResponse;
  usage: Usage;
}

/**
 * A completion request sends no tools, so `tool_calls` cannot really come back; should an
 * upstream say it anyway, the text simply ended.
 */
export function toTextFinishReason(reason: FinishReason): TextFinishReason {
  return reason === 'tool_calls' ? 'stop' : reason;
}

/**
 * The whole answer to one or more prompts. OpenAI numbers choices prompt by prompt, `n` each:
 * prompt `p`'s choice `c` has index `p * n + c`, so the index says which prompt it answers.
 */
export function toTextCompletion(id: string, answers: readonly PromptAnswer[], choicesPerPrompt: number): Record<string, unknown> {
  const first = answers[0];
  if (!first) throw new Error('a text completion needs at least one answer');
  const choices: TextChoice[] = [];
  const total: Usage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };
  answers.forEach(({ response, usage }, prompt) => {
    for (const choice of response.choices) {
      choices.push({
        text: choice.message.content ?? '',
        index: prompt * choicesPerPrompt + choice.index,
        logprobs: null,
        finish_reason: toTextFinishReason(choice.finishReason),
      });
    }
    total.promptTokens += usage.promptTokens;
    total.completionTokens += usage.completionTokens;
    total.cachedTokens += usage.cachedTokens;
  });
  return {
    id,
    object: 'text_completion',
    created: first.response.created,
    model: first.response.model,
    choices,
    usage: toOpenAIUsage(total),
  };
}

/**
 * Canonical chunks as `text_completion` SSE frames, one per text delta, a closing frame per
 * choice with its finish reason, then (with `include_usage`) a frame with no choices and the
 * usage, then `data: [DONE]`: what OpenAI streams for this endpoint.
 */
export class TextCompletionEncoder extends OpenAIFrameEncoder {
  constructor(id: string, created: number, model: string, includeUsage: boolean) {
    super(id, 'text_completion', created, model, includeUsage);
  }

  private frame(choice: number, text: string, finish: TextFinishReason | null): string {
    return `${this.prefix}"choices":[{"text":${JSON.stringify(text)},"index":${choice},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]}\n\n`;
  }

  encode(chunk: ChatChunk): string {
    switch (chunk.type) {
      case 'text-delta':
        return this.frame(chunk.choice, chunk.text, null);
      case 'finish':
        return this.frame(chunk.choice, '', toTextFinishReason(chunk.finishReason));
      // No tools are sent, and usage and the upstream's ids have their own places.
      case 'tool-call-delta':
      case 'usage':
      case 'meta':
        return '';
      default:
        return assertNever(chunk);
    }
  }
}

/** `POST /v1/completions` with one prompt: `includeUsage` from `stream_options.include_usage`. */
export function textCompletionFormat(includeUsage: boolean): ChatFormat {
  return {
    renderResponse: (call, response, usage) => toTextCompletion(`cmpl-${call.id}`, [{ response, usage }], 1),
    streamEncoder: (call, upstreamModel) => new TextCompletionEncoder(`cmpl-${call.id}`, Math.floor(call.startedAt / 1000), upstreamModel, includeUsage),
  };
}
