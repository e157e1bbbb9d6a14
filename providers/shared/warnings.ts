/**
 * Building blocks for `ProviderAdapter.warnings`: each provider lists the request fields its
 * mapping leaves out, and a request is checked against that list before every attempt.
 */
import type { ChatRequest } from '../../src/core/types.js';

/**
 * Shared by every request that drops nothing, so the common case allocates nothing; frozen so
 * that a caller who pushes onto it fails loudly instead of warning every later request.
 */
const NO_WARNINGS: string[] = Object.freeze([] as string[]) as string[];

/** A request field a provider cannot honour, and the sentence that reports it. */
export interface DroppedField {
  readonly isSet: (req: ChatRequest) => boolean;
  readonly warning: string;
}

/** Built once per provider at module load: the sentence is not allocated per request. */
export function droppedField(field: string, provider: string, isSet: (req: ChatRequest) => boolean): DroppedField {
  return { isSet, warning: `${field} is not supported by ${provider} and was dropped` };
}

/** A provider's `warnings`: the sentences of the fields this request sets, in table order. */
export function warningsFor(fields: readonly DroppedField[]): (req: ChatRequest) => string[] {
  return (req) => {
    let warnings: string[] | undefined;
    for (const field of fields) if (field.isSet(req)) (warnings ??= []).push(field.warning);
    return warnings ?? NO_WARNINGS;
  };
}

/** Fields neither Anthropic nor Gemini has a place for. */
export function turnAndToolFields(provider: string): DroppedField[] {
  return [
    droppedField('message name', provider, hasMessageName),
    droppedField('image_url detail', provider, hasImageDetail),
    droppedField('tool strict mode', provider, hasStrictTool),
  ];
}

// The checks below loop by hand: `some` with a closure would allocate on every request.

function hasMessageName(req: ChatRequest): boolean {
  for (const message of req.messages) if ('name' in message && message.name !== undefined) return true;
  return false;
}

/** `auto` is what a provider without the setting does anyway. */
function hasImageDetail(req: ChatRequest): boolean {
  for (const message of req.messages) {
    if (message.role !== 'user' || typeof message.content === 'string') continue;
    for (const part of message.content) {
      if (part.type === 'image_url' && part.image_url.detail !== undefined && part.image_url.detail !== 'auto') return true;
    }
  }
  return false;
}

/** A strict tool schema is a promise about the arguments; a provider that cannot keep it must say so. */
function hasStrictTool(req: ChatRequest): boolean {
  if (!req.tools) return false;
  for (const tool of req.tools) if (tool.function.strict === true) return true;
  return false;
}
