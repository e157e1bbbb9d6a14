import { O200kTokenizer } from './o200k-tokenizer.js';

/**
 * The exact o200k_base count, shared by the main thread (short texts) and the counting worker
 * (long ones) so both give the same number for the same text. It blocks for as long as the text
 * is long: only callers that bound the length (or run off the main thread) should use it.
 *
 * One tokenizer per thread is made on first use and kept: loading the vocabulary takes ~50 ms
 * and ~5 MB, and a thread that never counts never pays for it.
 */
let tokenizer: O200kTokenizer | undefined;

function getTokenizer(): O200kTokenizer {
  tokenizer ??= new O200kTokenizer();
  return tokenizer;
}

/**
 * Longest slice of text handed to the tokenizer at once, UTF-16 units. BPE work grows with the
 * square of a pre-token's length, and a run without spaces is one pre-token: 100 KB of one
 * letter took 13 s of a blocked event loop, 400 KB over two minutes, and about 1 MB made
 * tiktoken abort. Slices keep that linear; they end before whitespace where they can, so
 * ordinary text counts as it would whole, or within a fraction of a percent (prose, code, JSON).
 */
const MAX_SLICE_CHARS = 256;

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/**
 * Where the slice starting at `start` ends: before the last whitespace in its second half, else
 * at the limit. Never between the two halves of a surrogate pair: a split pair would reach the
 * tokenizer as two U+FFFD (6 bytes, not 4), which would change the count and break the byte bound
 * in count-tokens.ts (tokens ≤ UTF-8 bytes of the whole text).
 */
function sliceEnd(text: string, start: number): number {
  const limit = start + MAX_SLICE_CHARS;
  if (limit >= text.length) return text.length;
  for (let i = limit; i > start + MAX_SLICE_CHARS / 2; i--) if (isSpace(text.charCodeAt(i))) return i;
  const last = text.charCodeAt(limit - 1);
  return last >= 0xd800 && last <= 0xdbff ? limit - 1 : limit;
}

/** Exact token count of `text` (o200k_base, counted slice by slice; see MAX_SLICE_CHARS). Linear in the length. */
export function countTextTokensExact(text: string): number {
  if (text.length === 0) return 0;
  const counter = getTokenizer();
  if (text.length <= MAX_SLICE_CHARS) return counter.count(text);
  let total = 0;
  for (let start = 0; start < text.length; ) {
    const end = sliceEnd(text, start);
    total += counter.count(text.slice(start, end));
    start = end;
  }
  return total;
}
