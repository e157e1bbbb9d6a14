/** The canonical (OpenAI-shaped) request → an Anthropic Messages request. */
import type { ChatMessage, ChatRequest, ResponseFormat } from '../../src/core/types.js';
import { invalidRequest } from '../shared/invalid-request.js';
import { instructionTexts, isInstruction } from '../shared/message-text.js';
import { toAnthropicTurns } from './convert-messages.js';
import { prepareAnthropicTools } from './prepare-tools.js';
import type { AnthropicRequest, AnthropicTextParam } from './wire-types.js';

/** Without a client value; the Messages API insists on `max_tokens`. */
export const DEFAULT_MAX_TOKENS = 4096;

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

/**
 * With thinking on, the API wants an assistant turn that called tools to open with the thinking
 * block that led to the calls. Canonical messages cannot carry thinking blocks, so a request that
 * continues such a turn goes without thinking (reported by `anthropicWarnings`) rather than fail.
 * https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#extended-thinking-with-tool-use
 */
export function continuesToolTurn(messages: readonly ChatMessage[]): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role === 'assistant') return (message.tool_calls?.length ?? 0) > 0;
  }
  return false;
}

function hasCachedInstruction(messages: readonly ChatMessage[]): boolean {
  for (const message of messages) {
    if (!isInstruction(message) || typeof message.content === 'string') continue;
    for (const part of message.content) if (part.cache_control) return true;
  }
  return false;
}

/**
 * The system prompt as blocks, kept apart as the client sent them, for a prompt with a cache
 * breakpoint (a joined string would lose it). Empty texts are left out: a 400 upstream.
 */
function systemBlocks(messages: readonly ChatMessage[], instruction: string | undefined): AnthropicTextParam[] {
  const blocks: AnthropicTextParam[] = [];
  for (const message of messages) {
    if (!isInstruction(message)) continue;
    const parts = typeof message.content === 'string' ? [{ type: 'text' as const, text: message.content }] : message.content;
    for (const part of parts) {
      if (part.text !== '') blocks.push(part.cache_control ? { type: 'text', text: part.text, cache_control: part.cache_control } : { type: 'text', text: part.text });
    }
  }
  if (instruction) blocks.push({ type: 'text', text: instruction });
  return blocks;
}

/**
 * Maps the canonical request to a Messages request. Left out on purpose (and reported by
 * `anthropicWarnings`): `temperature`, `top_p` and `top_k`, which API version 2026-10-21 (the one this
 * SDK sends) answers with a 400 even at their defaults, so sending them would fail every call
 * that has them; `presence_penalty`, `frequency_penalty` and `seed`, which Anthropic has no
 * equivalent for. https://docs.anthropic.com/en/api/versioning
 */
export function toAnthropicRequest(req: ChatRequest): AnthropicRequest {
  if (req.n !== undefined && req.n > 1) throw invalidRequest('n > 1 is not supported by Anthropic models', 'n');
  const instruction = jsonInstruction(req.response_format);

  const body: AnthropicRequest = {
    model: req.model,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages: toAnthropicTurns(req.messages),
  };
  if (hasCachedInstruction(req.messages)) body.system = systemBlocks(req.messages, instruction);
  else {
    const systemParts = instructionTexts(req.messages);
    if (instruction) systemParts.push(instruction);
    if (systemParts.length > 0) body.system = systemParts.join('\n\n');
  }
  const stop = typeof req.stop === 'string' ? [req.stop] : req.stop;
  if (stop && stop.length > 0) body.stop_sequences = stop;
  if (req.user) body.metadata = { user_id: req.user };
  if (req.thinking && !continuesToolTurn(req.messages)) body.thinking = req.thinking;
  return Object.assign(body, prepareAnthropicTools(req));
}
