/**
 * Anthropic's Messages API through `@anthropic-ai/sdk` 1.x, which speaks API version
 * 2026-10-21. The canonical (OpenAI-shaped) request becomes a Messages request: `system`
 * at the top level, strict user/assistant turns, tool results as `tool_result` blocks.
 * https://docs.anthropic.com/en/api/messages
 */
import Anthropic from '@anthropic-ai/sdk';
import type { ProviderAdapter } from '../src/core/adapter.js';
import { GatewayError } from '../src/core/errors.js';
import { protocolError, type UpstreamError } from '../src/core/upstream-error.js';
import type {
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  ContentPart,
  FinishReason,
  ResponseFormat,
  TextPart,
  ToolCall,
  Usage,
} from '../src/core/types.js';
import { assertNever } from '../src/core/types.js';
import type { ProviderConfig } from '../src/config/types.js';
import { createUndiciFetch } from './http-transport.js';
import { fromHttpFacts, settleAdapterError } from './upstream-errors.js';

// ---- wire types (the parts we write and read) ----
type ImageMediaType = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';

export type AnthropicBlock =
  | { type: 'text'; text: string }
  | {
      type: 'image';
      source: { type: 'base64'; media_type: ImageMediaType; data: string } | { type: 'url'; url: string };
    }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: string };

export interface AnthropicTurn {
  role: 'user' | 'assistant';
  content: string | AnthropicBlock[];
}

export type AnthropicToolChoice =
  | { type: 'auto' | 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicTurn[];
  system?: string;
  stop_sequences?: string[];
  metadata?: { user_id: string };
  tools?: Array<{ name: string; description?: string; input_schema: Record<string, unknown> }>;
  tool_choice?: AnthropicToolChoice;
}

export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

/** A response content block; kinds we do not map (thinking, server tools) are skipped. */
export type AnthropicResponseBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: string };

export interface AnthropicMessage {
  id: string;
  model: string;
  content: AnthropicResponseBlock[];
  stop_reason: string | null;
  usage: AnthropicUsage;
}

export type AnthropicStreamEvent =
  | { type: 'message_start'; message: AnthropicMessage }
  | { type: 'content_block_start'; index: number; content_block: AnthropicResponseBlock }
  | {
      type: 'content_block_delta';
      index: number;
      delta: { type: 'text_delta'; text: string } | { type: 'input_json_delta'; partial_json: string } | { type: string };
    }
  | { type: 'content_block_stop'; index: number }
  | { type: 'message_delta'; delta: { stop_reason: string | null }; usage?: AnthropicUsage | null }
  | { type: 'message_stop' }
  | { type: 'ping' }
  /** The SDK throws these itself; a raw fixture may still carry one. */
  | { type: 'error'; error: { type: string; message: string } };

// ---- request ----
/** Without a client value; the Messages API insists on `max_tokens`. */
export const DEFAULT_MAX_TOKENS = 4096;

/** Anthropic rejects empty conversations and an assistant first turn; LiteLLM's placeholder does too. */
const PLACEHOLDER_USER_TEXT = '.';

const IMAGE_MEDIA_TYPES: readonly string[] = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

function invalid(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

function textOf(content: string | TextPart[] | null | undefined): string {
  if (content == null) return '';
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

function toImageBlock(url: string): AnthropicBlock {
  if (!url.startsWith('data:')) return { type: 'image', source: { type: 'url', url } };
  const match = /^data:([^;,]+);base64,(.+)$/s.exec(url);
  if (!match || !IMAGE_MEDIA_TYPES.includes(match[1]!)) {
    throw invalid('image_url must be an http(s) URL or a base64 data: URL of a jpeg, png, gif or webp image', 'messages');
  }
  return { type: 'image', source: { type: 'base64', media_type: match[1] as ImageMediaType, data: match[2]! } };
}

function toUserBlocks(content: string | ContentPart[]): AnthropicBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content
    .filter((part) => part.type !== 'text' || part.text !== '')
    .map((part) => (part.type === 'text' ? { type: 'text', text: part.text } : toImageBlock(part.image_url.url)));
}

function toToolUseBlock(call: ToolCall): AnthropicBlock {
  let input: unknown;
  try {
    input = call.function.arguments.trim() === '' ? {} : JSON.parse(call.function.arguments);
  } catch {
    throw invalid(`tool call ${call.id} has arguments that are not JSON`, 'messages');
  }
  return { type: 'tool_use', id: call.id, name: call.function.name, input };
}

/**
 * One message as a turn of blocks; system and developer messages go to the top-level
 * `system` instead. Anthropic has no `name`; `tool` messages are `tool_result` blocks of a user turn.
 */
function toTurn(message: ChatMessage): { role: 'user' | 'assistant'; content: AnthropicBlock[] } | undefined {
  switch (message.role) {
    case 'system':
    case 'developer':
      return undefined;
    case 'user':
      return { role: 'user', content: toUserBlocks(message.content) };
    case 'assistant': {
      const text = textOf(message.content);
      // Empty text blocks are a 400 upstream; an assistant turn of only tool calls has none.
      const blocks: AnthropicBlock[] = text ? [{ type: 'text', text }] : [];
      for (const call of message.tool_calls ?? []) blocks.push(toToolUseBlock(call));
      return { role: 'assistant', content: blocks };
    }
    case 'tool':
      return { role: 'user', content: [{ type: 'tool_result', tool_use_id: message.tool_call_id, content: textOf(message.content) }] };
    default:
      return assertNever(message);
  }
}

/**
 * The Messages API wants strict user/assistant alternation starting with a user turn:
 * consecutive same-role turns are merged (so parallel tool results share one user turn).
 */
function toTurns(messages: ChatMessage[]): AnthropicTurn[] {
  const turns: Array<{ role: 'user' | 'assistant'; content: AnthropicBlock[] }> = [];
  for (const message of messages) {
    const turn = toTurn(message);
    if (!turn || turn.content.length === 0) continue;
    const last = turns.at(-1);
    if (last?.role === turn.role) last.content.push(...turn.content);
    else turns.push(turn);
  }
  if (turns[0]?.role !== 'user') turns.unshift({ role: 'user', content: [{ type: 'text', text: PLACEHOLDER_USER_TEXT }] });
  // A lone text block goes as a plain string: the same to the API, easier to read in logs.
  return turns.map((turn) => {
    const only = turn.content.length === 1 ? turn.content[0] : undefined;
    return only?.type === 'text' ? { role: turn.role, content: only.text } : turn;
  });
}

/**
 * Structured outputs (`output_config.format`) exist only on newer Claude models and take a
 * schema, never a bare "JSON object"; an instruction in `system` works on every model.
 */
function jsonInstruction(format: ResponseFormat | undefined): string | undefined {
  if (!format || format.type === 'text') return undefined;
  const base = 'Respond with one valid JSON value and nothing else: no prose, no Markdown code fences.';
  if (format.type === 'json_object') return base;
  const schema = format.json_schema.schema;
  return schema ? `${base} It must conform to this JSON Schema:\n${JSON.stringify(schema)}` : base;
}

function toToolChoice(req: ChatRequest): AnthropicToolChoice | undefined {
  const disable = req.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  const choice = req.tool_choice;
  if (choice === undefined) return req.parallel_tool_calls === false ? { type: 'auto', ...disable } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...disable };
  if (choice === 'required') return { type: 'any', ...disable };
  return { type: 'tool', name: choice.function.name, ...disable };
}

/**
 * Maps the canonical request to a Messages request. Left out on purpose: `temperature` and
 * `top_p`, which API version 2026-10-21 (the one this SDK sends) answers with a 400 even at
 * their defaults, so sending them would fail every call that has them; `presence_penalty`,
 * `frequency_penalty` and `seed`, which Anthropic has no equivalent for.
 * https://docs.anthropic.com/en/api/versioning
 */
export function toAnthropicRequest(req: ChatRequest): AnthropicRequest {
  if (req.n !== undefined && req.n > 1) throw invalid('n > 1 is not supported by Anthropic models', 'n');
  const systemParts = req.messages
    .filter((m): m is Extract<ChatMessage, { role: 'system' | 'developer' }> => m.role === 'system' || m.role === 'developer')
    .map((m) => textOf(m.content));
  const instruction = jsonInstruction(req.response_format);
  if (instruction) systemParts.push(instruction);

  const body: AnthropicRequest = {
    model: req.model,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages: toTurns(req.messages),
  };
  if (systemParts.length > 0) body.system = systemParts.join('\n\n');
  const stop = typeof req.stop === 'string' ? [req.stop] : req.stop;
  if (stop && stop.length > 0) body.stop_sequences = stop;
  if (req.user) body.metadata = { user_id: req.user };
  if (req.tools && req.tools.length > 0) {
    body.tools = req.tools.map((tool) => ({
      name: tool.function.name,
      ...(tool.function.description ? { description: tool.function.description } : {}),
      input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
    }));
    const choice = toToolChoice(req);
    if (choice) body.tool_choice = choice;
  }
  return body;
}

// ---- response ----
/** Anthropic counts cache reads and writes apart from `input_tokens`; OpenAI's prompt_tokens holds all three. */
export function fromAnthropicUsage(usage: AnthropicUsage): Usage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  return {
    promptTokens: (usage.input_tokens ?? 0) + cacheRead + (usage.cache_creation_input_tokens ?? 0),
    completionTokens: usage.output_tokens ?? 0,
    cachedTokens: cacheRead,
  };
}

function isTextBlock(block: AnthropicResponseBlock): block is { type: 'text'; text: string } {
  return block.type === 'text';
}

function isToolUseBlock(block: AnthropicResponseBlock): block is { type: 'tool_use'; id: string; name: string; input: unknown } {
  return block.type === 'tool_use';
}

/** `now` (ms) stands in for `created`, which the Messages API does not send. */
export function fromAnthropicResponse(res: AnthropicMessage, now = Date.now()): ChatResponse {
  // A 200 that is not a message (an error body, a proxy's page) is the upstream's failure.
  if (res === null || typeof res !== 'object' || !Array.isArray(res.content)) {
    throw protocolError('anthropic', 'Anthropic answered 200 without a message', undefined, res);
  }
  const text = res.content.filter(isTextBlock).map((block) => block.text).join('');
  const toolCalls: ToolCall[] = res.content.filter(isToolUseBlock).map((block) => ({
    id: block.id,
    type: 'function',
    function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
  }));
  return {
    id: res.id,
    created: Math.floor(now / 1000),
    model: res.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          // OpenAI answers null content beside tool calls, and a string otherwise.
          content: text || (toolCalls.length > 0 ? null : ''),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finishReason: mapAnthropicFinishReason(res.stop_reason),
      },
    ],
    usage: fromAnthropicUsage(res.usage),
  };
}

export function mapAnthropicFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn (the turn ended, resumable by the caller).
      return 'stop';
  }
}

// ---- stream ----
/** In-stream errors carry a type but no HTTP status; these are the statuses the API uses for them. */
const STATUS_OF_ERROR_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

function fromErrorEvent(provider: string, body: { error?: { type?: string } }, cause: unknown): UpstreamError {
  const status = STATUS_OF_ERROR_TYPE[body.error?.type ?? ''] ?? 500;
  return fromHttpFacts(provider, { status, body }, cause);
}

/**
 * Maps raw Messages stream events to canonical chunks. The `meta` chunk of message_start is
 * held back until the first content, so an `event: error` right after message_start (the
 * usual shape of `overloaded_error`) still fails before any chunk and can fail over.
 * A stream that ends without message_stop was cut: that is an error, never a clean finish.
 */
export async function* mapAnthropicStream(
  events: AsyncIterable<AnthropicStreamEvent> | Iterable<AnthropicStreamEvent>,
  provider = 'anthropic',
): AsyncGenerator<ChatChunk> {
  let meta: ChatChunk | undefined;
  let usage: AnthropicUsage = {};
  /** Anthropic content-block index → position among the message's tool calls. */
  const tools = new Map<number, { toolIndex: number; hasArguments: boolean }>();
  let stopped = false;

  function* flushMeta(): Generator<ChatChunk> {
    if (meta) yield meta;
    meta = undefined;
  }

  for await (const event of events) {
    switch (event.type) {
      case 'message_start':
        meta = { type: 'meta', id: event.message.id, model: event.message.model };
        usage = { ...event.message.usage };
        break;
      case 'content_block_start': {
        const block = event.content_block;
        if (isToolUseBlock(block)) {
          tools.set(event.index, { toolIndex: tools.size, hasArguments: false });
          yield* flushMeta();
          yield { type: 'tool-call-delta', choice: 0, toolIndex: tools.size - 1, id: block.id, name: block.name, argumentsDelta: '' };
        } else if (isTextBlock(block) && block.text) {
          yield* flushMeta();
          yield { type: 'text-delta', choice: 0, text: block.text };
        }
        break;
      }
      case 'content_block_delta': {
        const delta = event.delta;
        if (delta.type === 'text_delta' && 'text' in delta && delta.text) {
          yield* flushMeta();
          yield { type: 'text-delta', choice: 0, text: delta.text };
        } else if (delta.type === 'input_json_delta' && 'partial_json' in delta && delta.partial_json) {
          const tool = tools.get(event.index);
          if (!tool) break;
          tool.hasArguments = true;
          yield { type: 'tool-call-delta', choice: 0, toolIndex: tool.toolIndex, argumentsDelta: delta.partial_json };
        }
        break;
      }
      case 'content_block_stop': {
        // A call without arguments streams no JSON at all; OpenAI clients expect "{}".
        const tool = tools.get(event.index);
        if (tool && !tool.hasArguments) yield { type: 'tool-call-delta', choice: 0, toolIndex: tool.toolIndex, argumentsDelta: '{}' };
        break;
      }
      case 'message_delta':
        // message_delta usage is cumulative; fields it leaves null keep message_start's value.
        for (const [key, value] of Object.entries(event.usage ?? {})) {
          if (value != null) usage[key as keyof AnthropicUsage] = value as number;
        }
        yield* flushMeta();
        yield { type: 'finish', choice: 0, finishReason: mapAnthropicFinishReason(event.delta.stop_reason) };
        break;
      case 'message_stop':
        stopped = true;
        yield { type: 'usage', usage: fromAnthropicUsage(usage) };
        break;
      case 'error':
        throw fromErrorEvent(provider, event, event);
      default:
        // ping, and event kinds newer than this adapter.
        break;
    }
  }
  if (!stopped) throw protocolError(provider, `${provider} stream ended before message_stop`);
}

// ---- errors ----
function toGatewayError(provider: string, err: unknown, signal: AbortSignal): unknown {
  if (!signal.aborted && err instanceof Anthropic.APIError) {
    if (typeof err.status === 'number') {
      return fromHttpFacts(provider, { status: err.status, body: err.error, retryAfter: err.headers?.get('retry-after') }, err);
    }
    // An `event: error` frame after the 200; connection errors have no body and fall through.
    if (err.error && typeof err.error === 'object') return fromErrorEvent(provider, err.error, err);
  }
  return settleAdapterError(provider, err, signal);
}

// ---- adapter ----
export function createAnthropicAdapter(name: string, config: ProviderConfig): ProviderAdapter {
  const transport = createUndiciFetch();
  const client = new Anthropic({
    fetch: transport.fetch,
    apiKey: config.api_key ?? '',
    baseURL: config.base_url || undefined,
    defaultHeaders: config.headers,
    maxRetries: 0, // the gateway's balancer owns retries
    // Per-attempt timeouts come from the gateway's abort signal; a set timeout also stops the
    // SDK refusing large max_tokens without streaming.
    timeout: 10 * 60 * 1000,
  });
  type CreateBody = Anthropic.Messages.MessageCreateParamsNonStreaming;

  return {
    kind: 'anthropic',
    name,
    close: transport.close,
    async chat(req, signal) {
      try {
        const body = toAnthropicRequest(req) as unknown as CreateBody;
        const res = await client.messages.create(body, { signal });
        return fromAnthropicResponse(res as unknown as AnthropicMessage);
      } catch (err) {
        throw toGatewayError(name, err, signal);
      }
    },
    async *stream(req, signal) {
      try {
        const body = toAnthropicRequest(req) as unknown as CreateBody;
        const events = await client.messages.create({ ...body, stream: true }, { signal });
        yield* mapAnthropicStream(events as AsyncIterable<AnthropicStreamEvent>, name);
      } catch (err) {
        // The SDK ends its stream quietly on abort; settleAdapterError turns that into signal.reason.
        throw toGatewayError(name, err, signal);
      }
    },
  };
}
