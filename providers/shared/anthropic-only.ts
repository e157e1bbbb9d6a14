/**
 * Canonical fields that only Anthropic's wire has: cache breakpoints (`cache_control` on parts
 * and tools), a tool result's `is_error`, `thinking` and `top_k`. The OpenAI mapping copies the
 * request as it is, so for OpenAI itself, which refuses fields it does not know, they are taken
 * out here; OpenAI-compatible servers (LiteLLM, OpenRouter, vLLM) get them, as any unknown field.
 */
import type { ChatMessage, ChatRequest, ContentPart, TextPart, ToolDefinition } from '../../src/core/types.js';
import { droppedField, type DroppedField } from './warnings.js';

/** `thinking` and `top_k` are reported; cache breakpoints are not, as OpenAI caches prompt prefixes by itself. */
export function anthropicOnlyFields(provider: string): DroppedField[] {
  return [droppedField('thinking', provider, (req) => req.thinking !== undefined), droppedField('top_k', provider, (req) => req.top_k !== undefined)];
}

function partsHaveCacheControl(content: string | readonly (TextPart | ContentPart)[] | null | undefined): boolean {
  if (!Array.isArray(content)) return false;
  for (const part of content) if (part.cache_control) return true;
  return false;
}

// Loops by hand, as in warnings.ts: a request that has none of these fields allocates nothing.
function hasNestedExtras(req: ChatRequest): boolean {
  for (const message of req.messages) {
    if (message.role === 'tool' && message.is_error !== undefined) return true;
    if (partsHaveCacheControl(message.content)) return true;
  }
  if (req.tools) for (const tool of req.tools) if (tool.cache_control) return true;
  return false;
}

function withoutCacheControl<T extends TextPart | ContentPart>(part: T): T {
  if (!part.cache_control) return part;
  const { cache_control: _dropped, ...rest } = part;
  return rest as T;
}

function cleanMessage(message: ChatMessage): ChatMessage {
  if (message.role === 'tool') {
    const { is_error: _dropped, ...rest } = message;
    return Array.isArray(rest.content) ? { ...rest, content: rest.content.map(withoutCacheControl) } : rest;
  }
  if (!partsHaveCacheControl(message.content)) return message;
  // Each role keeps its own part type: user parts may be images, the others text only.
  if (message.role === 'user') return { ...message, content: (message.content as ContentPart[]).map(withoutCacheControl) };
  return { ...message, content: (message.content as TextPart[]).map(withoutCacheControl) };
}

function cleanTool(tool: ToolDefinition): ToolDefinition {
  if (!tool.cache_control) return tool;
  const { cache_control: _dropped, ...rest } = tool;
  return rest;
}

/** `req` without the Anthropic-only fields; `req` itself when it has none. */
export function withoutAnthropicOnlyFields(req: ChatRequest): ChatRequest {
  const nested = hasNestedExtras(req);
  if (!nested && req.thinking === undefined && req.top_k === undefined) return req;
  const { thinking: _thinking, top_k: _topK, ...rest } = req;
  if (!nested) return rest;
  return { ...rest, messages: req.messages.map(cleanMessage), ...(req.tools ? { tools: req.tools.map(cleanTool) } : {}) };
}
