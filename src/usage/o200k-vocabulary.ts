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

/** FNV-1a over bytes[start, end): cheap, and spreads the short byte strings of a BPE vocabulary well. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SIXBITS = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) SIXBITS[BASE64.charCodeAt(i)] = i;

/** Decodes the base64 of file[start, end) into pool at `at`; returns where the bytes end. */
function decodeBase64(file: Uint8Array, start: number, end: number, pool: Uint8Array, at: number): number {
  let bits = 0;
  let count = 0;
  for (let i = start; i < end; i++) {
    const value = SIXBITS[file[i]!]!;
    if (value < 0) break; // '=' padding ends the token
    bits = ((bits << 6) | value) & 0xffffff;
    count += 6;
    if (count >= 8) {
      count -= 8;
      pool[at++] = (bits >>> count) & 0xff;
    }
  }
  return at;
}

/** How many bytes the base64 of file[start, end) decodes to. */
function decodedLength(file: Uint8Array, start: number, end: number): number {
  let chars = end - start;
  while (chars > 0 && file[start + chars - 1] === EQUALS) chars--;
  return Math.floor((chars * 6) / 8);
}

const SPACE = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const EQUALS = 0x3d;

/** The JSON string value of `"name":"…"` in the file: [start, end) of its characters, escapes included. */
function stringField(file: Buffer, name: string): [number, number] {
  const marker = file.indexOf(`"${name}":"`);
  if (marker < 0) throw new Error(`tiktoken/encoders/o200k_base.json has no "${name}"`);
  const start = marker + name.length + 4;
  let end = start;
  while (end < file.length && file[end] !== QUOTE) end += file[end] === BACKSLASH ? 2 : 1;
  if (end >= file.length) throw new Error(`tiktoken/encoders/o200k_base.json: "${name}" does not end`);
  return [start, end];
}

/**
 * Reads the vocabulary straight from the file's bytes: parsing the 2.3 MB JSON into strings
 * first would double what loading holds at its peak. The file's `bpe_ranks` is one line: a
 * placeholder, the first rank (0), then the base64 of each token in rank order, separated by
 * single spaces.
 */
export function loadO200kVocabulary(): O200kVocabulary {
  const file = readFileSync(createRequire(import.meta.url).resolve('tiktoken/encoders/o200k_base.json'));
  const [patternStart, patternEnd] = stringField(file, 'pat_str');
  const pattern = JSON.parse(file.toString('utf8', patternStart - 1, patternEnd + 1)) as string;
  const [ranksStart, ranksEnd] = stringField(file, 'bpe_ranks');
  const firstSpace = file.indexOf(SPACE, ranksStart);
  const secondSpace = file.indexOf(SPACE, firstSpace + 1);
  if (firstSpace < 0 || secondSpace < 0 || file.toString('latin1', firstSpace + 1, secondSpace) !== '0' || file.subarray(ranksStart, ranksEnd).includes('\\n')) {
    throw new Error('tiktoken/encoders/o200k_base.json: bpe_ranks is not in the one-line layout this reader knows');
  }
  // First pass: how many tokens, and how many bytes they decode to, so each array is made once at its size.
  let tokens = 0;
  let bytes = 0;
  for (let start = secondSpace + 1; start < ranksEnd; tokens++) {
    let end = file.indexOf(SPACE, start);
    if (end < 0 || end > ranksEnd) end = ranksEnd;
    bytes += decodedLength(file, start, end);
    start = end + 1;
  }
  const pool = new Uint8Array(bytes);
  const starts = new Uint32Array(tokens + 1);
  let at = 0;
  let rank = 0;
  for (let start = secondSpace + 1; start < ranksEnd; rank++) {
    let end = file.indexOf(SPACE, start);
    if (end < 0 || end > ranksEnd) end = ranksEnd;
    starts[rank] = at;
    at = decodeBase64(file, start, end, pool, at);
    start = end + 1;
  }
  starts[tokens] = at;
  // A table at most ~40% full keeps linear probes short.
  let size = 1;
  while (size < tokens * 2.5) size *= 2;
  const table = new Int32Array(size);
  const mask = size - 1;
  for (let r = 0; r < tokens; r++) {
    let slot = hashBytes(pool, starts[r]!, starts[r + 1]!) & mask;
    while (table[slot] !== 0) slot = (slot + 1) & mask;
    table[slot] = r + 1;
  }
  return { pool, starts, table, mask, pattern };
}
