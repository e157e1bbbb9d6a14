/**
 * JSON answers for `output: { type: json, schema }`: how to ask the provider for them
 * (structured output through `response_format`), how to read and check what came back, and the
 * follow-up turn that asks for a repair.
 */
import type { ValidateFunction } from 'ajv';
import type { ChatMessage, ResponseFormat } from '../core/types.js';
import { describeIssue } from './compile-prompt.js';
import type { PromptSpec } from './prompt-types.js';

export type JsonCheck = { ok: true; value: unknown } | { ok: false; reason: string };

/** OpenAI names a json_schema with `^[a-zA-Z0-9_-]{1,64}$`; prompt names may also hold dots. */
function schemaName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
}

export function jsonResponseFormat(spec: Readonly<PromptSpec>): ResponseFormat {
  const schema = spec.output.type === 'json' ? spec.output.schema : { type: 'object' };
  return { type: 'json_schema', json_schema: { name: schemaName(spec.name), schema } };
}

// Models that ignore structured output often wrap JSON in a Markdown fence anyway.
const FENCED = /^```(?:json)?\s*\n?([\s\S]*?)\n?\s*```$/i;

/** Parses an answer and validates it against the output schema; `reason` says what is wrong. */
export function checkJsonAnswer(text: string | null, validate: ValidateFunction): JsonCheck {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return { ok: false, reason: 'the answer is empty' };
  const body = FENCED.exec(trimmed)?.[1] ?? trimmed;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return { ok: false, reason: `the answer is not JSON (${(err as Error).message})` };
  }
  if (!validate(value)) {
    const issue = validate.errors?.[0];
    return { ok: false, reason: `the answer does not match the output schema: ${issue ? describeIssue(issue) : 'invalid'}` };
  }
  return { ok: true, value };
}

/** The conversation for the one repair attempt: the invalid answer and what is wrong with it. */
/** How much of a validation failure the repair request quotes: enough to fix it, bounded so admission can reserve for it. */
const MAX_REASON_CHARS = 400;

/**
 * Tokens a repair request adds beyond the original messages and the first answer: the
 * assistant and user framing, the instruction, and a reason of at most MAX_REASON_CHARS
 * (a token covers at least one character, so the characters bound it).
 */
export const REPAIR_OVERHEAD_TOKENS = 64 + MAX_REASON_CHARS;

export function repairMessages(messages: readonly ChatMessage[], answer: string | null, reason: string): ChatMessage[] {
  reason = reason.slice(0, MAX_REASON_CHARS);
  return [
    ...messages,
    { role: 'assistant', content: answer ?? '' },
    {
      role: 'user',
      content: `Your answer was not valid: ${reason}. Reply again with only the corrected JSON value, matching the required schema exactly.`,
    },
  ];
}
