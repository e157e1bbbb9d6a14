/** The canonical (OpenAI-shaped) request → an Anthropic Messages request. */
import type { ChatRequest, ResponseFormat } from '../../src/core/types.js';
import { invalidRequest } from '../shared/invalid-request.js';
import { instructionTexts } from '../shared/message-text.js';
import { toAnthropicTurns } from './convert-messages.js';
import { prepareAnthropicTools } from './prepare-tools.js';
import type { AnthropicRequest } from './wire-types.js';

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
 * Maps the canonical request to a Messages request. Left out on purpose (and reported by
 * `anthropicWarnings`): `temperature` and `top_p`, which API version 2026-10-21 (the one this
 * SDK sends) answers with a 400 even at their defaults, so sending them would fail every call
 * that has them; `presence_penalty`, `frequency_penalty` and `seed`, which Anthropic has no
 * equivalent for. https://docs.anthropic.com/en/api/versioning
 */
export function toAnthropicRequest(req: ChatRequest): AnthropicRequest {
  if (req.n !== undefined && req.n > 1) throw invalidRequest('n > 1 is not supported by Anthropic models', 'n');
  const systemParts = instructionTexts(req.messages);
  const instruction = jsonInstruction(req.response_format);
  if (instruction) systemParts.push(instruction);

  const body: AnthropicRequest = {
    model: req.model,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages: toAnthropicTurns(req.messages),
  };
  if (systemParts.length > 0) body.system = systemParts.join('\n\n');
  const stop = typeof req.stop === 'string' ? [req.stop] : req.stop;
  if (stop && stop.length > 0) body.stop_sequences = stop;
  if (req.user) body.metadata = { user_id: req.user };
  return Object.assign(body, prepareAnthropicTools(req));
}
