/**
 * `POST /v1/messages` in front of wire-faithful fake OpenAI, Anthropic and Gemini APIs, driven by
 * the official `@anthropic-ai/sdk`: each mapping is checked on what the fake received and on what
 * the SDK made of the answer. Anthropic upstreams keep prompt caching (cache_control, thinking)
 * and their cached tokens are reported and billed.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic.js';
import { startFakeGemini, textResponse, type FakeGemini } from './fakes/gemini.js';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai.js';
import { anthropicClient, recordOfMessage, weatherTool } from './helpers/anthropic-client.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const ledger = createMemoryLedger();
let openai: FakeOpenAI;
let anthropic: FakeAnthropic;
let gemini: FakeGemini;
let gw: TestGateway;
let client: Anthropic;

beforeAll(async () => {
  [openai, anthropic, gemini] = await Promise.all([startFakeOpenAI(), startFakeAnthropic(), startFakeGemini()]);
  gw = await startGateway(
    {
      providers: {
        openai: { type: 'openai', api_key: 'sk-fake-openai', base_url: `${openai.url}/v1` },
        anthropic: { type: 'anthropic', api_key: 'test-key', base_url: anthropic.url },
        gemini: { type: 'gemini', api_key: 'test-key', base_url: gemini.url },
      },
      models: [
        { name: 'gpt', retries: 0, deployments: [{ provider: 'openai', model: 'gpt-4o' }] },
        {
          name: 'claude',
          retries: 0,
          deployments: [{ provider: 'anthropic', model: 'claude-haiku-4-5', price: { input: 3, output: 15, cached_input: 0.3 } }],
        },
        { name: 'gem', retries: 0, deployments: [{ provider: 'gemini', model: 'gemini-2.0-flash' }] },
      ],
    },
    { ledger },
  );
  client = anthropicClient(gw.url);
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([openai?.close(), anthropic?.close(), gemini?.close()]);
});

const weather = weatherTool;
const recordOf = (id: string) => recordOfMessage(ledger.records(), id);

describe('Messages API over OpenAI', () => {
  it('maps system, max_tokens, stop_sequences, sampling and metadata; cached tokens come back apart from input_tokens', async () => {
    openai.enqueueChat({ content: 'Bonjour!' });
    const { data: message, response } = await client.messages
      .create({
        model: 'gpt',
        max_tokens: 64,
        system: [{ type: 'text', text: 'Answer in French.', cache_control: { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello', cache_control: { type: 'ephemeral' } }] }],
        stop_sequences: ['END'],
        temperature: 0.5,
        top_p: 0.9,
        top_k: 20,
        metadata: { user_id: 'user-42' },
        // Older Anthropic SDKs (and the agents built on them) send sampling fields this SDK's types no longer have.
      } as Anthropic.MessageCreateParamsNonStreaming)
      .withResponse();
    expect(message).toMatchObject({ model: 'gpt-4o', content: [{ type: 'text', text: 'Bonjour!' }], stop_reason: 'end_turn' });
    // The fake's usage: 1,200 prompt tokens of which 1,000 cached, 300 completion tokens.
    expect(message.usage).toEqual({ input_tokens: 200, output_tokens: 300, cache_read_input_tokens: 1000, cache_creation_input_tokens: 0 });
    const sent = openai.lastChatBody();
    expect(sent).toEqual({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
      ],
      max_tokens: 64,
      stop: ['END'],
      temperature: 0.5,
      top_p: 0.9,
      user: 'user-42',
    });
    expect(response.headers.get('x-gateway-warnings')).toBe('top_k is not supported by openai and was dropped');
    await vi.waitFor(() => expect(recordOf(message.id)).toMatchObject({ route: 'messages', provider: 'openai', cached_tokens: 1000, prompt_tokens: 1200 }));
  });

  it('streams a tool call as tool_use, and the tool_result goes back as a tool message', async () => {
    openai.enqueueChat({ content: null, tool_calls: [{ id: 'call_abc', name: 'get_weather', arguments: '{"city":"Paris"}' }], finish_reason: 'tool_calls' });
    const final = await client.messages
      .stream({ model: 'gpt', max_tokens: 64, tools: [weather], tool_choice: { type: 'auto' }, messages: [{ role: 'user', content: 'Weather in Paris?' }] })
      .finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content).toEqual([{ type: 'tool_use', id: 'call_abc', name: 'get_weather', input: { city: 'Paris' } }]);
    expect(final.usage).toMatchObject({ input_tokens: 200, output_tokens: 300, cache_read_input_tokens: 1000 });
    expect(openai.lastChatBody()).toMatchObject({
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: weather.input_schema } }],
      tool_choice: 'auto',
      stream: true,
    });

    openai.enqueueChat({ content: 'It is sunny in Paris.' });
    const next = await client.messages.create({
      model: 'gpt',
      max_tokens: 64,
      tools: [weather],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: final.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_abc', content: 'Sunny', is_error: true }, { type: 'text', text: 'Thanks' }] },
      ],
    });
    expect(next.content).toEqual([{ type: 'text', text: 'It is sunny in Paris.' }]);
    expect(openai.lastChatBody().messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_abc', content: 'Sunny' },
      { role: 'user', content: [{ type: 'text', text: 'Thanks' }] },
    ]);
  });
});

describe('Messages API over Anthropic', () => {
  it('passes cache_control and thinking through; cache reads and writes come back and are billed at their price', async () => {
    anthropic.enqueueMessage({ usage: { input_tokens: 50, cache_read_input_tokens: 2000, cache_creation_input_tokens: 300, output_tokens: 20 } });
    const message = await client.messages.create({
      model: 'claude',
      max_tokens: 4000,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      system: [
        { type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Project rules.' },
      ],
      tools: [{ ...weather, cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello', cache_control: { type: 'ephemeral' } }] }],
      temperature: 1,
    } as Anthropic.MessageCreateParamsNonStreaming);
    expect(message.usage).toEqual({ input_tokens: 50, output_tokens: 20, cache_read_input_tokens: 2000, cache_creation_input_tokens: 300 });
    const sent = anthropic.lastMessageBody();
    expect(sent).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 4000,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello', cache_control: { type: 'ephemeral' } }] }],
      system: [
        { type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Project rules.' },
      ],
      thinking: { type: 'enabled', budget_tokens: 2048 },
      tools: [{ name: 'get_weather', description: 'The weather in a city', input_schema: weather.input_schema, cache_control: { type: 'ephemeral', ttl: '1h' } }],
    });
    expect(anthropic.requests.at(-1)!.headers['x-api-key']).toBe('test-key');
    await vi.waitFor(() => expect(recordOf(message.id)).toBeTruthy());
    // 350 uncached input tokens at $3/M, 2,000 cache reads at $0.30/M, 20 output tokens at $15/M.
    expect(recordOf(message.id)).toMatchObject({
      route: 'messages',
      provider: 'anthropic',
      prompt_tokens: 2350,
      cached_tokens: 2000,
      completion_tokens: 20,
      cost_nano_usd: 350 * 3000 + 2000 * 300 + 20 * 15000,
    });
  });

  it('streams stop_sequence with the sequence that matched, usage in message_delta', async () => {
    anthropic.enqueueMessage({ stop_reason: 'stop_sequence', stop_sequence: 'END', usage: { input_tokens: 12, output_tokens: 7, cache_read_input_tokens: 100 } });
    const stream = client.messages.stream({ model: 'claude', max_tokens: 100, stop_sequences: ['END'], messages: [{ role: 'user', content: 'Count' }] });
    const final = await stream.finalMessage();
    expect(final).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'END', model: 'claude-haiku-4-5' });
    expect(final.usage).toMatchObject({ input_tokens: 12, output_tokens: 7, cache_read_input_tokens: 100, cache_creation_input_tokens: 0 });
    expect(anthropic.lastMessageBody()).toMatchObject({ stop_sequences: ['END'], stream: true });
  });

  it('round-trips tool_use and tool_result blocks: ids, is_error and a breakpoint on the result reach the API', async () => {
    anthropic.enqueueMessage({ content: [{ type: 'text', text: 'Let me look.' }, { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Rome' } }], stop_reason: 'tool_use' });
    const first = await client.messages.stream({ model: 'claude', max_tokens: 100, tools: [weather], messages: [{ role: 'user', content: 'Weather in Rome?' }] }).finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content).toEqual([
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Rome' } },
    ]);

    anthropic.enqueueMessage({ content: [{ type: 'text', text: 'It rains.' }] });
    await client.messages.create({
      model: 'claude',
      max_tokens: 100,
      tools: [weather],
      messages: [
        { role: 'user', content: 'Weather in Rome?' },
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_01A', content: [{ type: 'text', text: 'timeout' }], is_error: true, cache_control: { type: 'ephemeral' } }],
        },
      ],
    });
    expect(anthropic.lastMessageBody().messages).toEqual([
      { role: 'user', content: 'Weather in Rome?' },
      { role: 'assistant', content: [{ type: 'text', text: 'Let me look.' }, { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Rome' } }] },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'toolu_01A', content: [{ type: 'text', text: 'timeout', cache_control: { type: 'ephemeral' } }], is_error: true }],
      },
    ]);
  });

  it('leaves thinking out of a request that continues a tool-use turn, with a warning, so the API does not refuse it', async () => {
    anthropic.enqueueMessage({ content: [{ type: 'text', text: 'Done.' }] });
    const { response } = await client.messages
      .create({
        model: 'claude',
        max_tokens: 4000,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        tools: [weather],
        messages: [
          { role: 'user', content: 'Weather in Rome?' },
          { role: 'assistant', content: [{ type: 'thinking', thinking: 'I should call the tool.', signature: 'sig' }, { type: 'tool_use', id: 'toolu_02', name: 'get_weather', input: { city: 'Rome' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_02', content: 'Rain' }] },
        ],
      })
      .withResponse();
    expect(anthropic.lastMessageBody().thinking).toBeUndefined();
    expect(response.headers.get('x-gateway-warnings')).toContain('thinking was left out');
  });

  it('sends base64 and url images as image blocks', async () => {
    anthropic.enqueueMessage({});
    await client.messages.create({
      model: 'claude',
      max_tokens: 10,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
            { type: 'text', text: 'Describe' },
          ],
        },
      ],
    });
    expect(anthropic.lastMessageBody().messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
          { type: 'text', text: 'Describe' },
        ],
      },
    ]);
  });
});

describe('Messages API over Gemini', () => {
  it('answers text with top_k as topK and counts tokens without calling Gemini', async () => {
    gemini.answer(textResponse('Ciao!'));
    const message = await client.messages.create({ model: 'gem', max_tokens: 32, top_k: 5, messages: [{ role: 'user', content: 'Hi' }] } as Anthropic.MessageCreateParamsNonStreaming);
    expect(message).toMatchObject({ content: [{ type: 'text', text: 'Ciao!' }], stop_reason: 'end_turn' });
    expect(message.usage).toMatchObject({ input_tokens: 12, output_tokens: 9 });
    const call = gemini.calls().at(-1)!;
    expect((call.body as { generationConfig: unknown }).generationConfig).toMatchObject({ topK: 5, maxOutputTokens: 32 });

    const calls = gemini.calls().length;
    const counted = await client.messages.countTokens({ model: 'gem', messages: [{ role: 'user', content: 'Hi' }] });
    expect(counted.input_tokens).toBeGreaterThan(0);
    expect(gemini.calls()).toHaveLength(calls);
  });

  it('streams a function call as tool_use with stop_reason tool_use', async () => {
    gemini.answer(
      textResponse('', {
        candidates: [{ index: 0, content: { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Bern' } } }] }, finishReason: 'STOP' }],
      }),
    );
    const final = await client.messages.stream({ model: 'gem', max_tokens: 32, tools: [weather], messages: [{ role: 'user', content: 'Weather in Bern?' }] }).finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const use = final.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use')!;
    expect(use).toMatchObject({ name: 'get_weather', input: { city: 'Bern' } });
    expect(use.id).toBeTruthy();
  });
});
