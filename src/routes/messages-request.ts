/**
 * An Anthropic Messages body as the canonical (OpenAI-shaped) chat request: `system` becomes a
 * system message, a user turn's `tool_result` blocks become `tool` messages ahead of its other
 * content, an assistant's `tool_use` blocks become its `tool_calls`. Cache breakpoints, `thinking`
 * and `top_k` ride on the canonical fields that carry them to Anthropic; the other adapters leave
 * them out (and warn where that changes the answer).
 */
import { GatewayError } from '../core/errors.js';
import type { ChatMessage, ChatRequest, ContentPart, TextPart, ToolCall, ToolChoice, ToolDefinition } from '../core/types.js';
import type { CountTokensBody, MessagesBlock, MessagesBody, MessagesBodyMessage, MessagesTool } from './messages-schema.js';

type TextBlock = Extract<MessagesBlock, { type: 'text' }>;
type ImageBlock = Extract<MessagesBlock, { type: 'image' }>;
type ToolResultBlock = Extract<MessagesBlock, { type: 'tool_result' }>;

function invalid(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

function toTextPart(block: TextBlock): TextPart {
  return block.cache_control ? { type: 'text', text: block.text, cache_control: block.cache_control } : { type: 'text', text: block.text };
}

/** Images travel as the canonical image URL: a data: URL for base64 data, which adapters decode again. */
function toImagePart(block: ImageBlock): ContentPart {
  const url = block.source.type === 'base64' ? `data:${block.source.media_type};base64,${block.source.data}` : block.source.url;
  return block.cache_control ? { type: 'image_url', image_url: { url }, cache_control: block.cache_control } : { type: 'image_url', image_url: { url } };
}

/**
 * A tool result as a `tool` message, and its images apart: canonical tool messages hold text
 * only, so images go into the user message that follows the results. A breakpoint on the result
 * block moves to its last text, which ends the same prompt prefix.
 */
function toToolMessage(block: ToolResultBlock, images: ContentPart[]): ChatMessage {
  const parts: TextPart[] = [];
  if (typeof block.content === 'string') {
    if (block.content !== '') parts.push({ type: 'text', text: block.content });
  } else {
    for (const part of block.content ?? []) {
      if (part.type === 'text') parts.push(toTextPart(part));
      else images.push(toImagePart(part));
    }
  }
  const last = parts.at(-1);
  if (block.cache_control && last && !last.cache_control) last.cache_control = block.cache_control;
  const content = parts.length === 1 && !parts[0]!.cache_control ? parts[0]!.text : parts;
  return { role: 'tool', tool_call_id: block.tool_use_id, content, ...(block.is_error ? { is_error: true } : {}) };
}

function userMessages(content: MessagesBlock[], at: string, out: ChatMessage[]): void {
  const parts: ContentPart[] = [];
  const images: ContentPart[] = [];
  content.forEach((block, i) => {
    switch (block.type) {
      case 'text':
        parts.push(toTextPart(block));
        return;
      case 'image':
        parts.push(toImagePart(block));
        return;
      case 'tool_result':
        // Results answer the previous assistant turn's calls: they come first, as chat completions needs them.
        out.push(toToolMessage(block, images));
        return;
      default:
        throw invalid(`'${at}.content[${i}]': a ${block.type} block belongs to an assistant turn`, `${at}.content[${i}].type`);
    }
  });
  const all = images.length > 0 ? [...images, ...parts] : parts;
  if (all.length > 0) out.push({ role: 'user', content: all });
}

function assistantMessage(content: MessagesBlock[], at: string): ChatMessage {
  const parts: TextPart[] = [];
  const calls: ToolCall[] = [];
  content.forEach((block, i) => {
    switch (block.type) {
      case 'text':
        parts.push(toTextPart(block));
        return;
      case 'tool_use':
        calls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input) } });
        return;
      case 'thinking':
      case 'redacted_thinking':
        // An earlier answer's reasoning: the canonical request has no place for it (docs/messages-api.md).
        return;
      default:
        throw invalid(`'${at}.content[${i}]': a ${block.type} block belongs to a user turn`, `${at}.content[${i}].type`);
    }
  });
  const cached = parts.some((part) => part.cache_control);
  const text = cached ? parts : parts.map((part) => part.text).join('');
  const message: ChatMessage = { role: 'assistant', content: calls.length > 0 && text === '' ? null : text };
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

function toMessages(body: CountTokensBody): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (typeof body.system === 'string') {
    if (body.system !== '') out.push({ role: 'system', content: body.system });
  } else if (body.system && body.system.length > 0) {
    out.push({ role: 'system', content: body.system.map(toTextPart) });
  }
  body.messages.forEach((message: MessagesBodyMessage, i) => {
    const at = `messages[${i}]`;
    if (typeof message.content === 'string') {
      out.push({ role: message.role, content: message.content });
      return;
    }
    if (message.role === 'user') userMessages(message.content, at, out);
    else out.push(assistantMessage(message.content, at));
  });
  return out;
}

function toTool(tool: MessagesTool, i: number): ToolDefinition {
  if (tool.type && tool.type !== 'custom') {
    throw invalid(`'tools[${i}]': server tool '${tool.type}' is not offered by this gateway; only custom tools (name, input_schema) are`, `tools[${i}].type`);
  }
  if (!tool.input_schema) throw new GatewayError('missing_field', `'tools[${i}].input_schema' is required`, { param: `tools[${i}].input_schema` });
  const fn: ToolDefinition['function'] = { name: tool.name, parameters: tool.input_schema };
  if (tool.description) fn.description = tool.description;
  return tool.cache_control ? { type: 'function', function: fn, cache_control: tool.cache_control } : { type: 'function', function: fn };
}

function toToolChoice(choice: NonNullable<CountTokensBody['tool_choice']>): ToolChoice {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
  }
}

/** The prompt part of a body: what counting tokens needs, and where a call starts. */
export function toPromptRequest(body: CountTokensBody): ChatRequest {
  const req: ChatRequest = { model: body.model, messages: toMessages(body) };
  if (body.tools && body.tools.length > 0) req.tools = body.tools.map(toTool);
  if (body.tool_choice) {
    req.tool_choice = toToolChoice(body.tool_choice);
    if ('disable_parallel_tool_use' in body.tool_choice && body.tool_choice.disable_parallel_tool_use) req.parallel_tool_calls = false;
  }
  // `disabled` is what every other provider does anyway: no warning for it.
  if (body.thinking && body.thinking.type === 'enabled') req.thinking = body.thinking;
  return req;
}

/** A whole Messages body as a chat request. `max_tokens` is required by the Messages API, so it is always set. */
export function toMessagesChatRequest(body: MessagesBody): ChatRequest {
  const req = toPromptRequest(body);
  req.max_tokens = body.max_tokens;
  if (body.stop_sequences && body.stop_sequences.length > 0) req.stop = body.stop_sequences;
  if (body.temperature !== undefined) req.temperature = body.temperature;
  if (body.top_p !== undefined) req.top_p = body.top_p;
  if (body.top_k !== undefined) req.top_k = body.top_k;
  if (body.metadata?.user_id) req.user = body.metadata.user_id;
  if (body.stream) req.stream = true;
  return req;
}
