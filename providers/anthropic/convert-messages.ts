/**
 * Canonical messages → Messages API turns: strict user/assistant alternation, images and tool
 * calls as blocks, tool results as `tool_result` blocks of a user turn.
 */
import type { CacheControl, ChatMessage, ContentPart, TextPart, ToolCall } from '../../src/core/types.js';
import { assertNever } from '../../src/core/types.js';
import { parseBase64DataUrl } from '../shared/data-url.js';
import { invalidRequest } from '../shared/invalid-request.js';
import { textOf } from '../shared/message-text.js';
import type { AnthropicBlock, AnthropicTextParam, AnthropicTurn, ImageMediaType } from './wire-types.js';

/** Anthropic rejects empty conversations and an assistant first turn; LiteLLM's placeholder does too. */
const PLACEHOLDER_USER_TEXT = '.';

const IMAGE_MEDIA_TYPES: readonly string[] = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

function isImageMediaType(mimeType: string): mimeType is ImageMediaType {
  return IMAGE_MEDIA_TYPES.includes(mimeType);
}

/** A cache breakpoint, where the part has one: prompt caching only works if it reaches the API. */
function withCacheControl<T extends AnthropicBlock>(block: T, cacheControl: CacheControl | undefined): T {
  return cacheControl ? { ...block, cache_control: cacheControl } : block;
}

function toImageBlock(url: string): AnthropicBlock {
  if (!url.startsWith('data:')) return { type: 'image', source: { type: 'url', url } };
  const dataUrl = parseBase64DataUrl(url);
  // Only the bare `data:<type>;base64,<data>` form: `media_type` has no room for parameters.
  if (!dataUrl || dataUrl.parameters.length > 0 || dataUrl.data === '' || !isImageMediaType(dataUrl.mimeType)) {
    throw invalidRequest('image_url must be an http(s) URL or a base64 data: URL of a jpeg, png, gif or webp image');
  }
  return { type: 'image', source: { type: 'base64', media_type: dataUrl.mimeType, data: dataUrl.data } };
}

function toUserBlocks(content: string | ContentPart[]): AnthropicBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content
    .filter((part) => part.type !== 'text' || part.text !== '')
    .map((part) =>
      withCacheControl(part.type === 'text' ? { type: 'text', text: part.text } : toImageBlock(part.image_url.url), part.cache_control),
    );
}

function hasCacheControl(content: string | TextPart[] | null | undefined): content is TextPart[] {
  if (!Array.isArray(content)) return false;
  for (const part of content) if (part.cache_control) return true;
  return false;
}

/** Text parts as blocks, empty ones left out (a 400 upstream); used only where a part carries a breakpoint. */
function toTextParams(parts: TextPart[]): AnthropicTextParam[] {
  return parts.filter((part) => part.text !== '').map((part) => withCacheControl({ type: 'text', text: part.text }, part.cache_control));
}

function toToolUseBlock(call: ToolCall): AnthropicBlock {
  let input: unknown;
  try {
    input = call.function.arguments.trim() === '' ? {} : JSON.parse(call.function.arguments);
  } catch {
    throw invalidRequest(`tool call ${call.id} has arguments that are not JSON`);
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
      const blocks: AnthropicBlock[] = hasCacheControl(message.content) ? toTextParams(message.content) : text ? [{ type: 'text', text }] : [];
      for (const call of message.tool_calls ?? []) blocks.push(toToolUseBlock(call));
      return { role: 'assistant', content: blocks };
    }
    case 'tool': {
      const content = hasCacheControl(message.content) ? toTextParams(message.content) : textOf(message.content);
      const result: AnthropicBlock = { type: 'tool_result', tool_use_id: message.tool_call_id, content };
      if (message.is_error) result.is_error = true;
      return { role: 'user', content: [result] };
    }
    default:
      return assertNever(message);
  }
}

/**
 * The Messages API wants strict user/assistant alternation starting with a user turn:
 * consecutive same-role turns are merged (so parallel tool results share one user turn).
 */
export function toAnthropicTurns(messages: ChatMessage[]): AnthropicTurn[] {
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
    return only?.type === 'text' && !only.cache_control ? { role: turn.role, content: only.text } : turn;
  });
}
