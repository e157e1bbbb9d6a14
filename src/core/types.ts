/**
 * Canonical request, response and stream types. The canonical request is the OpenAI
 * chat-completions shape; adapters map it to their provider and map answers back.
 */

export type ProviderKind = 'openai' | 'openai-compatible' | 'anthropic' | 'gemini' | 'mock';

/**
 * An Anthropic prompt-cache breakpoint on a block, tool or system text. Carried so Anthropic
 * upstreams keep prompt caching; other adapters leave it out (OpenAI and Gemini cache by prefix
 * on their own). https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching
 */
export interface CacheControl {
  type: 'ephemeral';
  /** `5m` (default) or `1h`. */
  ttl?: '5m' | '1h';
}

export interface TextPart {
  type: 'text';
  text: string;
  cache_control?: CacheControl;
}

export interface ImagePart {
  type: 'image_url';
  /** `url` is an http(s) URL or a `data:<mime>;base64,<data>` URL. */
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
  cache_control?: CacheControl;
}

export type ContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system' | 'developer'; content: string | TextPart[]; name?: string }
  | { role: 'user'; content: string | ContentPart[]; name?: string }
  | { role: 'assistant'; content?: string | TextPart[] | null; tool_calls?: ToolCall[]; name?: string }
  /** `is_error`: the tool failed (Anthropic's `tool_result.is_error`); providers without the flag see only the content. */
  | { role: 'tool'; content: string | TextPart[]; tool_call_id: string; is_error?: boolean };

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
  cache_control?: CacheControl;
}

/**
 * Anthropic's extended thinking: `budget_tokens` (at least 1024, below `max_tokens`) caps the
 * reasoning tokens. Sent to Anthropic upstreams; others drop it with a warning.
 */
export type ThinkingConfig = { type: 'enabled'; budget_tokens: number } | { type: 'disabled' };

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean };
    };

/** A chat request in OpenAI shape; `model` is the upstream model id once the pipeline resolved it. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
  stop?: string | string[];
  temperature?: number;
  top_p?: number;
  /** Sample from the k likeliest tokens (Anthropic, Gemini). */
  top_k?: number;
  thinking?: ThinkingConfig;
  max_tokens?: number;
  max_completion_tokens?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  seed?: number;
  user?: string;
  n?: number;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** Token counts of one call. */
export interface Usage {
  /** Input tokens, cached ones included. */
  promptTokens: number;
  completionTokens: number;
  /** Input tokens served from the provider's prompt cache (a subset of promptTokens). */
  cachedTokens: number;
  /** Input tokens written to the provider's prompt cache (a subset of promptTokens); only Anthropic reports them. */
  cacheWriteTokens?: number;
}

export interface ChatChoice {
  index: number;
  message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] };
  finishReason: FinishReason;
  /** The stop sequence that ended the answer, where the provider says which (Anthropic). */
  stopSequence?: string;
}

export interface ChatResponse {
  id: string;
  /** Unix seconds. */
  created: number;
  /** The model the provider says answered. */
  model: string;
  choices: ChatChoice[];
  /** Undefined when the provider reported none. */
  usage?: Usage;
}

/** One piece of a streamed answer. Every switch on `type` ends in an exhaustive check. */
export type ChatChunk =
  | { type: 'text-delta'; choice: number; text: string }
  | {
      type: 'tool-call-delta';
      choice: number;
      /** Position of the call within the message's tool_calls. */
      toolIndex: number;
      /** Present on the first delta of a call. */
      id?: string;
      name?: string;
      argumentsDelta: string;
    }
  | { type: 'finish'; choice: number; finishReason: FinishReason; stopSequence?: string }
  | { type: 'usage'; usage: Usage }
  /** The upstream's response id / model, when it tells them; may come at any point. */
  | { type: 'meta'; id?: string; model?: string };

export interface EmbeddingRequest {
  model: string;
  input: string | string[];
  dimensions?: number;
  user?: string;
}

export interface EmbeddingResponse {
  model: string;
  /** One float vector per input, in input order. */
  embeddings: number[][];
  usage?: { promptTokens: number };
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
