/**
 * Google Gemini through `@google/generative-ai`. The SDK stays inside this file (a swap to
 * `@google/genai` should touch nothing else): the mapping functions speak the REST wire
 * format, and the adapter casts at the SDK boundary.
 * Wire reference: https://ai.google.dev/api/generate-content
 */
import { randomUUID } from 'node:crypto';
import {
  GoogleGenerativeAI,
  GoogleGenerativeAIError,
  GoogleGenerativeAIFetchError,
  type BatchEmbedContentsRequest,
  type EmbedContentRequest,
  type GenerateContentRequest,
} from '@google/generative-ai';
import type { ProviderAdapter } from '../src/core/adapter.js';
import { GatewayError } from '../src/core/errors.js';
import { protocolError } from '../src/core/upstream-error.js';
import type {
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  ContentPart,
  EmbeddingRequest,
  EmbeddingResponse,
  FinishReason,
  TextPart,
  ToolCall,
  ToolChoice,
  Usage,
} from '../src/core/types.js';
import type { ProviderConfig } from '../src/config/types.js';
import { fromHttpFacts, settleAdapterError } from './upstream-errors.js';

// ---- wire types (REST v1beta, the parts we send and read) ----
export interface GeminiPart {
  text?: string;
  /** Set on a thinking model's thought summaries, which are not answer text. */
  thought?: boolean;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType: string; fileUri: string };
  functionCall?: { name: string; args?: Record<string, unknown> };
  functionResponse?: { name: string; response: Record<string, unknown> };
}

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

/** The OpenAPI 3.0 subset Gemini accepts as a schema. */
export type GeminiSchema = Record<string, unknown>;

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: GeminiSchema;
}

export interface GeminiGenerationConfig {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  candidateCount?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  seed?: number;
  responseMimeType?: string;
  responseSchema?: GeminiSchema;
}

export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  tools?: Array<{ functionDeclarations: GeminiFunctionDeclaration[] }>;
  toolConfig?: { functionCallingConfig: { mode: 'NONE' | 'AUTO' | 'ANY'; allowedFunctionNames?: string[] } };
  generationConfig: GeminiGenerationConfig;
}

/** Token counts; `promptTokenCount` already includes `cachedContentTokenCount`. */
export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
  totalTokenCount?: number;
}

export interface GeminiCandidate {
  index?: number;
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: string;
  finishMessage?: string;
}

export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string; blockReasonMessage?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
}

/** Makes ids for tool calls (Gemini has none) and for answers without a `responseId`. */
export type IdSource = (prefix: string) => string;

const randomId: IdSource = (prefix) => `${prefix}${randomUUID().replace(/-/g, '').slice(0, 24)}`;

// ---- request ----
function invalid(message: string, param = 'messages'): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

function textOf(content: string | TextPart[] | null | undefined): string {
  if (content == null) return '';
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

/** Gemini wants a MIME type with every file; an image URL only tells it by its extension. */
export function guessMimeType(url: string): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // Not a URL we can parse: try the raw string.
  }
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (extension && MIME_BY_EXTENSION[extension]) || 'image/jpeg';
}

function toGeminiPart(part: ContentPart): GeminiPart {
  if (part.type === 'text') return { text: part.text };
  const url = part.image_url.url;
  if (url.startsWith('data:')) {
    const match = /^data:([^;,]+)(?:;[^;,]*)*;base64,(.*)$/s.exec(url);
    if (!match) throw invalid('image_url data URLs must be base64 encoded');
    return { inlineData: { mimeType: match[1]!, data: match[2]! } };
  }
  return { fileData: { mimeType: guessMimeType(url), fileUri: url } };
}

function parseArguments(call: ToolCall): Record<string, unknown> {
  try {
    const args: unknown = JSON.parse(call.function.arguments || '{}');
    if (args !== null && typeof args === 'object' && !Array.isArray(args)) return args as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw invalid(`tool call ${call.id}: arguments must be a JSON object`);
}

/** Gemini takes a tool result as a JSON object; any other text is wrapped as `{ content }`. */
function toFunctionResponse(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Plain text.
  }
  return { content: text };
}

/**
 * Gemini knows only `user` and `model` turns and rejects two turns of the same role in a row:
 * tool results become `functionResponse` parts of a user turn, merged with what follows.
 */
function toContents(messages: ChatMessage[]): GeminiContent[] {
  const contents: GeminiContent[] = [];
  const toolNames = new Map<string, string>();
  const append = (role: GeminiContent['role'], parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'developer':
        break; // systemInstruction
      case 'user':
        append('user', typeof message.content === 'string' ? [{ text: message.content }] : message.content.map(toGeminiPart));
        break;
      case 'assistant': {
        const parts: GeminiPart[] = [];
        const text = textOf(message.content);
        if (text) parts.push({ text });
        for (const call of message.tool_calls ?? []) {
          toolNames.set(call.id, call.function.name);
          parts.push({ functionCall: { name: call.function.name, args: parseArguments(call) } });
        }
        append('model', parts);
        break;
      }
      case 'tool': {
        // Gemini matches a result to its call by function name; OpenAI by id.
        const name = toolNames.get(message.tool_call_id);
        if (!name) throw invalid(`tool message: tool_call_id ${message.tool_call_id} matches no earlier assistant tool call`);
        append('user', [{ functionResponse: { name, response: toFunctionResponse(textOf(message.content)) } }]);
        break;
      }
      default:
        throw invalid(`unsupported role ${(message as { role: string }).role}`);
    }
  }
  return contents;
}

const STRING_FORMATS = new Set(['enum', 'date-time']);
const NUMBER_FORMATS = new Set(['float', 'double', 'int32', 'int64']);
const COPIED_SCHEMA_KEYS = ['title', 'description', 'nullable', 'enum', 'minItems', 'maxItems', 'minimum', 'maximum', 'propertyOrdering'];

function isEmptyObjectSchema(schema: Record<string, unknown>): boolean {
  const properties = schema.properties as Record<string, unknown> | undefined;
  return schema.type === 'object' && (!properties || Object.keys(properties).length === 0);
}

/**
 * JSON Schema → Gemini's OpenAPI subset. Gemini answers 400 to keys it does not know
 * (`additionalProperties`, `$schema`, `$ref`, `default`…), to type arrays, to most string
 * formats and to an object schema without properties, so those are rewritten or dropped.
 * A root object without properties returns undefined (send no parameters at all).
 */
export function toGeminiSchema(schema: unknown, isRoot = true): GeminiSchema | undefined {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const source = schema as Record<string, unknown>;
  if (isEmptyObjectSchema(source)) {
    if (isRoot) return undefined;
    return typeof source.description === 'string' ? { type: 'object', description: source.description } : { type: 'object' };
  }
  const out: GeminiSchema = {};
  for (const key of COPIED_SCHEMA_KEYS) if (source[key] !== undefined) out[key] = source[key];
  if (source.const !== undefined) out.enum = [source.const];
  if (Array.isArray(out.enum) && out.enum.includes(null)) {
    // JSON Schema spells "or null" inside enum too; Gemini only takes strings there.
    out.enum = out.enum.filter((value) => value !== null);
    out.nullable = true;
  }

  if (Array.isArray(source.type)) {
    const types = source.type.filter((t) => t !== 'null');
    if (types.length < source.type.length) out.nullable = true;
    if (types.length === 1) out.type = types[0];
    else if (types.length > 1) out.anyOf = types.map((type) => ({ type }));
  } else if (source.type !== undefined) {
    out.type = source.type;
  }

  const format = source.format;
  if (typeof format === 'string' && (out.type === 'string' ? STRING_FORMATS : NUMBER_FORMATS).has(format)) out.format = format;

  if (source.properties && typeof source.properties === 'object') {
    const properties: Record<string, GeminiSchema> = {};
    for (const [name, value] of Object.entries(source.properties as Record<string, unknown>)) {
      const converted = toGeminiSchema(value, false);
      if (converted) properties[name] = converted;
    }
    out.properties = properties;
    if (Array.isArray(source.required)) out.required = source.required;
  }
  if (source.items !== undefined) out.items = toGeminiSchema(source.items, false);

  const variants = (source.anyOf ?? source.oneOf) as unknown[] | undefined;
  if (Array.isArray(variants)) {
    const kept = variants.filter((v) => (v as { type?: unknown } | null)?.type !== 'null');
    if (kept.length < variants.length) out.nullable = true;
    const converted = kept.map((v) => toGeminiSchema(v, false)).filter((v): v is GeminiSchema => v !== undefined);
    if (converted.length === 1) Object.assign(out, converted[0]);
    else if (converted.length > 1) out.anyOf = converted;
  }
  return out;
}

function toToolConfig(choice: ToolChoice): NonNullable<GeminiRequest['toolConfig']> {
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
}

function toGenerationConfig(req: ChatRequest): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {};
  if (req.temperature !== undefined) config.temperature = req.temperature;
  if (req.top_p !== undefined) config.topP = req.top_p;
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  if (maxTokens !== undefined) config.maxOutputTokens = maxTokens;
  if (req.stop !== undefined) config.stopSequences = typeof req.stop === 'string' ? [req.stop] : req.stop;
  if (req.n !== undefined) config.candidateCount = req.n;
  if (req.presence_penalty !== undefined) config.presencePenalty = req.presence_penalty;
  if (req.frequency_penalty !== undefined) config.frequencyPenalty = req.frequency_penalty;
  if (req.seed !== undefined) config.seed = req.seed;
  const format = req.response_format;
  if (format?.type === 'json_object' || format?.type === 'json_schema') config.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    const schema = toGeminiSchema(format.json_schema.schema);
    if (schema) config.responseSchema = schema;
  }
  return config;
}

/** The canonical request as a Gemini `GenerateContentRequest`. `user` has no Gemini field and is dropped. */
export function toGeminiRequest(req: ChatRequest): GeminiRequest {
  const body: GeminiRequest = { contents: toContents(req.messages), generationConfig: toGenerationConfig(req) };
  const system = req.messages
    .filter((m): m is Extract<ChatMessage, { role: 'system' | 'developer' }> => m.role === 'system' || m.role === 'developer')
    .map((m) => ({ text: textOf(m.content) }));
  if (system.length > 0) body.systemInstruction = { parts: system };
  if (req.tools && req.tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: req.tools.map((tool) => {
          const declaration: GeminiFunctionDeclaration = { name: tool.function.name };
          if (tool.function.description) declaration.description = tool.function.description;
          const parameters = toGeminiSchema(tool.function.parameters);
          if (parameters) declaration.parameters = parameters;
          return declaration;
        }),
      },
    ];
    if (req.tool_choice !== undefined) body.toolConfig = toToolConfig(req.tool_choice);
  }
  return body;
}

// ---- response ----
export function fromGeminiUsage(usage: GeminiUsageMetadata | undefined): Usage | undefined {
  if (!usage) return undefined;
  return {
    promptTokens: usage.promptTokenCount ?? 0,
    // Thinking tokens are billed as output.
    completionTokens: (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0),
    cachedTokens: usage.cachedContentTokenCount ?? 0,
  };
}

/**
 * A prompt Gemini refused to answer has `promptFeedback.blockReason` and no candidates. We
 * answer 400 with code `content_filter` (as Azure OpenAI does for a filtered prompt): there is
 * no completion to give, the cause is the caller's input, and another try would be refused too.
 */
function blockedPromptError(res: GeminiResponse): GatewayError {
  const feedback = res.promptFeedback;
  const detail = feedback?.blockReasonMessage ? `: ${feedback.blockReasonMessage}` : '';
  return new GatewayError('upstream_bad_request', `The prompt was blocked by Gemini's content filter (${feedback?.blockReason}${detail})`, {
    param: 'messages',
    providerCode: 'content_filter',
  });
}

function isAnswerText(part: GeminiPart): part is GeminiPart & { text: string } {
  return typeof part.text === 'string' && part.thought !== true;
}

export interface FromGeminiOptions {
  newId?: IdSource;
  /** ms since the epoch. */
  now?: () => number;
}

export function fromGeminiResponse(res: GeminiResponse, requestedModel: string, options: FromGeminiOptions = {}): ChatResponse {
  const newId = options.newId ?? randomId;
  const candidates = res.candidates ?? [];
  if (candidates.length === 0) {
    if (res.promptFeedback?.blockReason) throw blockedPromptError(res);
    throw protocolError('gemini', 'Gemini answered without any candidate');
  }
  return {
    id: res.responseId ?? newId('chatcmpl-'),
    created: Math.floor((options.now ?? Date.now)() / 1000),
    model: res.modelVersion ?? requestedModel,
    choices: candidates.map((candidate, position) => {
      const parts = candidate.content?.parts ?? [];
      const texts = parts.filter(isAnswerText).map((part) => part.text);
      const toolCalls: ToolCall[] = parts.flatMap((part) =>
        part.functionCall
          ? [{ id: newId('call_'), type: 'function' as const, function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) } }]
          : [],
      );
      return {
        index: candidate.index ?? position,
        message: {
          role: 'assistant' as const,
          content: texts.length > 0 ? texts.join('') : null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finishReason: mapGeminiFinishReason(candidate.finishReason, toolCalls.length > 0),
      };
    }),
    usage: fromGeminiUsage(res.usageMetadata),
  };
}

/** Gemini says STOP after a function call too; a candidate that called a tool finished with `tool_calls`. */
export function mapGeminiFinishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason {
  switch (reason) {
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
      return 'content_filter';
    default:
      // STOP, OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL, unspecified, future values.
      return hasToolCalls ? 'tool_calls' : 'stop';
  }
}

// ---- stream ----
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
 */
export function createGeminiStreamMapper(newId: IdSource = randomId): GeminiStreamMapper {
  const toolCounts = new Map<number, number>();
  let finished = false;
  let usage: Usage | undefined;
  let sawMeta = false;
  return {
    get finished() {
      return finished;
    },
    get usage() {
      return usage;
    },
    push(res, out) {
      if (!sawMeta && (res.responseId || res.modelVersion)) {
        sawMeta = true;
        out.push({ type: 'meta', id: res.responseId, model: res.modelVersion });
      }
      const candidates = res.candidates ?? [];
      if (candidates.length === 0 && res.promptFeedback?.blockReason) throw blockedPromptError(res);
      candidates.forEach((candidate, position) => {
        const choice = candidate.index ?? position;
        for (const part of candidate.content?.parts ?? []) {
          if (isAnswerText(part) && part.text) out.push({ type: 'text-delta', choice, text: part.text });
          if (part.functionCall) {
            const toolIndex = toolCounts.get(choice) ?? 0;
            toolCounts.set(choice, toolIndex + 1);
            out.push({
              type: 'tool-call-delta',
              choice,
              toolIndex,
              id: newId('call_'),
              name: part.functionCall.name,
              argumentsDelta: JSON.stringify(part.functionCall.args ?? {}),
            });
          }
        }
        if (candidate.finishReason) {
          finished = true;
          out.push({ type: 'finish', choice, finishReason: mapGeminiFinishReason(candidate.finishReason, toolCounts.has(choice)) });
        }
      });
      usage = fromGeminiUsage(res.usageMetadata) ?? usage;
    },
  };
}

// ---- errors ----
interface ErrorDetail {
  '@type'?: string;
  reason?: string;
  retryDelay?: string;
}

/** The SDK folds the provider's message into its own, after the URL and `[status text]`, details appended. */
function providerMessage(err: GoogleGenerativeAIFetchError): string {
  let message = /\[\d{3}[^\]]*\] ?([\s\S]*)$/.exec(err.message)?.[1] ?? '';
  const details = err.errorDetails ? ` ${JSON.stringify(err.errorDetails)}` : '';
  if (details && message.endsWith(details)) message = message.slice(0, -details.length);
  return message;
}

/** Gemini puts no `retry-after` header on a 429; it sends a google.rpc.RetryInfo detail ("37s"). */
function retryDelaySeconds(details: ErrorDetail[] | undefined): string | undefined {
  const delay = details?.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay;
  const seconds = delay ? Number.parseFloat(delay) : Number.NaN;
  return Number.isFinite(seconds) ? String(Math.ceil(seconds)) : undefined;
}

function toGatewayError(provider: string, err: unknown, signal: AbortSignal): unknown {
  if (!signal.aborted && err instanceof GoogleGenerativeAIFetchError && typeof err.status === 'number') {
    const details = Array.isArray(err.errorDetails) ? (err.errorDetails as ErrorDetail[]) : undefined;
    // A bad key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID: the gateway's credentials, not the caller's request.
    const status = details?.some((d) => d.reason === 'API_KEY_INVALID') ? 401 : err.status;
    return fromHttpFacts(provider, { status, body: { error: { message: providerMessage(err) } }, retryAfter: retryDelaySeconds(details) }, err);
  }
  if (!signal.aborted && err instanceof GoogleGenerativeAIError) {
    // The SDK's own errors name the upstream URL and drop the network cause; keep only what happened.
    const message = err.message.replace('[GoogleGenerativeAI Error]: ', '').replace(/^Error fetching from \S+: /, '');
    return settleAdapterError(provider, new Error(message, { cause: err }), signal);
  }
  return settleAdapterError(provider, err, signal);
}

// ---- adapter ----
function toEmbedRequest(text: string, req: EmbeddingRequest): EmbedContentRequest {
  const request: Record<string, unknown> = { content: { role: 'user', parts: [{ text }] } };
  if (req.dimensions !== undefined) request.outputDimensionality = req.dimensions;
  return request as unknown as EmbedContentRequest;
}

export function createGeminiAdapter(name: string, config: ProviderConfig): ProviderAdapter {
  const client = new GoogleGenerativeAI(config.api_key ?? '');
  // The SDK appends `/v1beta/models/...` itself; a trailing slash would double it.
  const requestOptions = { baseUrl: config.base_url?.replace(/\/+$/, '') || undefined, customHeaders: config.headers };
  const modelFor = (model: string) => client.getGenerativeModel({ model }, requestOptions);

  return {
    kind: 'gemini',
    name,
    async chat(req, signal) {
      try {
        const body = toGeminiRequest(req) as unknown as GenerateContentRequest;
        const { response } = await modelFor(req.model).generateContent(body, { signal });
        return fromGeminiResponse(response as GeminiResponse, req.model);
      } catch (err) {
        throw toGatewayError(name, err, signal);
      }
    },
    async *stream(req, signal) {
      // The SDK tees the body and keeps reading one branch for its aggregate `response` even
      // when we stop iterating; our own controller lets an early return close the upstream.
      const upstream = new AbortController();
      const onAbort = (): void => upstream.abort(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      const mapper = createGeminiStreamMapper();
      const out: ChatChunk[] = [];
      let completed = false;
      try {
        const body = toGeminiRequest(req) as unknown as GenerateContentRequest;
        const result = await modelFor(req.model).generateContentStream(body, { signal: upstream.signal });
        // That aggregate rejects with every stream error; nobody else awaits it.
        result.response.catch(() => undefined);
        // Nothing is yielded before the first response is mapped, so a refused prompt or a
        // stream that dies at once still throws before the first chunk (retry stays possible).
        for await (const res of result.stream) {
          mapper.push(res as GeminiResponse, out);
          for (const chunk of out) yield chunk;
          out.length = 0;
        }
        // The SDK ends cleanly when the connection closes between two events: without a
        // finish reason the answer is cut, and the client must not see a clean finish.
        if (!mapper.finished) throw protocolError(name, `${name} ended the stream before the answer finished`);
        if (mapper.usage) yield { type: 'usage', usage: mapper.usage };
        completed = true;
      } catch (err) {
        throw toGatewayError(name, err, signal);
      } finally {
        signal.removeEventListener('abort', onAbort);
        if (!completed) upstream.abort();
      }
    },
    async embed(req, signal): Promise<EmbeddingResponse> {
      try {
        const model = modelFor(req.model);
        if (typeof req.input === 'string') {
          const res = await model.embedContent(toEmbedRequest(req.input, req), { signal });
          return { model: req.model, embeddings: [res.embedding.values] };
        }
        const batch: BatchEmbedContentsRequest = { requests: req.input.map((text) => toEmbedRequest(text, req)) };
        const res = await model.batchEmbedContents(batch, { signal });
        // Gemini reports no token counts for embeddings; the gateway estimates them.
        return { model: req.model, embeddings: res.embeddings.map((e) => e.values) };
      } catch (err) {
        throw toGatewayError(name, err, signal);
      }
    },
  };
}
