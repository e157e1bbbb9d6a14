/**
 * Token counts run on the request path (tpm limits, `cost` balancing, `max_input_tokens`,
 * usage a provider did not report) over text the client chose. tiktoken's BPE is quadratic in
 * the length of one pre-token, so a long run without spaces must not block the event loop.
 * Long texts are no longer estimated from samples (a crafted text fooled that, see
 * token-count.test.ts): the async API counts them exactly, the sync one bounds them from above.
 */
import { get_encoding } from 'tiktoken';
import { afterAll, expect, it } from 'vitest';
import { closeTokenCounter, countMessageTokens, countTextTokens, countTextTokensAsync } from '../src/usage/count-tokens.js';

const exact = get_encoding('o200k_base');
afterAll(async () => {
  exact.free();
  await closeTokenCounter();
});

it('counts a 200 KB run of one letter exactly (unsliced this took ~35 s; 1 MB made tiktoken abort); the sync count never less', async () => {
  expect(await countTextTokensAsync('a'.repeat(200_000))).toBe(25_000);
  expect(countTextTokens('a'.repeat(200_000))).toBeGreaterThanOrEqual(25_000);
  expect(countMessageTokens([{ role: 'user', content: '!'.repeat(200_000) }])).toBeGreaterThan(0);
});

it('counts a 900 KB mixed text within 1% of tiktoken whole; the sync count is never below it', async () => {
  const parts: string[] = [];
  for (let i = 0; i < 12_000; i++) {
    parts.push(
      i % 3 === 0
        ? `Paragraph ${i}: the committee met on Tuesday to review the quarterly figures and the plan. `
        : i % 3 === 1
          ? `{"order": ${i * 7919}, "sku": "AB-${i}", "price": ${(i % 97) + 0.99}, "tags": ["x", "y"]}\n`
          : `function f${i}(a, b) { return a * ${i} + b; }\n`,
    );
  }
  const text = parts.join('');
  expect(text.length).toBeGreaterThan(800_000);
  const want = exact.encode_ordinary(text).length;
  const got = await countTextTokensAsync(text);
  expect(Math.abs(got - want) / want).toBeLessThan(0.01);
  expect(countTextTokens(text)).toBeGreaterThanOrEqual(want);
});

it('counts ordinary text as tiktoken does: exactly when short, within 1% when long', () => {
  const short = 'Hello there, how are you today? 😀 Ça va très bien, merci.';
  expect(countTextTokens(short)).toBe(exact.encode_ordinary(short).length);

  const long = Array.from({ length: 400 }, (_, i) => `Line ${i}: the quick brown fox {"id": ${i * 37}, "ok": true} jumps over the lazy dog.\n`).join('');
  const want = exact.encode_ordinary(long).length;
  const got = countTextTokens(long);
  expect(Math.abs(got - want) / want).toBeLessThan(0.01);
});
