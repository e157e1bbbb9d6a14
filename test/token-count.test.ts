/**
 * The token counting API: exact async counts for any length (long texts in a worker thread, so the
 * event loop keeps running), and a synchronous bound that is never below the exact count. Texts
 * here are what a client can send: the old sampling counted a crafted 1 MB text as 7,813 tokens.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get_encoding } from 'tiktoken';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../src/core/types.js';
import {
  closeTokenCounter,
  countMessageTokens,
  countMessageTokensAsync,
  countTextTokens,
  countTextTokensAsync,
  TokenCounterClosedError,
  upperBoundTextTokens,
} from '../src/usage/count-tokens.js';
import { countTextTokensExact } from '../src/usage/exact-count.js';
import { seeded } from './helpers/random.js';

const tiktoken = get_encoding('o200k_base');
afterAll(async () => {
  tiktoken.free();
  await closeTokenCounter();
});

type Random = () => number;
const PROSE = [
  'The committee met on Tuesday to review the quarterly figures and the plan for next year.',
  'Prices rose by 4.2% in the second quarter — less than the café owners had feared.',
  'She read the report twice, then wrote a short note to the board about the delays.',
  'Shipping costs fell after the new contract, and most orders now arrive within a week.',
];
const WORDS = 'the of and to in is was for on that with as by at from order price total committee quarterly review'.split(' ');

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function fromCodePoints(random: Random, length: number, lo: number, hi: number): string {
  const points: number[] = [];
  for (let i = 0; i < length; i++) points.push(lo + Math.floor(random() * (hi - lo)));
  return String.fromCodePoint(...points);
}

/** Random words and numbers, up to `length` characters: dense text, about 3.4 characters per token. */
function words(random: Random, length: number): string {
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    const part = random() < 0.3 ? String(Math.floor(random() * 1e6)) : pick(random, WORDS);
    const sep = random() < 0.1 ? '.\n' : ' ';
    parts.push(part, sep);
    size += part.length + sep.length;
  }
  return parts.join('').slice(0, length);
}

/** Texts of one kind each, built in chunks so that no call spreads a huge argument list. */
const SCRIPTS = {
  ascii: words,
  cjk: (random, length) => chunked(length, (n) => fromCodePoints(random, n, 0x4e00, 0x9fff) + (random() < 0.2 ? '。' : '')),
  emoji: (random, length) =>
    chunked(length, () => pick(random, ['😀', '👍🏽', '👩‍💻', '🇫🇷', '❤️', ' ', '🎉🎉', '👨‍👩‍👧‍👦'])),
  noSpaces: (random, length) =>
    chunked(length, (n) => (random() < 0.5 ? 'a'.repeat(n) : fromCodePoints(random, n, 0x21, 0x7f))),
  json: (random, length) =>
    chunked(length, () => JSON.stringify({ id: Math.floor(random() * 1e9), name: words(random, 30), price: random() * 100, tags: ['a', 'é', '漢'] }) + ',\n'),
  anyCodePoint: (random, length) =>
    // Lone surrogates included: they reach the encoder as U+FFFD and must survive the copy to the worker.
    chunked(length, (n) => fromCodePoints(random, n, 0x20, 0x2ffff) + String.fromCharCode(0xd800 + Math.floor(random() * 0x800))),
} satisfies Record<string, (random: Random, length: number) => string>;

function chunked(length: number, chunk: (n: number) => string): string {
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    const part = chunk(Math.min(512, length - size));
    parts.push(part);
    size += part.length;
  }
  return parts.join('').slice(0, length);
}

describe('countTextTokensAsync', () => {
  it('counts random texts of every script exactly, short ones inline and long ones in the worker; the sync bound is never below', async () => {
    const random = seeded(20_240_611);
    for (const [script, make] of Object.entries(SCRIPTS)) {
      for (const length of [0, 1, 300, 4_096, 4_097, 10_000 + Math.floor(random() * 40_000), 70_000]) {
        const text = make(random, length);
        const exact = countTextTokensExact(text);
        const label = `${script} ${length}`;
        expect(await countTextTokensAsync(text), label).toBe(exact);
        expect(upperBoundTextTokens(text), label).toBeGreaterThanOrEqual(exact);
        expect(countTextTokens(text), label).toBeGreaterThanOrEqual(exact);
        if (text.length <= 65_536) expect(countTextTokens(text), label).toBe(exact);
      }
    }
  });

  it('counts the text that fooled the sampling (spaces in every sample window) within 2% of tiktoken; the sync bound stays above it', async () => {
    // The old estimate read 8 windows of 8,192 characters at every 125,000th: fill them with spaces, the rest with dense text.
    const random = seeded(7);
    const stride = 125_000;
    const text = Array.from({ length: 8 }, () => ' '.repeat(8_192) + words(random, stride - 8_192)).join('');
    expect(text.length).toBe(1_000_000);

    const whole = tiktoken.encode_ordinary(text).length;
    expect(whole).toBeGreaterThan(250_000); // sampled, it was 7,813
    const counted = await countTextTokensAsync(text);
    expect(Math.abs(counted - whole) / whole).toBeLessThan(0.02);
    // What a `max_input_tokens: 8000` guardrail on the sync API now sees: at least the real count.
    expect(upperBoundTextTokens(text)).toBeGreaterThanOrEqual(whole);
    expect(countTextTokens(text)).toBeGreaterThanOrEqual(whole);
    expect(countMessageTokens([{ role: 'user', content: text }])).toBeGreaterThanOrEqual(whole);
  });

  it('counts a 10 MB body exactly without stalling the event loop', async () => {
    const random = seeded(99);
    // Mostly prose with some JSON, as a long document pasted into a chat; 'é' and '—' make it a two-byte string, the costlier copy.
    const body = chunked(10_000_000, () =>
      random() < 0.8 ? `${pick(random, PROSE)} ${pick(random, PROSE)} ${pick(random, PROSE)}\n` : SCRIPTS.json(random, 200) + '\n',
    );
    const exact = countTextTokensExact(body); // the reference, counted before the clock starts

    let last = performance.now();
    let maxGap = 0;
    let ticks = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 5);
    const started = performance.now();
    let counted: number;
    try {
      counted = await countTextTokensAsync(body);
    } finally {
      clearInterval(ticker);
    }
    const elapsed = performance.now() - started;
    maxGap = Math.max(maxGap, performance.now() - last);

    expect(counted).toBe(exact);
    // The count takes seconds in the worker, so the ticker must have run all along.
    expect(ticks).toBeGreaterThan(elapsed / 50);
    // Counting inline would stall the loop for the whole count (~3 s); the worker costs one copy of the
    // string (10-35 ms for 10 MB). The goal is 50 ms. The bound is relative to the count's own
    // duration, so a loaded box that slows both (a CI run beside other work hit 111 ms against a
    // fixed 100) does not fail it, while an inline count (a gap as long as the count) still does:
    // this checks where the work runs, not how fast the machine is.
    expect(maxGap).toBeLessThan(Math.max(100, elapsed / 10));
    console.info(`10 MB body: ${counted} tokens in ${elapsed.toFixed(0)} ms, longest event-loop gap ${maxGap.toFixed(1)} ms`);
  }, 60_000);

  it('answers 50 counts at once, each with its own number', async () => {
    const random = seeded(50);
    const texts = Array.from({ length: 50 }, (_, i) => {
      const make = Object.values(SCRIPTS)[i % 6]!;
      return make(random, i % 2 === 0 ? 100 + Math.floor(random() * 3_000) : 5_000 + Math.floor(random() * 20_000));
    });
    const messages = texts.slice(0, 10).map((text): ChatMessage[] => [{ role: 'user', content: [{ type: 'text', text }, { type: 'text', text }] }]);
    const [counts, messageCounts] = await Promise.all([
      Promise.all(texts.map((text) => countTextTokensAsync(text))),
      Promise.all(messages.map((message) => countMessageTokensAsync(message))),
    ]);
    expect(counts).toEqual(texts.map((text) => countTextTokensExact(text)));
    expect(messageCounts).toEqual(texts.slice(0, 10).map((text) => 6 + 2 * countTextTokensExact(text)));
  }, 60_000);

  it('fails counts still pending when closed, and starts again on the next long text', async () => {
    const pending = countTextTokensAsync(words(seeded(1), 3_000_000));
    const failed = expect(pending).rejects.toBeInstanceOf(TokenCounterClosedError); // handled before it rejects
    await closeTokenCounter();
    await failed;
    const text = words(seeded(2), 50_000);
    expect(await countTextTokensAsync(text)).toBe(countTextTokensExact(text));
  });
});

describe('countMessageTokensAsync', () => {
  it('counts every text of the messages exactly, in one batch when they are long together, plus framing and images', async () => {
    const random = seeded(3);
    const long = words(random, 200_000);
    const args = SCRIPTS.json(random, 3_000);
    const result = SCRIPTS.cjk(random, 3_000);
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: [{ type: 'text', text: long }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: args } }] },
      { role: 'tool', tool_call_id: 'c1', content: [{ type: 'text', text: result }] },
    ];
    const texts = ['You are terse.', long, 'lookup', args, result];
    // Reply priming, 3 per message, one low-detail image, and the texts.
    const want = 3 + 4 * 3 + 85 + texts.reduce((sum, text) => sum + countTextTokensExact(text), 0);
    expect(await countMessageTokensAsync(messages)).toBe(want);
    expect(countMessageTokens(messages)).toBeGreaterThanOrEqual(want);
    // Short messages: the sync count is exact and equal to the async one.
    const short: ChatMessage[] = [{ role: 'user', content: 'Say something short.' }];
    expect(await countMessageTokensAsync(short)).toBe(countMessageTokens(short));
  });

  it('keeps the sync count from adding up many medium parts exactly: past 64K characters together it bounds by bytes', () => {
    const text = words(seeded(4), 40_000);
    const exact = countTextTokensExact(text);
    const messages: ChatMessage[] = [{ role: 'user', content: [{ type: 'text', text }, { type: 'text', text }] }];
    expect(countMessageTokens(messages)).toBe(6 + exact + Buffer.byteLength(text));
  });
});

describe('the process', () => {
  it('exits on its own with idle counting workers, and after closeTokenCounter()', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'token-count-'));
    try {
      const script = join(dir, 'count.mjs');
      const module = new URL('../src/usage/count-tokens.ts', import.meta.url).href;
      writeFileSync(
        script,
        `const { countTextTokensAsync, closeTokenCounter } = await import(${JSON.stringify(module)});\n` +
          `const tokens = await countTextTokensAsync('lorem ipsum dolor '.repeat(20_000));\n` +
          `if (process.argv[2] === 'close') await closeTokenCounter();\n` +
          `console.log(tokens);\n`,
      );
      const run = (mode: string) =>
        new Promise<string>((resolve, reject) => {
          // A process kept alive by a worker would hit the timeout and fail here.
          execFile(process.execPath, ['--import', import.meta.resolve('tsx'), script, mode], { timeout: 40_000 }, (error, stdout, stderr) =>
            error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim()),
          );
        });
      const want = String(countTextTokensExact('lorem ipsum dolor '.repeat(20_000)));
      expect(await Promise.all([run('close'), run('idle')])).toEqual([want, want]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
