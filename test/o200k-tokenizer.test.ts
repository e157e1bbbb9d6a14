/**
 * The gateway's own o200k_base counter against tiktoken itself: the same count for every text,
 * from the cases its pre-tokenizer translation could get wrong (contractions under Unicode case
 * folding, the two white-space code points where JavaScript's `\s` and Rust's differ, lone
 * surrogates) to thousands of random texts.
 */
import { get_encoding } from 'tiktoken';
import { afterAll, describe, expect, it } from 'vitest';
import { O200K_RUST_PATTERN, O200kTokenizer } from '../src/usage/o200k-tokenizer.js';
import { seeded } from './helpers/random.js';

const tiktoken = get_encoding('o200k_base');
afterAll(() => tiktoken.free());
const tokenizer = new O200kTokenizer();

function expected(text: string): number {
  return tiktoken.encode_ordinary(text).length;
}

/**
 * Code points to draw from: every script's block up to U+19FF, the rest of the BMP from U+1B00,
 * emoji, math letters and CJK Extension B. Left out: blocks where Unicode 17 (September 2025)
 * assigned new letters and marks (U+1A00-1AFF, Tangut's supplement, CJK Extension J), because
 * V8 in Node 20.20 classifies them by Unicode 17 and tiktoken 1.0.22's regex tables do not know
 * them; text with those characters can count a token apart (see docs/architecture.md).
 */
const RANGES: Array<[number, number]> = [
  [0x20, 0x7f],
  [0x20, 0x7f],
  [0x80, 0x1a00],
  [0x1b00, 0xd800],
  [0xe000, 0x10000],
  [0x1f300, 0x1f700],
  [0x1d400, 0x1d800],
  [0x20000, 0x2a6e0],
];
const SPACES = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2028, 0x202f, 0x3000, 0xfeff, 0x200b];
const UNASSIGNED = /\p{Cn}/u;

function randomText(random: () => number, length: number): string {
  let text = '';
  while (text.length < length) {
    const roll = random();
    if (roll < 0.15) {
      text += String.fromCodePoint(SPACES[Math.floor(random() * SPACES.length)]!);
    } else if (roll < 0.2) {
      text += ["'s", "'T", "'re", "'VE", "'m", "'Ll", "'d", "'ſ", "'ſt"][Math.floor(random() * 9)]!;
    } else {
      const [lo, hi] = RANGES[Math.floor(random() * RANGES.length)]!;
      const char = String.fromCodePoint(lo + Math.floor(random() * (hi - lo)));
      if (!UNASSIGNED.test(char)) text += char;
    }
  }
  return text;
}

describe('the o200k_base counter', () => {
  it('translates the pattern of the vocabulary file tiktoken ships', () => {
    expect(tokenizer.sourcePattern).toBe(O200K_RUST_PATTERN);
  });

  it.each([
    ['prose', 'The committee met on Tuesday to review the quarterly figures, and the café owners agreed.'],
    ['contractions', "it's, IT'S, they've, we'LL, I'm, you'd, she'D, don't, it'ſ, Iſ'ſ"],
    ['code', 'function add(a, b) {\n\treturn a + b; // sum\n}\n\n\n    const x = [1, 22, 333, 4444];\r\n'],
    ['JSON', '{"model":"gpt-4o","messages":[{"role":"user","content":"Hé!"}],"n":12345678}'],
    ['CJK and Hangul', '日本語のテキストです。中文测试。한국어 텍스트'],
    ['Cyrillic, Arabic, Devanagari', 'Привет, мир! مرحبا بالعالم नमस्ते दुनिया'],
    ['emoji and joiners', 'ok 😀🎉 👨‍👩‍👧 🇫🇷 ✔️'],
    ['Unicode white space', ' a\u0085b \ufeffc\u00a0d\u3000e\u2028f  \t\n\n  g   '],
    ['lone surrogates', 'a\ud800b \udc00c \ud83d'],
    ['numbers', '1 12 123 1234 12345 3.14159 1,000,000 ٣٤٥ ⅷ'],
    ['a long run', 'x'.repeat(300)],
    ['an empty string', ''],
  ])('counts %s as tiktoken does', (_name, text) => {
    expect(tokenizer.count(text)).toBe(expected(text));
  });

  it('counts 3,000 random texts as tiktoken does', () => {
    const random = seeded(17);
    const wrong: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      const text = randomText(random, 1 + Math.floor(random() * 120));
      if (tokenizer.count(text) !== expected(text)) wrong.push(text);
    }
    expect(wrong).toEqual([]);
  });

  it('counts again after a text longer than its scratch space, with the same result', () => {
    const long = 'Ünïcödé '.repeat(400) + '𝔘'.repeat(500);
    const short = "It's short.";
    const before = tokenizer.count(short);
    expect(tokenizer.count(long)).toBe(expected(long));
    expect(tokenizer.count(short)).toBe(before);
    expect(before).toBe(expected(short));
  });
});
