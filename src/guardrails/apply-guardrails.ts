/**
 * Runs guardrail policies over a chat request before any provider sees it: deny patterns on
 * user text, then personal data (refused or redacted), then the input token limit on what
 * would be sent. Pure: the caller records the outcome.
 */
import { GatewayError } from '../core/errors.js';
import type { ChatMessage, ChatRequest } from '../core/types.js';
import { countMessageTokens } from '../usage/count-tokens.js';
import type { GuardrailPolicy } from './compile-guardrails.js';
import type { PiiMode } from './guardrail-settings.js';
import { findPii, PII_LABELS } from './pii-detectors.js';
import { Redactor } from './redactor.js';

export type GuardrailOutcome =
  /** `fired`: rules that changed the request (`pii:email`…); empty when it passed untouched. */
  | { ok: true; request: ChatRequest; fired: string[] }
  /** `fired` ends with the refusing rule. */
  | { ok: false; error: GatewayError; fired: string[] };

const SEVERITY: Record<PiiMode, number> = { off: 0, redact: 1, block: 2 };

/** The text pieces of a message's content: a string, or its text parts. */
function textsOf(message: ChatMessage): string[] {
  const content = message.content;
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  const texts: string[] = [];
  for (const part of content) if (part.type === 'text') texts.push(part.text);
  return texts;
}

function refuse(rule: string, message: string, param: string, fired: string[]): GuardrailOutcome {
  return { ok: false, error: new GatewayError('guardrail_violation', message, { param }), fired: [...fired, rule] };
}

/** The message with every text piece passed through `map`; the same object when nothing changed. */
function mapTexts(message: ChatMessage, map: (text: string) => string): ChatMessage {
  const content = message.content;
  if (typeof content === 'string') {
    const next = map(content);
    return next === content ? message : ({ ...message, content: next } as ChatMessage);
  }
  if (!Array.isArray(content)) return message;
  let changed = false;
  const parts = content.map((part) => {
    if (part.type !== 'text') return part;
    const text = map(part.text);
    if (text === part.text) return part;
    changed = true;
    return { ...part, text };
  });
  return changed ? ({ ...message, content: parts } as ChatMessage) : message;
}

export function applyGuardrails(policies: readonly GuardrailPolicy[], req: ChatRequest): GuardrailOutcome {
  const fired: string[] = [];

  for (const policy of policies) {
    if (policy.deny.length === 0) continue;
    for (let i = 0; i < req.messages.length; i++) {
      const message = req.messages[i]!;
      if (message.role !== 'user') continue;
      for (const text of textsOf(message)) {
        const hit = policy.deny.find((deny) => deny.pattern.test(text));
        if (hit) {
          return refuse(hit.rule, `${policy.where} refuses this request: messages[${i}].content matches its ${hit.rule} rule`, `messages[${i}].content`, fired);
        }
      }
    }
  }

  let messages = req.messages;
  const pii = policies.reduce<GuardrailPolicy | undefined>((strongest, p) => (SEVERITY[p.pii] > SEVERITY[strongest?.pii ?? 'off'] ? p : strongest), undefined);
  if (pii?.pii === 'block') {
    for (let i = 0; i < messages.length; i++) {
      for (const text of textsOf(messages[i]!)) {
        const found = findPii(text)[0];
        if (found) {
          return refuse(
            `pii:${found.kind}`,
            `${pii.where} does not accept personal data or credentials: messages[${i}].content contains ${PII_LABELS[found.kind]}`,
            `messages[${i}].content`,
            fired,
          );
        }
      }
    }
  } else if (pii?.pii === 'redact') {
    const redactor = new Redactor();
    messages = messages.map((message) =>
      mapTexts(message, (text) => {
        const found = findPii(text);
        return found.length === 0 ? text : redactor.redact(text, found);
      }),
    );
    for (const kind of redactor.kinds) fired.push(`pii:${kind}`);
  }

  let limit: GuardrailPolicy | undefined;
  for (const p of policies) if (p.maxInputTokens !== undefined && p.maxInputTokens < (limit?.maxInputTokens ?? Infinity)) limit = p;
  if (limit?.maxInputTokens !== undefined) {
    const tokens = countMessageTokens(messages);
    if (tokens > limit.maxInputTokens) {
      return refuse('max_input_tokens', `${limit.where} accepts at most ${limit.maxInputTokens} input tokens; the messages hold ${tokens}`, 'messages', fired);
    }
  }

  return { ok: true, request: messages === req.messages ? req : { ...req, messages }, fired };
}
