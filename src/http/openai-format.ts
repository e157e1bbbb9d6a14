/** Canonical answers written back in OpenAI's chat-completions wire shape. */
import { assertNever, type ChatChunk, type ChatResponse, type FinishReason, type Usage } from '../core/types.js';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export function toOpenAIUsage(usage: Usage): OpenAIUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens },
  };
}

export function toOpenAICompletion(res: ChatResponse, id: string, usage: Usage): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion',
    created: res.created,
    model: res.model,
    choices: res.choices.map((choice) => ({
      index: choice.index,
      message: {
        role: 'assistant',
        content: choice.message.content,
        refusal: null,
        ...(choice.message.tool_calls ? { tool_calls: choice.message.tool_calls } : {}),
      },
      logprobs: null,
      finish_reason: choice.finishReason,
    })),
    usage: toOpenAIUsage(usage),
  };
}

/**
 * Turns canonical chunks into `chat.completion.chunk` SSE frames. The frame prefix (id,
 * created, model) is serialized once per stream; each chunk only adds its choice. What the
 * ledger needs (usage, the text produced) is the call stream's to tap, not the renderer's.
 */
export class ChunkEncoder {
  private prefix: string;
  private readonly rolesSent = new Set<number>();

  constructor(
    private id: string,
    private readonly created: number,
    private model: string,
  ) {
    this.prefix = this.makePrefix();
  }

  private makePrefix(): string {
    return `data: {"id":${JSON.stringify(this.id)},"object":"chat.completion.chunk","created":${this.created},"model":${JSON.stringify(this.model)},`;
  }

  /** Adopts the upstream's model name once known, before the first frame is written. */
  setModel(model: string): void {
    if (model && model !== this.model) {
      this.model = model;
      this.prefix = this.makePrefix();
    }
  }

  get upstreamModel(): string {
    return this.model;
  }

  private frame(choice: number, delta: Record<string, unknown>, finish: FinishReason | null): string {
    if (!this.rolesSent.has(choice)) {
      this.rolesSent.add(choice);
      delta = { role: 'assistant', ...delta };
    }
    return `${this.prefix}"choices":[{"index":${choice},"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]}\n\n`;
  }

  /** The SSE frame for one chunk, or '' for chunks that have none. */
  encode(chunk: ChatChunk): string {
    switch (chunk.type) {
      case 'text-delta':
        // The commonest frame by far: built as a string, without a delta object to stringify.
        if (this.rolesSent.has(chunk.choice)) {
          return `${this.prefix}"choices":[{"index":${chunk.choice},"delta":{"content":${JSON.stringify(chunk.text)}},"logprobs":null,"finish_reason":null}]}\n\n`;
        }
        return this.frame(chunk.choice, { content: chunk.text }, null);
      case 'tool-call-delta': {
        const call: Record<string, unknown> = { index: chunk.toolIndex };
        if (chunk.id) {
          call.id = chunk.id;
          call.type = 'function';
        }
        const fn: Record<string, string> = { arguments: chunk.argumentsDelta };
        if (chunk.name) fn.name = chunk.name;
        call.function = fn;
        return this.frame(chunk.choice, { tool_calls: [call] }, null);
      }
      case 'finish':
        return this.frame(chunk.choice, {}, chunk.finishReason);
      case 'usage':
        return '';
      case 'meta':
        return '';
      default:
        return assertNever(chunk);
    }
  }

  /** The closing usage frame OpenAI sends with `stream_options.include_usage`: no choices. */
  usageFrame(usage: Usage): string {
    return `${this.prefix}"choices":[],"usage":${JSON.stringify(toOpenAIUsage(usage))}}\n\n`;
  }
}

export const DONE_FRAME = 'data: [DONE]\n\n';
