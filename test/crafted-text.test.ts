/**
 * A text crafted to fool a sampled token count (spaces where the samples were, dense words
 * everywhere else) is counted at its full size end to end: a `max_input_tokens` guardrail
 * refuses it, and a stream the client cuts is billed its prompt within 2% of tiktoken's count.
 */
import { get_encoding } from 'tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerRecord } from '../src/usage/ledger.js';
import { sseEvents } from './fakes/fake-server.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from './fakes/scripted-openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { seeded } from './helpers/random.js';
import { eventually } from './helpers/wait.js';

const WORDS = ['ledger', 'token', 'budget', 'quartz', 'nimbus', 'vector', 'Zürich', '42', 'ψυχή', 'kernel', 'über', 'plinth'];

/** One million characters: 8,192 spaces at the start of every 125,000th, random words in between. */
function craftedText(): string {
  const random = seeded(11);
  let text = '';
  for (let block = 0; block < 8; block++) {
    text += ' '.repeat(8_192);
    let words = '';
    while (words.length < 125_000 - 8_192) words += `${WORDS[Math.floor(random() * WORDS.length)]} `;
    text += words.slice(0, 125_000 - 8_192);
  }
  return text;
}

describe('a text crafted against sampled counting', () => {
  const text = craftedText();
  let fake: ScriptedOpenAI;
  let gw: TestGateway;

  beforeAll(async () => {
    fake = await startScriptedOpenAI('fake');
    gw = await startGateway({
      providers: { fake: { type: 'openai-compatible', base_url: `${fake.url}/v1` } },
      models: [
        { name: 'guarded', retries: 0, guardrails: { max_input_tokens: 8000 }, deployments: [{ provider: 'fake', model: 'm', price: { input: 1, output: 1 } }] },
        { name: 'open', retries: 0, deployments: [{ provider: 'fake', model: 'm', price: { input: 1, output: 1 } }] },
      ],
    });
  });
  afterAll(async () => {
    await gw.close();
    await fake.close();
  });

  it('is refused whole by max_input_tokens: 8000', async () => {
    const before = fake.chatCalls();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'guarded', messages: [{ role: 'user', content: text }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('guardrail_violation');
    expect(fake.chatCalls()).toBe(before);
  });

  it('is billed within 2% of its full tiktoken count when the client cuts the stream', async () => {
    const records: LedgerRecord[] = [];
    gw.app.gateway.ledger.onRecord((record) => records.push(record));
    // The upstream sends a little and then nothing (no usage): the client gives up.
    fake.behave((req, res) => {
      const model = (req.body as { model: string }).model;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseEvents([{ data: { id: 'c', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { content: 'Reading…' }, finish_reason: null }] } }]));
    });
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'open', stream: true, messages: [{ role: 'user', content: text }] }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('Reading');
    controller.abort();
    await eventually(async () => expect(records).toHaveLength(1), 200);
    const encoder = get_encoding('o200k_base');
    const full = encoder.encode_ordinary(text).length;
    encoder.free();
    expect(records[0]).toMatchObject({ status: 499, usage_source: 'estimated' });
    expect(Math.abs(records[0]!.prompt_tokens - full) / full).toBeLessThan(0.02);
    expect(full).toBeGreaterThan(200_000);
  });
});
