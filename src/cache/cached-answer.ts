/**
 * What the cache keeps of an answer: the canonical response (replayable as JSON or as SSE),
 * the usage the client was told, who answered and what the answer cost, so a hit can report
 * the cost it saved. Stored as JSON with a version, checked when read back.
 */
import type { ChatResponse, Usage } from '../core/types.js';
import type { CompletedChat } from '../pipeline/run-chat.js';

export interface CachedAnswer {
  /** `model` is the upstream model that answered. */
  response: ChatResponse;
  usage: Usage;
  /** The provider name (a key under `providers:`). */
  provider: string;
  /** What producing the answer cost, nano-USD: what each hit saves. */
  costNanoUsd: number;
}

const FORMAT = 1;

/** `usage` is what the client was told (reported, or estimated), kept apart from the response. */
export function toCachedAnswer(response: ChatResponse, fields: { model: string; usage: Usage; provider: string; costNanoUsd: number }): CachedAnswer {
  const { usage: _reported, ...rest } = response;
  return { response: { ...rest, model: fields.model }, usage: fields.usage, provider: fields.provider, costNanoUsd: fields.costNanoUsd };
}

export function answerFromCompleted(done: CompletedChat): CachedAnswer {
  return toCachedAnswer(done.response, {
    model: done.leg.upstreamModel,
    usage: done.leg.usage,
    provider: done.leg.deployment.provider,
    costNanoUsd: done.leg.costNanoUsd,
  });
}

export function encodeAnswer(answer: CachedAnswer): string {
  return JSON.stringify({ format: FORMAT, ...answer });
}

/** The answer, or undefined for a value of another format or shape (a newer or older gateway wrote it). */
export function decodeAnswer(text: string): CachedAnswer | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const v = value as Partial<CachedAnswer> & { format?: unknown };
  if (v === null || typeof v !== 'object' || v.format !== FORMAT) return undefined;
  if (!v.response || !Array.isArray(v.response.choices) || !v.usage || typeof v.provider !== 'string' || typeof v.costNanoUsd !== 'number') {
    return undefined;
  }
  return { response: v.response, usage: v.usage, provider: v.provider, costNanoUsd: v.costNanoUsd };
}
