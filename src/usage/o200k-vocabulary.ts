import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * tiktoken's o200k_base vocabulary in a few flat typed arrays: every token's bytes in one pool,
 * and an open-addressing hash table from a byte string to its rank. About 5 MB, against ~50 MB
 * for the tiktoken WASM encoder (its hash map of boxed byte vectors, ~28 MB of WASM memory,
 * and ~20 MB of optimizing-compiler memory when its code tiers up) for the same lookups.
 *
 * The ranks come from the file the tiktoken package ships, so the vocabulary is tiktoken's own.
 */
export interface O200kVocabulary {
  /** The bytes of every token, token after token in rank order. */
  pool: Uint8Array;
  /** Where each rank's bytes start in `pool`; `starts[rank + 1]` is where they end. */
  starts: Uint32Array;
  /** Slot → rank + 1 (0: empty), probed linearly from hashBytes() & mask. */
  table: Int32Array;
  mask: number;
  /** The pre-tokenizer pattern as the file gives it (Rust regex syntax), to check the one o200k-tokenizer.ts uses. */
  pattern: string;
}

interface EncoderFile {
  pat_str: string;
  bpe_ranks: string;
}

/** FNV-1a over bytes[start, end): cheap, and spreads the short byte strings of a BPE vocabulary well. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SIXBITS = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) SIXBITS[BASE64.charCodeAt(i)] = i;

/** Decodes the base64 of text[start, end) into pool at `at`; returns where the bytes end. */
function decodeBase64(text: string, start: number, end: number, pool: Uint8Array, at: number): number {
  let bits = 0;
  let count = 0;
  for (let i = start; i < end; i++) {
    const value = SIXBITS[text.charCodeAt(i)]!;
    if (value < 0) break; // '=' padding ends the token
    bits = (bits << 6) | value;
    count += 6;
    if (count >= 8) {
      count -= 8;
      pool[at++] = (bits >>> count) & 0xff;
    }
  }
  return at;
}

/**
 * Reads the vocabulary. The file's `bpe_ranks` is one line: a placeholder, the first rank, then
 * the base64 of each token in rank order, separated by spaces.
 */
export function loadO200kVocabulary(): O200kVocabulary {
  const path = createRequire(import.meta.url).resolve('tiktoken/encoders/o200k_base.json');
  const file = JSON.parse(readFileSync(path, 'utf8')) as EncoderFile;
  const ranks = file.bpe_ranks;
  const firstSpace = ranks.indexOf(' ');
  const secondSpace = ranks.indexOf(' ', firstSpace + 1);
  if (firstSpace < 0 || secondSpace < 0 || ranks.indexOf('\n') >= 0 || Number(ranks.slice(firstSpace + 1, secondSpace)) !== 0) {
    throw new Error('tiktoken/encoders/o200k_base.json: bpe_ranks is not in the one-line layout this reader knows');
  }
  // Each base64 character carries 6 bits, so the pool needs at most 3/4 of the characters.
  const pool = new Uint8Array(Math.ceil(((ranks.length - secondSpace) * 3) / 4));
  const startList: number[] = [];
  let at = 0;
  for (let start = secondSpace + 1; start < ranks.length; ) {
    let end = ranks.indexOf(' ', start);
    if (end < 0) end = ranks.length;
    startList.push(at);
    at = decodeBase64(ranks, start, end, pool, at);
    start = end + 1;
  }
  startList.push(at);
  const starts = Uint32Array.from(startList);
  const tokens = starts.length - 1;
  // A table at most ~40% full keeps linear probes short.
  let size = 1;
  while (size < tokens * 2.5) size *= 2;
  const table = new Int32Array(size);
  const mask = size - 1;
  for (let rank = 0; rank < tokens; rank++) {
    let slot = hashBytes(pool, starts[rank]!, starts[rank + 1]!) & mask;
    while (table[slot] !== 0) slot = (slot + 1) & mask;
    table[slot] = rank + 1;
  }
  return { pool: pool.slice(0, at), starts, table, mask, pattern: file.pat_str };
}
