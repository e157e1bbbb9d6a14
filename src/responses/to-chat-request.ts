/**
 * A Responses request as the canonical (chat-completions shaped) request the pipeline runs:
 * `instructions` become a leading system message, conversation items become messages (a
 * function call joins the assistant message before it, as chat completions carries parallel
 * calls), function tools and `text.format` map to their chat twins.
 */
import type { ChatMessage, ChatRequest, ContentPart, ResponseFormat, TextPart, ToolCall, ToolChoice, ToolDefinition } from '../core/types.js';
import type { BodyTool, ResponsesBody } from './request-schema.js';
import type { ConversationItem, MessageItem } from './wire-types.js';

function assistantText(item: MessageItem): string {
  let text = '';
  for (const part of item.content) {
    if (part.type === 'output_text' || part.type === 'input_text') text += part.text;
    else if (part.type === 'refusal') text += part.refusal;
  }
  return text;
}

/** Parts as chat content: one text part is sent as a plain string, as most clients write it. */
function textOrParts<T extends ContentPart>(parts: T[]): string | T[] {
  const only = parts.length === 1 ? parts[0] : undefined;
  return only?.type === 'text' ? only.text : parts;
}

function toMessage(item: MessageItem): ChatMessage {
  switch (item.role) {
    case 'assistant':
      return { role: 'assistant', content: assistantText(item) };
    case 'system':
    case 'developer': {
      // normalizeInput admits only text parts for these roles.
      const parts: TextPart[] = [];
      for (const part of item.content) if (part.type === 'input_text') parts.push({ type: 'text', text: part.text });
      return { role: item.role, content: textOrParts(parts) };
    }
    case 'user': {
      const parts: ContentPart[] = [];
      for (const part of item.content) {
        if (part.type === 'input_text') parts.push({ type: 'text', text: part.text });
        else if (part.type === 'input_image') parts.push({ type: 'image_url', image_url: { url: part.image_url, detail: part.detail } });
      }
      return { role: 'user', content: textOrParts(parts) };
    }
  }
}

/** The conversation as chat messages. */
export function toChatMessages(instructions: string | null | undefined, conversation: ConversationItem[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (instructions) messages.push({ role: 'system', content: instructions });
  for (const item of conversation) {
    switch (item.type) {
      case 'message':
        messages.push(toMessage(item));
        break;
      case 'function_call': {
        const call: ToolCall = { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } };
        const last = messages.at(-1);
        if (last?.role === 'assistant') (last.tool_calls ??= []).push(call);
        else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
        break;
      }
      case 'function_call_output':
        messages.push({ role: 'tool', tool_call_id: item.call_id, content: item.output });
        break;
    }
  }
  return messages;
}

/** `$schema` names the JSON Schema dialect (the Agents SDK sends it); it means nothing to a model and some upstreams refuse it. */
function withoutDialect(parameters: Record<string, unknown>): Record<string, unknown> {
  if (!('$schema' in parameters)) return parameters;
  const { $schema: _dialect, ...rest } = parameters;
  return rest;
}

function toTool(tool: BodyTool): ToolDefinition {
  // refuseUnsupported has checked every tool is a named function.
  const fn: ToolDefinition['function'] = { name: tool.name ?? '' };
  if (tool.description) fn.description = tool.description;
  if (tool.parameters) fn.parameters = withoutDialect(tool.parameters);
  if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
  return { type: 'function', function: fn };
}

function toToolChoice(choice: NonNullable<ResponsesBody['tool_choice']>): ToolChoice {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name ?? '' } };
}

function toResponseFormat(format: NonNullable<NonNullable<ResponsesBody['text']>['format']>): ResponseFormat | undefined {
  switch (format.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema': {
      const jsonSchema: Extract<ResponseFormat, { type: 'json_schema' }>['json_schema'] = { name: format.name ?? 'response' };
      if (format.description) jsonSchema.description = format.description;
      if (format.schema) jsonSchema.schema = format.schema;
      if (typeof format.strict === 'boolean') jsonSchema.strict = format.strict;
      return { type: 'json_schema', json_schema: jsonSchema };
    }
  }
}

/** The canonical request for `body` over `conversation` (the history before this input, then the input). */
export function toChatRequest(body: ResponsesBody, conversation: ConversationItem[]): ChatRequest {
  const req: ChatRequest = { model: body.model, messages: toChatMessages(body.instructions, conversation) };
  if (body.tools && body.tools.length > 0) {
    req.tools = body.tools.map(toTool);
    // Chat completions refuses parallel_tool_calls without tools.
    if (typeof body.parallel_tool_calls === 'boolean') req.parallel_tool_calls = body.parallel_tool_calls;
    // Likewise tool_choice: without tools there is nothing to choose.
    if (body.tool_choice) req.tool_choice = toToolChoice(body.tool_choice);
  }
  const format = body.text?.format ? toResponseFormat(body.text.format) : undefined;
  if (format) req.response_format = format;
  if (typeof body.max_output_tokens === 'number') req.max_completion_tokens = body.max_output_tokens;
  if (typeof body.temperature === 'number') req.temperature = body.temperature;
  if (typeof body.top_p === 'number') req.top_p = body.top_p;
  if (body.user) req.user = body.user;
  if (body.stream === true) req.stream = true;
  return req;
}
