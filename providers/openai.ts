/**
 * OpenAI and every OpenAI-compatible server (Mistral, Groq, Together, vLLM, Ollama…) through
 * the official `openai` SDK with a configurable base URL. The canonical request already is
 * the OpenAI shape, so the request mapping only pins the model and asks for stream usage.
 */
import OpenAI from 'openai';
import type { ProviderAdapter } from '../src/core/adapter.js';
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingRequest,
  EmbeddingResponse,
  FinishReason,
  ProviderKind,
  ToolCall,
  Usage,
} from '../src/core/types.js';
import type { ProviderConfigOf } from '../src/config/types.js';
import { createUndiciFetch, refusalOf } from './http-transport.js';
import { protocolError } from '../src/core/upstream-error.js';
import { fromHttpFacts, settleAdapterError } from './upstream-errors.js';

// ---- wire types (the parts we read) ----
interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
}

type WireChatBody = Record<string, unknown> & { model: string; messages: unknown[] };

// ---- request ----
/** Copies the canonical request; a stream always asks for usage so the ledger gets real numbers. */
export function toOpenAIRequest(req: ChatRequest, stream: boolean): WireChatBody {
  const body: WireChatBody = { ...req, model: req.model, messages: req.messages };
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  } else {
    delete body.stream;
    delete body.stream_options;
  }
  return body;
}

// ---- response ----
export function fromOpenAIUsage(usage: WireUsage | null | undefined): Usage | undefined {
  if (!usage) return undefined;
  return {
    promptTokens: usage.prompt_tokens ?? 0,
    completionTokens: usage.completion_tokens ?? 0,
    cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
  };
}

export function mapOpenAIFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}

export function fromOpenAIResponse(res: OpenAI.Chat.Completions.ChatCompletion, provider = 'openai'): ChatResponse {
  // A 200 that is not a completion (an error body, a proxy's page) is the upstream's failure.
  if (res === null || typeof res !== 'object' || !Array.isArray(res.choices)) {
    throw protocolError(provider, `${provider} answered 200 without a chat completion`, undefined, res);
  }
  return {
    id: res.id,
    created: res.created,
    model: res.model,
    choices: res.choices.map((choice) => {
      const toolCalls: ToolCall[] | undefined = choice.message.tool_calls
        ?.filter((call) => call.type === 'function')
        .map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.function.name, arguments: call.function.arguments },
        }));
      return {
        index: choice.index,
        message: {
          role: 'assistant',
          content: choice.message.content ?? null,
          ...(toolCalls && toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finishReason: mapOpenAIFinishReason(choice.finish_reason),
      };
    }),
    usage: fromOpenAIUsage(res.usage),
  };
}

/** Maps one `chat.completion.chunk` to canonical chunks, pushing into `out` to avoid per-chunk arrays. */
export function mapOpenAIChunk(chunk: OpenAI.Chat.Completions.ChatCompletionChunk, out: ChatChunk[]): void {
  for (const choice of chunk.choices ?? []) {
    const delta = choice.delta;
    if (delta?.content) out.push({ type: 'text-delta', choice: choice.index, text: delta.content });
    if (delta?.tool_calls) {
      for (const call of delta.tool_calls) {
        out.push({
          type: 'tool-call-delta',
          choice: choice.index,
          toolIndex: call.index,
          id: call.id ?? undefined,
          name: call.function?.name ?? undefined,
          argumentsDelta: call.function?.arguments ?? '',
        });
      }
    }
    if (choice.finish_reason) {
      out.push({ type: 'finish', choice: choice.index, finishReason: mapOpenAIFinishReason(choice.finish_reason) });
    }
  }
  const usage = fromOpenAIUsage(chunk.usage);
  if (usage) out.push({ type: 'usage', usage });
}

// ---- errors ----
function toGatewayError(provider: string, err: unknown, signal: AbortSignal): unknown {
  // The transport refused to send it (its pool is full): the SDK wrapped that as a connection error.
  const refusal = signal.aborted ? undefined : refusalOf(err);
  if (refusal) return refusal;
  if (!signal.aborted && err instanceof OpenAI.APIError) {
    if (typeof err.status === 'number') {
      return fromHttpFacts(provider, { status: err.status, body: err.error, retryAfter: err.headers?.get('retry-after') }, err);
    }
    // A `data: {"error":…}` frame after the 200: the provider failed mid-answer (connection errors carry no body).
    if (err.error && typeof err.error === 'object') return fromHttpFacts(provider, { status: 502, body: err.error }, err);
  }
  return settleAdapterError(provider, err, signal);
}

// ---- adapter ----
export function createOpenAIAdapter(name: string, config: ProviderConfigOf<'openai' | 'openai-compatible'>, kind: ProviderKind = 'openai'): ProviderAdapter {
  const transport = createUndiciFetch({ connections: config.connections, provider: name });
  const client = new OpenAI({
    fetch: transport.fetch,
    // OpenAI-compatible servers often need no key; the SDK insists on one.
    apiKey: config.api_key || 'no-key',
    baseURL: config.base_url || undefined,
    defaultHeaders: config.headers,
    maxRetries: 0, // the gateway's balancer owns retries
    timeout: 10 * 60 * 1000, // per-attempt timeouts come from the gateway's abort signal
  });

  return {
    kind,
    name,
    close: transport.close,
    async chat(req, signal) {
      try {
        const res = await client.chat.completions.create(
          toOpenAIRequest(req, false) as unknown as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming,
          { signal },
        );
        return fromOpenAIResponse(res, name);
      } catch (err) {
        throw toGatewayError(name, err, signal);
      }
    },
    async *stream(req, signal) {
      let stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>;
      try {
        stream = await client.chat.completions.create(
          toOpenAIRequest(req, true) as unknown as OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming,
          { signal },
        );
      } catch (err) {
        throw toGatewayError(name, err, signal);
      }
      const out: ChatChunk[] = [];
      let sawMeta = false;
      try {
        for await (const chunk of stream) {
          if (!sawMeta && chunk.id) {
            sawMeta = true;
            yield { type: 'meta', id: chunk.id, model: chunk.model };
          }
          mapOpenAIChunk(chunk, out);
          for (const item of out) yield item;
          out.length = 0;
        }
        // The SDK ends a stream quietly when its signal aborts; a timeout or a departed client
        // must not look like a clean finish (which would send [DONE]).
        if (signal.aborted) throw signal.reason;
      } catch (err) {
        throw toGatewayError(name, err, signal);
      }
    },
    async embed(req: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResponse> {
      try {
        // Without encoding_format the SDK asks for base64 and decodes it to floats for us.
        const res = await client.embeddings.create(
          { model: req.model, input: req.input, dimensions: req.dimensions, user: req.user },
          { signal },
        );
        if (!Array.isArray(res?.data)) throw protocolError(name, `${name} answered 200 without embeddings`, undefined, res);
        return {
          model: res.model,
          embeddings: res.data.slice().sort((a, b) => a.index - b.index).map((d) => d.embedding),
          usage: res.usage ? { promptTokens: res.usage.prompt_tokens } : undefined,
        };
      } catch (err) {
        throw toGatewayError(name, err, signal);
      }
    },
  };
}
