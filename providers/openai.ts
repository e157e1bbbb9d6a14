/**
 * OpenAI and every OpenAI-compatible server (Mistral, Groq, Together, vLLM, Ollama…), spoken
 * directly over undici by the shared wire client: `POST {base}/chat/completions` (JSON or SSE)
 * and `POST {base}/embeddings`. The canonical request already is the OpenAI shape, so the
 * request mapping only pins the model and asks for stream usage. The `openai` SDK is never
 * loaded here: its published types describe the wire (`import type`).
 */
import type OpenAI from 'openai';
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
import { protocolError } from '../src/core/upstream-error.js';
import { anthropicOnlyFields, withoutAnthropicOnlyFields } from './shared/anthropic-only.js';
import { warningsFor } from './shared/warnings.js';
import { createWireClient, wireOptionsOf } from './shared/wire-client.js';
import { fromHttpFacts, settleAdapterError } from './upstream-errors.js';
import type { CallSignal } from '../src/core/call-signal.js';

// ---- wire types (the parts we read) ----
interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
}

type WireChatBody = Record<string, unknown> & { model: string; messages: unknown[] };

/** A stream frame: a chunk, or the `{"error":…}` a provider sends when it fails after the 200. */
type WireStreamFrame = OpenAI.Chat.Completions.ChatCompletionChunk & { error?: unknown };

/** An embeddings answer as asked for here: base64 (little-endian float32) vectors, or floats from servers that ignore the format. */
interface WireEmbeddings {
  model: string;
  data: Array<{ index: number; embedding: string | number[] }>;
  usage?: { prompt_tokens: number } | null;
}

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/**
 * Sent as the key when none is configured, as the `openai` SDK path did: OpenAI-compatible servers
 * that take no key ignore it, and clients of this gateway have always seen it upstream.
 */
const NO_KEY = 'no-key';

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

/** One `data:` payload of a stream, parsed once; an in-stream error is the provider failing mid-answer. */
function parseStreamFrame(provider: string, data: string): WireStreamFrame {
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch (err) {
    throw protocolError(provider, `${provider} sent a stream event the gateway could not read`, err, data.slice(0, 2000));
  }
  if (frame === null || typeof frame !== 'object') {
    throw protocolError(provider, `${provider} sent a stream event that is not a chat.completion.chunk`, undefined, data.slice(0, 2000));
  }
  const error = (frame as { error?: unknown }).error;
  // Status 502, as the SDK path reported it: the provider failed after its 200.
  if (error) throw fromHttpFacts(provider, { status: 502, body: error }, undefined);
  return frame as WireStreamFrame;
}

// ---- embeddings ----
/** A base64 vector of little-endian float32 values, as `encoding_format: "base64"` answers (the SDK's decoding). */
function decodeFloat32LE(provider: string, base64: string): number[] {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length % 4 !== 0) throw protocolError(provider, `${provider} sent an embedding that is not float32`, undefined, base64.slice(0, 200));
  const vector = new Array<number>(bytes.length / 4);
  for (let i = 0; i < vector.length; i++) vector[i] = bytes.readFloatLE(i * 4);
  return vector;
}

function vectorOf(provider: string, embedding: unknown): number[] {
  if (typeof embedding === 'string') return decodeFloat32LE(provider, embedding);
  if (Array.isArray(embedding)) return embedding as number[];
  throw protocolError(provider, `${provider} sent an embedding the gateway could not read`, undefined, embedding);
}

// ---- adapter ----
const openAIWarnings = warningsFor(anthropicOnlyFields('openai'));

export function createOpenAIAdapter(name: string, config: ProviderConfigOf<'openai' | 'openai-compatible'>, kind: ProviderKind = 'openai'): ProviderAdapter {
  const wire = createWireClient(wireOptionsOf(name, config));
  const base = (config.base_url || OPENAI_BASE_URL).replace(/\/+$/, '');
  const chatUrl = `${base}/chat/completions`;
  const embeddingsUrl = `${base}/embeddings`;
  // Built once per adapter; names lowercased so a configured `Authorization` replaces the key's, never doubles it.
  const headers: Record<string, string> = { authorization: `Bearer ${config.api_key || NO_KEY}` };
  for (const key in config.headers) headers[key.toLowerCase()] = config.headers[key]!;
  headers['content-type'] = 'application/json';
  // OpenAI refuses fields it does not know; a compatible server may understand them (see anthropic-only.ts).
  const isOpenAI = kind === 'openai';
  const forWire = (req: ChatRequest): ChatRequest => (isOpenAI ? withoutAnthropicOnlyFields(req) : req);

  return {
    kind,
    name,
    close: () => wire.close(),
    ...(isOpenAI ? { warnings: openAIWarnings } : {}),
    async chat(req, signal) {
      try {
        const res = await wire.postJson({ url: chatUrl, headers, body: JSON.stringify(toOpenAIRequest(forWire(req), false)), signal });
        return fromOpenAIResponse(res as OpenAI.Chat.Completions.ChatCompletion, name);
      } catch (err) {
        throw settleAdapterError(name, err, signal);
      }
    },
    async *stream(req, signal) {
      let sawMeta = false;
      let done = false;
      try {
        for await (const events of wire.postSse({ url: chatUrl, headers, body: JSON.stringify(toOpenAIRequest(forWire(req), true)), signal })) {
          const out: ChatChunk[] = [];
          try {
            for (let i = 0; i < events.length; i++) {
              const data = events[i]!.data;
              // After [DONE] the rest of the body is read and ignored (as the SDK did), so the connection goes back to the pool.
              if (done || data.length === 0) continue;
              if (data === '[DONE]') {
                done = true;
                continue;
              }
              const chunk = parseStreamFrame(name, data);
              if (!sawMeta && chunk.id) {
                sawMeta = true;
                out.push({ type: 'meta', id: chunk.id, model: chunk.model });
              }
              mapOpenAIChunk(chunk, out);
            }
          } catch (err) {
            // What came before the bad frame reaches the client first, as it would have unbatched.
            if (out.length > 0) yield out;
            throw err;
          }
          if (out.length > 0) yield out;
        }
      } catch (err) {
        throw settleAdapterError(name, err, signal);
      }
    },
    async embed(req: EmbeddingRequest, signal: CallSignal): Promise<EmbeddingResponse> {
      try {
        // base64 as the SDK asked for it (fewer bytes than decimal floats), decoded to the same float32 values.
        const body = JSON.stringify({ model: req.model, input: req.input, dimensions: req.dimensions, user: req.user, encoding_format: 'base64' });
        const res = (await wire.postJson({ url: embeddingsUrl, headers, body, signal })) as WireEmbeddings | null;
        if (!Array.isArray(res?.data)) throw protocolError(name, `${name} answered 200 without embeddings`, undefined, res);
        return {
          model: res.model,
          embeddings: res.data.slice().sort((a, b) => a.index - b.index).map((d) => vectorOf(name, d.embedding)),
          usage: res.usage ? { promptTokens: res.usage.prompt_tokens } : undefined,
        };
      } catch (err) {
        throw settleAdapterError(name, err, signal);
      }
    },
  };
}
