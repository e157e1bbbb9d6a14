import { availableParallelism } from 'node:os';
import type { ChatMessage } from '../core/types.js';
import { countTextTokensExact } from './exact-count.js';
import { TokenWorkerPool } from './token-worker-pool.js';

export { TokenCounterBusyError, TokenCounterClosedError } from './token-worker-pool.js';

/**
 * Token counts (o200k_base) for when a provider reports no usage (or a stream is cut) and for
 * limits checked before a call, over text the client chose.
 *
 * - countTextTokensAsync / countMessageTokensAsync: exact, any length. Short texts are counted
 *   inline; long ones in a worker thread, so a 10 MB body does not stall the event loop.
 * - upperBoundTextTokens: synchronous and cheap, never below the exact count (see there).
 * - countTextTokens / countMessageTokens: the synchronous API callers used before; exact up to
 *   SYNC_EXACT_LIMIT_CHARS, an upper bound past it. They never under-count, but may over-count long texts.
 */

/**
 * Longest text counted on the calling thread by the async API and by upperBoundTextTokens. Cost
 * per character depends on the script: 4K characters took at most ~15 ms (random CJK; ASCII ~2 ms),
 * so an inline count stays well inside the 50 ms the event loop may stall. Longer texts pay a
 * worker round trip (well under a millisecond) instead.
 */
const INLINE_LIMIT_CHARS = 4_096;

/**
 * Longest text the synchronous countTextTokens still counts exactly, as it did before the async API:
 * callers that have not switched keep exact numbers (and so their limits and guardrails keep passing
 * the same requests) for texts up to 64K characters. That can block for up to ~180 ms (64K CJK).
 */
const SYNC_EXACT_LIMIT_CHARS = 65_536;

/** Workers for long texts: one per spare core, at most two, and always one core left to the event loop. */
const POOL_SIZE = Math.min(2, Math.max(1, availableParallelism() - 1));
/** Counts waiting for a worker before new ones are refused with TokenCounterBusyError. */
const MAX_QUEUED = 1_024;

let pool: TokenWorkerPool | undefined;

/** The pool, made on the first long text; no worker starts before that. */
function getPool(): TokenWorkerPool {
  pool ??= new TokenWorkerPool(POOL_SIZE, MAX_QUEUED);
  return pool;
}

/**
 * A count never below the exact one, synchronously: exact up to INLINE_LIMIT_CHARS, else the
 * text's UTF-8 length in bytes (one native pass, about 0.2 ms per MB).
 *
 * Why bytes are safe: the exact count encodes the text slice by slice, and every BPE token of a
 * slice stands for at least one byte of that slice's UTF-8 encoding, so a slice has at most as many
 * tokens as bytes. The slices partition the text and never split a surrogate pair (exact-count.ts),
 * so their byte lengths add up to the whole text's. A lone surrogate reaches the encoder as U+FFFD,
 * 3 bytes, and Buffer.byteLength counts it as 3 bytes too.
 *
 * The same argument bounds tiktoken over the whole text, unsliced. It over-counts 3-5x for prose,
 * code and JSON and little for byte-dense text (the 1 MB text that passed an 8000-token guardrail:
 * 1,000,000 against ~877,000). A tighter bound would have to be proved from the pre-tokenizer and
 * the vocabulary, which is the exact count's work; callers that need the number await it.
 */
export function upperBoundTextTokens(text: string): number {
  return text.length <= INLINE_LIMIT_CHARS ? countTextTokensExact(text) : utf8Bytes(text);
}

/** The bound of upperBoundTextTokens for any length: see there why it is never below the exact count. */
function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Exact count of `text`; texts over INLINE_LIMIT_CHARS are counted in a worker thread. Rejects with
 * TokenCounterBusyError when MAX_QUEUED counts already wait (the caller may fall back to
 * upperBoundTextTokens) and with TokenCounterClosedError when closeTokenCounter() runs meanwhile.
 */
export async function countTextTokensAsync(text: string): Promise<number> {
  if (text.length <= INLINE_LIMIT_CHARS) return countTextTokensExact(text);
  return getPool().count([text]);
}

/**
 * Exact count of `messages` with the chat format's framing. When their texts are long together, all
 * of them go to a worker in one message. Rejects as countTextTokensAsync does.
 */
export async function countMessageTokensAsync(messages: readonly ChatMessage[]): Promise<number> {
  const texts: string[] = [];
  let chars = 0;
  const framing = walkMessages(messages, (text) => {
    texts.push(text);
    chars += text.length;
  });
  if (chars <= INLINE_LIMIT_CHARS) return framing + texts.reduce((sum, text) => sum + countTextTokensExact(text), 0);
  return framing + (await getPool().count(texts));
}

/** Stops the counting workers (if any started); counts still pending reject. A later long count starts a new pool. */
export async function closeTokenCounter(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.close();
}

/** Exact up to 64K characters, else upperBoundTextTokens: never below the exact count. Prefer countTextTokensAsync. */
export function countTextTokens(text: string): number {
  return text.length <= SYNC_EXACT_LIMIT_CHARS ? countTextTokensExact(text) : upperBoundTextTokens(text);
}

/**
 * Never below the exact count of `messages`. Texts are counted exactly while the message's texts so
 * far stay within 64K characters together, and bounded by bytes after that, so many parts cannot add
 * up to a long block either. Prefer countMessageTokensAsync.
 */
export function countMessageTokens(messages: readonly ChatMessage[]): number {
  let exactBudget = SYNC_EXACT_LIMIT_CHARS;
  let total = 0;
  const framing = walkMessages(messages, (text) => {
    if (text.length <= exactBudget) {
      exactBudget -= text.length;
      total += countTextTokensExact(text);
    } else total += utf8Bytes(text);
  });
  return framing + total;
}

// Per-message framing overhead of the chat format, as OpenAI's cookbook counts it.
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_REPLY = 3;
// An image's cost depends on its size, which the gateway does not fetch; a low-detail tile is the floor.
const TOKENS_PER_IMAGE = 85;

/** Hands every text of `messages` to `onText`, in order, and returns the tokens that are not text (framing, images). */
function walkMessages(messages: readonly ChatMessage[], onText: (text: string) => void): number {
  let fixed = TOKENS_PER_REPLY;
  for (const message of messages) {
    fixed += TOKENS_PER_MESSAGE;
    const content = message.content;
    if (typeof content === 'string') onText(content);
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (part.type === 'text') onText(part.text);
        else fixed += TOKENS_PER_IMAGE;
      }
    }
    if (message.role === 'assistant' && message.tool_calls) {
      for (const call of message.tool_calls) {
        onText(call.function.name);
        onText(call.function.arguments);
      }
    }
  }
  return fixed;
}
