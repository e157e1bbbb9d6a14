/** Canonical answers written back in OpenAI's chat-completions wire shape. */
import { toErrorBody, type GatewayError } from '../core/errors.js';
import { assertNever, type ChatChunk, type ChatResponse, type FinishReason, type Usage } from '../core/types.js';
import type { ChatFormat, ChatStreamEncoder } from './chat-format.js';

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
 * What OpenAI's streamed endpoints share: `data:` frames that all start with the stream's id,
 * object, created time and model (serialized once per stream, re-made if the upstream names
 * another model), a usage frame with no choices when the client asked for one, `[DONE]`, and a
 * single error event instead of `[DONE]` when the stream fails. Subclasses say how a chunk reads.
 */
export abstract class OpenAIFrameEncoder implements ChatStreamEncoder {
  protected prefix: string;

  /** @param includeUsage the client asked for `stream_options.include_usage`: a usage frame before `[DONE]`. */
  constructor(
    private readonly id: string,
    private readonly object: string,
    private readonly created: number,
    private model: string,
    private readonly includeUsage: boolean,
  ) {
    this.prefix = this.makePrefix();
  }

  private makePrefix(): string {
    return `data: {"id":${JSON.stringify(this.id)},"object":"${this.object}","created":${this.created},"model":${JSON.stringify(this.model)},`;
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

  abstract encode(chunk: ChatChunk): string;

  /** The closing usage frame OpenAI sends with `stream_options.include_usage`: no choices. */
  usageFrame(usage: Usage): string {
    return `${this.prefix}"choices":[],"usage":${JSON.stringify(toOpenAIUsage(usage))}}\n\n`;
  }

  end(usage: Usage): string {
    return this.includeUsage ? this.usageFrame(usage) + DONE_FRAME : DONE_FRAME;
  }

  /** One error event and no `[DONE]`, so clients raise instead of finishing. */
  fail(error: GatewayError): string {
    return `data: ${JSON.stringify(toErrorBody(error))}\n\n`;
  }
}

/**
 * Turns canonical chunks into `chat.completion.chunk` SSE frames; each chunk only adds its
 * choice to the stream's prefix. What the ledger needs (usage, the text produced) is the call
 * stream's to tap, not the renderer's.
 */
export class ChunkEncoder extends OpenAIFrameEncoder {
  private readonly rolesSent = new Set<number>();

  constructor(id: string, created: number, model: string, includeUsage = false) {
    super(id, 'chat.completion.chunk', created, model, includeUsage);
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
}

export const DONE_FRAME = 'data: [DONE]\n\n';

/** `/v1/chat/completions` (and the prompt APIs' streams): `includeUsage` from `stream_options.include_usage`. */
export function openAIChatFormat(includeUsage: boolean): ChatFormat {
  return {
    renderResponse: (call, response, usage) => toOpenAICompletion(response, `chatcmpl-${call.id}`, usage),
    streamEncoder: (call, upstreamModel) => new ChunkEncoder(`chatcmpl-${call.id}`, Math.floor(call.startedAt / 1000), upstreamModel, includeUsage),
  };
}
