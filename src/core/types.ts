/**
 * Canonical request, response and stream types. The canonical request is the OpenAI
 * chat-completions shape; adapters map it to their provider and map answers back.
 */

export type ProviderKind = 'openai' | 'openai-compatible' | 'anthropic' | 'gemini' | 'mock';

export interface TextPart {
  type: 'text';
  text: string;
}

export interface ImagePart {
  type: 'image_url';
  /** `url` is an http(s) URL or a `data:<mime>;base64,<data>` URL. */
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
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
  | { role: 'tool'; content: string | TextPart[]; tool_call_id: string };

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

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
}

export interface ChatChoice {
  index: number;
  message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] };
  finishReason: FinishReason;
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
  | { type: 'finish'; choice: number; finishReason: FinishReason }
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
