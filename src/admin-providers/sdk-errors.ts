/**
 * What an operator needs from a failed provider call made off the hot path (model listing, key
 * check): the provider's HTTP status and its own message, or what kept the call from getting an
 * answer. Read by shape, not by class, so the SDKs stay unloaded until a call needs them.
 */
import { isRecord } from '../core/is-record.js';

export type FailureKind = 'http' | 'timeout' | 'network';

export interface ProviderFailure {
  kind: FailureKind;
  /** The provider's HTTP status; null when no answer came. */
  status: number | null;
  /** The provider's own message where it sent one. */
  message: string;
}

/** Long enough for any provider's message, short enough for a console cell. */
const MAX_MESSAGE = 2000;

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

/**
 * The message in a provider's error body: OpenAI's SDK keeps `{ message, type, code }`,
 * Anthropic's the whole `{ type: 'error', error: { message } }`, Google `{ error: { message } }`.
 */
export function bodyMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() || undefined;
  if (!isRecord(body)) return undefined;
  if (typeof body.message === 'string') return body.message;
  if (isRecord(body.error) && typeof body.error.message === 'string') return body.error.message;
  if (typeof body.error === 'string') return body.error;
  if (typeof body.detail === 'string') return body.detail; // some OpenAI-compatible servers (FastAPI)
  return undefined;
}

/** `@google/generative-ai` puts the provider's message after `[400 Bad Request] ` in its own. */
function googleMessage(message: string): string | undefined {
  return /\[\d{3}[^\]]*\] ([\s\S]+)$/.exec(message)?.[1]?.trim() || undefined;
}

/** The first `code` (ECONNREFUSED, ENOTFOUND, UND_ERR_…) down an error's cause chain. */
function causeCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && isRecord(current); depth++) {
    const code = current.code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}

/** `timedOut`: the call's own deadline had passed when it failed. */
export function describeFailure(err: unknown, timedOut: boolean, timeoutMs: number): ProviderFailure {
  const e = (isRecord(err) ? err : {}) as { status?: unknown; error?: unknown; message?: unknown; name?: unknown };
  const text = typeof e.message === 'string' ? e.message : String(err);
  if (typeof e.status === 'number' && e.status >= 100) {
    return { kind: 'http', status: e.status, message: clip(bodyMessage(e.error) ?? googleMessage(text) ?? text) };
  }
  const name = typeof e.name === 'string' ? e.name : '';
  if (timedOut || /Timeout/.test(name) || /timed? ?out/i.test(text)) {
    return { kind: 'timeout', status: null, message: `no answer within ${timeoutMs} ms` };
  }
  const code = causeCode(err);
  return { kind: 'network', status: null, message: clip(code && !text.includes(code) ? `${text} (${code})` : text) };
}
