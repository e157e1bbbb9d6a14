/**
 * Canonical messages → Gemini `contents`. Gemini knows only `user` and `model` turns and
 * matches a tool result to its call by function name, not by id.
 */
import type { ChatMessage, ContentPart, ToolCall } from '../../src/core/types.js';
import { parseBase64DataUrl } from '../shared/data-url.js';
import { invalidRequest } from '../shared/invalid-request.js';
import { textOf } from '../shared/message-text.js';
import { guessMimeType } from './guess-mime-type.js';
import type { GeminiContent, GeminiPart } from './wire-types.js';

function toGeminiPart(part: ContentPart): GeminiPart {
  if (part.type === 'text') return { text: part.text };
  const url = part.image_url.url;
  if (url.startsWith('data:')) {
    const dataUrl = parseBase64DataUrl(url);
    if (!dataUrl) throw invalidRequest('image_url data URLs must be base64 encoded');
    return { inlineData: { mimeType: dataUrl.mimeType, data: dataUrl.data } };
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
  throw invalidRequest(`tool call ${call.id}: arguments must be a JSON object`);
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
 * Gemini rejects two turns of the same role in a row: tool results become `functionResponse`
 * parts of a user turn, merged with what follows. System and developer messages are left to
 * `systemInstruction`.
 */
export function toGeminiContents(messages: ChatMessage[]): GeminiContent[] {
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
        break;
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
        const name = toolNames.get(message.tool_call_id);
        if (!name) throw invalidRequest(`tool message: tool_call_id ${message.tool_call_id} matches no earlier assistant tool call`);
        append('user', [{ functionResponse: { name, response: toFunctionResponse(textOf(message.content)) } }]);
        break;
      }
      default:
        throw invalidRequest(`unsupported role ${(message as { role: string }).role}`);
    }
  }
  return contents;
}
