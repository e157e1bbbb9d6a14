import { get_encoding, type Tiktoken } from 'tiktoken';
import type { ChatMessage } from '../core/types.js';

/**
 * Token estimates for when a provider reports no usage (or a stream is cut) and for limits
 * checked before a call. One o200k_base encoder is made on first use and kept: creating one
 * costs milliseconds and WASM memory.
 */
let encoder: Tiktoken | undefined;

function getEncoder(): Tiktoken {
  encoder ??= get_encoding('o200k_base');
  return encoder;
}

/**
 * Longest slice of text handed to the encoder at once, UTF-16 units. BPE work grows with the
 * square of a pre-token's length, and a run without spaces is one pre-token: 100 KB of one
 * letter took 13 s of a blocked event loop, 400 KB over two minutes, and about 1 MB made
 * tiktoken abort. Slices keep that linear; they end before whitespace where they can, so
 * ordinary text counts as it would whole, or within a fraction of a percent (prose, code, JSON).
 */
const MAX_SLICE_CHARS = 256;

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/** Where the slice starting at `start` ends: before the last whitespace in its second half, else at the limit (not inside a surrogate pair). */
function sliceEnd(text: string, start: number): number {
  const limit = start + MAX_SLICE_CHARS;
  if (limit >= text.length) return text.length;
  for (let i = limit; i > start + MAX_SLICE_CHARS / 2; i--) if (isSpace(text.charCodeAt(i))) return i;
  const last = text.charCodeAt(limit - 1);
  return last >= 0xd800 && last <= 0xdbff ? limit - 1 : limit;
}

/**
 * Past this many characters a text is estimated from samples: exact counting is linear but
 * still runs on the event loop, and a 10 MB body would block it for seconds. Eight windows
 * spread over the text keep the estimate within a few percent for mixed content.
 */
const EXACT_LIMIT_CHARS = 65_536;
const SAMPLE_WINDOWS = 8;

export function countTextTokens(text: string): number {
  if (text.length === 0) return 0;
  if (text.length <= EXACT_LIMIT_CHARS) return countExactly(text);
  const window = EXACT_LIMIT_CHARS / SAMPLE_WINDOWS;
  const stride = text.length / SAMPLE_WINDOWS;
  let sampledChars = 0;
  let sampledTokens = 0;
  for (let i = 0; i < SAMPLE_WINDOWS; i++) {
    const start = Math.floor(i * stride);
    const piece = text.slice(start, start + window);
    sampledChars += piece.length;
    sampledTokens += countExactly(piece);
  }
  return Math.round((sampledTokens * text.length) / sampledChars);
}

function countExactly(text: string): number {
  const encoder = getEncoder();
  if (text.length <= MAX_SLICE_CHARS) return encoder.encode_ordinary(text).length;
  let total = 0;
  for (let start = 0; start < text.length; ) {
    const end = sliceEnd(text, start);
    total += encoder.encode_ordinary(text.slice(start, end)).length;
    start = end;
  }
  return total;
}

// Per-message framing overhead of the chat format, as OpenAI's cookbook counts it.
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_REPLY = 3;
// An image's cost depends on its size, which the gateway does not fetch; a low-detail tile is the floor.
const TOKENS_PER_IMAGE = 85;

export function countMessageTokens(messages: readonly ChatMessage[]): number {
  let total = TOKENS_PER_REPLY;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE;
    const content = message.content;
    if (typeof content === 'string') total += countTextTokens(content);
    else if (Array.isArray(content)) {
      for (const part of content) total += part.type === 'text' ? countTextTokens(part.text) : TOKENS_PER_IMAGE;
    }
    if (message.role === 'assistant' && message.tool_calls) {
      for (const call of message.tool_calls) total += countTextTokens(call.function.name) + countTextTokens(call.function.arguments);
    }
  }
  return total;
}
