/**
 * `POST /v1/messages` and `/v1/messages/count_tokens` on the offline mock provider, driven by the
 * official `@anthropic-ai/sdk` as an agent would: whole answers, streams, a tool round trip,
 * token counts, and the ledger record of each call.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { anthropicClient, recordOfMessage, weatherTool } from './helpers/anthropic-client.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const ledger = createMemoryLedger();
let gw: TestGateway;
let client: Anthropic;

beforeAll(async () => {
  gw = await startGateway(
    {
      providers: { demo: { type: 'mock' } },
      models: [
        { name: 'smart', deployments: [{ provider: 'demo', model: 'mock-1' }] },
        { name: 'cached', cache: { ttl_s: 60 }, deployments: [{ provider: 'demo', model: 'mock-1' }] },
      ],
    },
    { ledger },
  );
  client = anthropicClient(gw.url);
});

afterAll(async () => {
  await gw?.close();
});

const weather = weatherTool;
const recordOf = (id: string) => recordOfMessage(ledger.records(), id);

describe('Messages API on the mock provider', () => {
  it('answers a message with text, a msg_ id from the call, end_turn and usage; the ledger records route messages', async () => {
    const { data: message, response } = await client.messages
      .create({ model: 'smart', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello, Claude!' }] })
      .withResponse();
    expect(message).toMatchObject({ type: 'message', role: 'assistant', model: 'mock-1', stop_reason: 'end_turn', stop_sequence: null });
    expect(message.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(message.content).toHaveLength(1);
    expect(message.content[0]).toMatchObject({ type: 'text' });
    expect((message.content[0] as Anthropic.TextBlock).text).toContain('Hello, Claude!');
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(message.usage).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    expect(response.headers.get('x-gateway-provider')).toBe('demo');
    await vi.waitFor(() => expect(recordOf(message.id)).toMatchObject({ route: 'messages', model: 'smart', status: 200 }));
    const record = recordOf(message.id)!;
    expect(record.prompt_tokens).toBe(message.usage.input_tokens);
    expect(record.completion_tokens).toBe(message.usage.output_tokens);
  });

  it('takes system as text blocks and content as blocks, base64 and url images included', async () => {
    const message = await client.messages.create({
      model: 'smart',
      max_tokens: 50,
      system: [{ type: 'text', text: 'You are a tester.', cache_control: { type: 'ephemeral' } }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
            { type: 'text', text: 'What is in these pictures?' },
          ],
        },
      ],
    });
    expect(message.stop_reason).toBe('end_turn');
    expect((message.content[0] as Anthropic.TextBlock).text).toContain('What is in these pictures?');
  });

  it('streams text as Anthropic events, usage before message_stop, and finalMessage() equals the stream', async () => {
    const stream = client.messages.stream({ model: 'smart', max_tokens: 100, messages: [{ role: 'user', content: 'Stream me a greeting' }] });
    const kinds: string[] = [];
    let text = '';
    for await (const event of stream) {
      kinds.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    const final = await stream.finalMessage();
    expect(kinds[0]).toBe('message_start');
    expect(kinds[1]).toBe('content_block_start');
    expect(kinds.at(-3)).toBe('content_block_stop');
    expect(kinds.at(-2)).toBe('message_delta');
    expect(kinds.at(-1)).toBe('message_stop');
    expect(final.content).toEqual([{ type: 'text', text }]);
    expect(text).toContain('Stream me a greeting');
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.input_tokens).toBeGreaterThan(0);
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    expect(final.id).toMatch(/^msg_/);
    await vi.waitFor(() => expect(recordOf(final.id)).toMatchObject({ route: 'messages', status: 200 }));
    expect(recordOf(final.id)!.prompt_tokens).toBe(final.usage.input_tokens);
  });

  it('runs a tool round trip: tool_use with parsed input, then tool_result (blocks, is_error) answered with text', async () => {
    const first = await client.messages.create({
      model: 'smart',
      max_tokens: 100,
      tools: [weather],
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use')!;
    expect(use).toMatchObject({ type: 'tool_use', name: 'get_weather' });
    expect(typeof use.input).toBe('object');
    expect(use.input).toHaveProperty('city');

    const second = await client.messages.create({
      model: 'smart',
      max_tokens: 100,
      tools: [weather],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: use.id, content: [{ type: 'text', text: 'Sunny, 21 C' }], is_error: false }],
        },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content[0]?.type).toBe('text');
  });

  it('streams a tool call as tool_use blocks with input_json_delta; finalMessage() has the parsed input', async () => {
    const stream = client.messages.stream({
      model: 'smart',
      max_tokens: 100,
      tools: [weather],
      tool_choice: { type: 'tool', name: 'get_weather' },
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
    });
    const deltas: string[] = [];
    stream.on('streamEvent', (event) => {
      if (event.type === 'content_block_delta') deltas.push(event.delta.type);
    });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const use = final.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use')!;
    expect(use.name).toBe('get_weather');
    expect(use.id).toBeTruthy();
    expect(use.input).toHaveProperty('city');
    expect(deltas).toContain('input_json_delta');

    // The answer goes back as tool_result content given as a plain string.
    const next = await client.messages.create({
      model: 'smart',
      max_tokens: 100,
      tools: [weather],
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: final.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'lookup failed', is_error: true }] },
      ],
    });
    expect(next.stop_reason).toBe('end_turn');
  });

  it('answers a repeated deterministic request from the response cache, streamed in Anthropic events', async () => {
    const params = { model: 'cached', max_tokens: 50, temperature: 0, messages: [{ role: 'user', content: 'Cache me' }] } as Anthropic.MessageCreateParamsNonStreaming;
    const live = await client.messages.create(params).withResponse();
    expect(live.response.headers.get('x-gateway-cache')).toBe('miss');
    const stream = client.messages.stream(params);
    const replayed = await stream.finalMessage();
    expect((await stream.withResponse()).response.headers.get('x-gateway-cache')).toBe('hit');
    expect(replayed.content).toEqual(live.data.content);
    expect(replayed.stop_reason).toBe('end_turn');
    expect(replayed.usage.output_tokens).toBe(live.data.usage.output_tokens);
  });

  it('counts tokens with the gateway tokenizer: more for more text, tools counted too', async () => {
    const short = await client.messages.countTokens({ model: 'smart', messages: [{ role: 'user', content: 'Hi' }] });
    const long = await client.messages.countTokens({
      model: 'smart',
      system: 'You are a careful assistant who explains everything.',
      messages: [{ role: 'user', content: 'Hi there, please tell me about the history of Paris in detail.' }],
    });
    const withTools = await client.messages.countTokens({ model: 'smart', tools: [weather], messages: [{ role: 'user', content: 'Hi' }] });
    expect(short.input_tokens).toBeGreaterThan(0);
    expect(long.input_tokens).toBeGreaterThan(short.input_tokens);
    expect(withTools.input_tokens).toBeGreaterThan(short.input_tokens);
  });
});
