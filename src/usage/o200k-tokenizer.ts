import { loadO200kVocabulary, hashBytes, type O200kVocabulary } from './o200k-vocabulary.js';

/**
 * Counts o200k_base tokens as tiktoken's `encode_ordinary(text).length` does, in plain
 * JavaScript over the compact vocabulary of o200k-vocabulary.ts: the same pre-tokenizer, then
 * the same byte-pair merge per piece (the lowest-ranked adjacent pair first, the leftmost on a
 * tie). Only counts are needed, so no token ids are produced.
 *
 * test/o200k-tokenizer.test.ts holds it to tiktoken itself over prose, code, JSON, scripts,
 * emoji, whitespace runs and random code points.
 */

/**
 * Unicode White_Space, which `\s` means in the Rust regex tiktoken runs. JavaScript's `\s`
 * differs in two code points: it lacks U+0085 and adds U+FEFF.
 */
const WS = '\\t\\n\\v\\f\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
/**
 * tiktoken's `(?i:'s|'t|'re|'ve|'m|'ll|'d)`: Node 20's regexes have no inline flags, and Unicode
 * case folding puts U+017F (long s) in the class of s.
 */
const CONTRACTION = "(?:'[sS\\u017F]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?";
const UPPER = '[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]';
const LOWER = '[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]';

/** The o200k_base pre-tokenizer in JavaScript syntax, alternative for alternative. */
const PIECES = [
  `[^\\r\\n\\p{L}\\p{N}]?${UPPER}*${LOWER}+${CONTRACTION}`,
  `[^\\r\\n\\p{L}\\p{N}]?${UPPER}+${LOWER}*${CONTRACTION}`,
  '\\p{N}{1,3}',
  ` ?[^${WS}\\p{L}\\p{N}]+[\\r\\n/]*`,
  `[${WS}]*[\\r\\n]+`,
  `[${WS}]+(?![^${WS}])`,
  `[${WS}]+`,
].join('|');

/** The pattern of tiktoken's o200k_base file that PIECES translates; a test fails if a new tiktoken ships another. */
export const O200K_RUST_PATTERN =
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const NO_RANK = 0x7fffffff;

/** One pre-tokenizer, vocabulary and set of scratch arrays per thread, made on the first count. */
export class O200kTokenizer {
  private readonly vocabulary: O200kVocabulary;
  private readonly pieces = new RegExp(PIECES, 'gu');
  private bytes = new Uint8Array(1024);
  private positions = new Int32Array(1024);
  private ranks = new Int32Array(1024);

  constructor(vocabulary: O200kVocabulary = loadO200kVocabulary()) {
    this.vocabulary = vocabulary;
  }

  /** The pattern of the vocabulary file this tokenizer was made from. */
  get sourcePattern(): string {
    return this.vocabulary.pattern;
  }

  /** tiktoken's `encode_ordinary(text).length`. Quadratic in the longest piece: callers slice long texts (exact-count.ts). */
  count(text: string): number {
    // tiktoken receives text as UTF-8, where a lone surrogate becomes U+FFFD.
    const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
    const pieces = this.pieces;
    pieces.lastIndex = 0;
    let tokens = 0;
    for (let match = pieces.exec(wellFormed); match !== null; match = pieces.exec(wellFormed)) {
      const length = this.encodeUtf8(match[0]);
      tokens += this.rankOf(0, length) !== NO_RANK ? 1 : this.mergeCount(length);
    }
    return tokens;
  }

  /** Writes the UTF-8 of a well-formed piece into this.bytes; returns its length. */
  private encodeUtf8(piece: string): number {
    if (this.bytes.length < piece.length * 3) this.bytes = new Uint8Array(piece.length * 3 * 2);
    const out = this.bytes;
    let at = 0;
    for (let i = 0; i < piece.length; i++) {
      let code = piece.charCodeAt(i);
      if (code < 0x80) {
        out[at++] = code;
      } else if (code < 0x800) {
        out[at++] = 0xc0 | (code >> 6);
        out[at++] = 0x80 | (code & 0x3f);
      } else if (code >= 0xd800 && code <= 0xdbff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (piece.charCodeAt(++i) - 0xdc00);
        out[at++] = 0xf0 | (code >> 18);
        out[at++] = 0x80 | ((code >> 12) & 0x3f);
        out[at++] = 0x80 | ((code >> 6) & 0x3f);
        out[at++] = 0x80 | (code & 0x3f);
      } else {
        out[at++] = 0xe0 | (code >> 12);
        out[at++] = 0x80 | ((code >> 6) & 0x3f);
        out[at++] = 0x80 | (code & 0x3f);
      }
    }
    return at;
  }

  /** The rank of this.bytes[start, end), or NO_RANK when it is not a token. */
  private rankOf(start: number, end: number): number {
    const { pool, starts, table, mask } = this.vocabulary;
    const bytes = this.bytes;
    const length = end - start;
    for (let slot = hashBytes(bytes, start, end) & mask; ; slot = (slot + 1) & mask) {
      const entry = table[slot]!;
      if (entry === 0) return NO_RANK;
      const from = starts[entry - 1]!;
      if (starts[entry]! - from !== length) continue;
      let same = true;
      for (let i = 0; i < length; i++) {
        if (pool[from + i] !== bytes[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return entry - 1;
    }
  }

  /**
   * How many tokens the byte-pair merge leaves of this.bytes[0, length): tiktoken's
   * `_byte_pair_merge`, which keeps part boundaries and the rank of each part with its
   * neighbour, and merges the lowest-ranked pair until no pair is a token.
   */
  private mergeCount(length: number): number {
    if (this.positions.length < length + 1) {
      this.positions = new Int32Array((length + 1) * 2);
      this.ranks = new Int32Array((length + 1) * 2);
    }
    const positions = this.positions;
    const ranks = this.ranks;
    for (let i = 0; i < length - 1; i++) {
      positions[i] = i;
      ranks[i] = this.rankOf(i, i + 2);
    }
    positions[length - 1] = length - 1;
    ranks[length - 1] = NO_RANK;
    positions[length] = length;
    ranks[length] = NO_RANK;
    let parts = length + 1;
    for (;;) {
      let best = NO_RANK;
      let at = -1;
      for (let i = 0; i < parts - 1; i++) {
        if (ranks[i]! < best) {
          best = ranks[i]!;
          at = i;
        }
      }
      if (best === NO_RANK) return parts - 1;
      // The ranks of the merged part with its neighbours, read before part at + 1 is removed.
      if (at > 0) ranks[at - 1] = at + 2 < parts ? this.rankOf(positions[at - 1]!, positions[at + 2]!) : NO_RANK;
      ranks[at] = at + 3 < parts ? this.rankOf(positions[at]!, positions[at + 3]!) : NO_RANK;
      positions.copyWithin(at + 1, at + 2, parts);
      ranks.copyWithin(at + 1, at + 2, parts);
      parts--;
    }
  }
}
