import { describe, expect, it } from 'vitest';
import {
  anthropicWarnings,
  createAnthropicAdapter,
  DEFAULT_MAX_TOKENS,
  fromAnthropicResponse,
  mapAnthropicFinishReason,
  mapAnthropicStream,
  toAnthropicRequest,
  type AnthropicMessage,
  type AnthropicStreamEvent,
} from '../providers/anthropic/index.js';
import { GatewayError } from '../src/core/errors.js';
import type { ChatChunk, ChatRequest } from '../src/core/types.js';
import { buildMessage, findRequestFault, messageEvents } from './fakes/anthropic.js';

const model = 'claude-3-5-haiku-latest';

function request(extra: Partial<ChatRequest>): ChatRequest {
  return { model, messages: [{ role: 'user', content: 'Hi' }], ...extra };
}

async function collect(events: Iterable<AnthropicStreamEvent>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const chunk of mapAnthropicStream(events)) out.push(chunk);
  return out;
}

/** The fake's real-format event sequence, as the SDK hands it over (no `event:` names). */
function eventsOf(message: AnthropicMessage | ReturnType<typeof buildMessage>): AnthropicStreamEvent[] {
  return messageEvents(message as ReturnType<typeof buildMessage>).map((e) => e.data as AnthropicStreamEvent);
}

describe('toAnthropicRequest', () => {
  it('moves system and developer messages to the top-level system and defaults max_tokens', () => {
    const body = toAnthropicRequest(
      request({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
          { role: 'user', content: 'Hi' },
        ],
      }),
    );
    expect(body).toEqual({ model, max_tokens: DEFAULT_MAX_TOKENS, system: 'Be brief.\n\nAnswer in French.', messages: [{ role: 'user', content: 'Hi' }] });
    expect(findRequestFault(body as unknown as Record<string, unknown>)).toBeUndefined();
  });

  it('prefers max_completion_tokens over max_tokens', () => {
    expect(toAnthropicRequest(request({ max_tokens: 50 })).max_tokens).toBe(50);
    expect(toAnthropicRequest(request({ max_tokens: 50, max_completion_tokens: 70 })).max_tokens).toBe(70);
  });

  it('maps stop to stop_sequences, user to metadata.user_id', () => {
    expect(toAnthropicRequest(request({ stop: 'END', user: 'u-42' }))).toMatchObject({ stop_sequences: ['END'], metadata: { user_id: 'u-42' } });
    expect(toAnthropicRequest(request({ stop: ['a', 'b'] })).stop_sequences).toEqual(['a', 'b']);
  });

  it('leaves out sampling fields that API version 2026-10-21 rejects, and ones Anthropic lacks', () => {
    const body = toAnthropicRequest(request({ temperature: 1.7, top_p: 0.9, presence_penalty: 1, frequency_penalty: 1, seed: 7 }));
    expect(Object.keys(body).sort()).toEqual(['max_tokens', 'messages', 'model']);
  });

  it('refuses n > 1 with a 400 naming n', () => {
    expect(() => toAnthropicRequest(request({ n: 2 }))).toThrow(expect.objectContaining({ status: 400, code: 'invalid_request', param: 'n' }));
    expect(toAnthropicRequest(request({ n: 1 })).messages).toHaveLength(1);
  });

  it('maps image parts: data URLs to base64 sources, http URLs to url sources', () => {
    const body = toAnthropicRequest(
      request({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
            ],
          },
        ],
      }),
    );
    expect(body.messages[0]!.content).toEqual([
      { type: 'text', text: 'Compare' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('rejects a data URL of a type Anthropic cannot read', () => {
    const bad = request({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/tiff;base64,AAAA' } }] }] });
    expect(() => toAnthropicRequest(bad)).toThrow(GatewayError);
  });

  it('maps tools and every tool_choice form', () => {
    const tools: ChatRequest['tools'] = [
      { type: 'function', function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
      { type: 'function', function: { name: 'now' } },
    ];
    expect(toAnthropicRequest(request({ tools })).tools).toEqual([
      { name: 'get_weather', description: 'Weather by city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
      { name: 'now', input_schema: { type: 'object', properties: {} } },
    ]);
    const choice = (extra: Partial<ChatRequest>) => toAnthropicRequest(request({ tools, ...extra })).tool_choice;
    expect(choice({})).toBeUndefined();
    expect(choice({ tool_choice: 'auto' })).toEqual({ type: 'auto' });
    expect(choice({ tool_choice: 'required' })).toEqual({ type: 'any' });
    expect(choice({ tool_choice: 'none' })).toEqual({ type: 'none' });
    expect(choice({ tool_choice: { type: 'function', function: { name: 'now' } } })).toEqual({ type: 'tool', name: 'now' });
    expect(choice({ parallel_tool_calls: false })).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    // tool_choice without tools would be a 400 upstream.
    expect(toAnthropicRequest(request({ tool_choice: 'auto' })).tool_choice).toBeUndefined();
  });

  it('turns tool calls and tool results into tool_use and tool_result blocks, results merged into one user turn', () => {
    const body = toAnthropicRequest(
      request({
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
          { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '24°C' }] },
          { role: 'user', content: 'Which is warmer?' },
        ],
      }),
    );
    expect(body.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: '24°C' },
          { type: 'text', text: 'Which is warmer?' },
        ],
      },
    ]);
    expect(findRequestFault(body as unknown as Record<string, unknown>)).toBeUndefined();
  });

  it('keeps strict alternation: merges same-role turns and starts with a user turn', () => {
    const body = toAnthropicRequest(
      request({
        messages: [
          { role: 'assistant', content: 'Welcome!' },
          { role: 'user', content: 'One' },
          { role: 'user', content: 'Two' },
          { role: 'assistant', content: '' }, // empty: dropped, Anthropic rejects empty text blocks
          { role: 'assistant', content: 'Three' },
        ],
      }),
    );
    expect(body.messages).toEqual([
      { role: 'user', content: '.' },
      { role: 'assistant', content: 'Welcome!' },
      { role: 'user', content: [{ type: 'text', text: 'One' }, { type: 'text', text: 'Two' }] },
      { role: 'assistant', content: 'Three' },
    ]);
    expect(findRequestFault(body as unknown as Record<string, unknown>)).toBeUndefined();
  });

  it('rejects tool call arguments that are not JSON', () => {
    const bad = request({
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{oops' } }] },
      ],
    });
    expect(() => toAnthropicRequest(bad)).toThrow(expect.objectContaining({ status: 400, param: 'messages' }));
  });

  it('emulates response_format with an instruction appended to system', () => {
    const plain = toAnthropicRequest(request({ response_format: { type: 'json_object' } }));
    expect(plain.system).toMatch(/^Respond with one valid JSON value and nothing else/);
    const schema = { type: 'object', properties: { mood: { type: 'string' } }, required: ['mood'] };
    const withSchema = toAnthropicRequest(
      request({ messages: [{ role: 'system', content: 'Be kind.' }, { role: 'user', content: 'Hi' }], response_format: { type: 'json_schema', json_schema: { name: 'm', schema } } }),
    );
    expect(withSchema.system).toContain('Be kind.\n\nRespond with one valid JSON value');
    expect(withSchema.system).toContain(JSON.stringify(schema));
    expect(toAnthropicRequest(request({ response_format: { type: 'text' } })).system).toBeUndefined();
  });
});

describe('fromAnthropicResponse', () => {
  it('maps text, usage with cache tokens and the stop reason', () => {
    const res = fromAnthropicResponse(
      {
        id: 'msg_1',
        model,
        content: [{ type: 'thinking' }, { type: 'text', text: 'Hello ' }, { type: 'text', text: 'there' }],
        stop_reason: 'max_tokens',
        usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 },
      },
      1_700_000_000_500,
    );
    expect(res).toEqual({
      id: 'msg_1',
      created: 1_700_000_000,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there' }, finishReason: 'length' }],
      usage: { promptTokens: 130, completionTokens: 5, cachedTokens: 100, cacheWriteTokens: 20 },
    });
  });

  it('maps tool_use blocks to tool_calls with JSON arguments and null content', () => {
    const res = fromAnthropicResponse({
      id: 'msg_2',
      model,
      content: [{ type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: { city: 'Oslo' } }],
      stop_reason: 'tool_use',
      usage: { input_tokens: 3, output_tokens: 4 },
    });
    expect(res.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      finishReason: 'tool_calls',
    });
  });
});

describe('mapAnthropicFinishReason', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    [null, 'stop'],
  ] as const)('%s → %s', (reason, expected) => {
    expect(mapAnthropicFinishReason(reason)).toBe(expected);
  });
});

describe('mapAnthropicStream', () => {
  it('maps a text stream: meta, deltas, finish, then usage summed from message_start and message_delta', async () => {
    const message = buildMessage({ content: [{ type: 'text', text: 'Hello world, how are you?' }], usage: { input_tokens: 8, output_tokens: 6, cache_read_input_tokens: 30, cache_creation_input_tokens: 2 } }, model);
    const chunks = await collect(eventsOf(message));
    expect(chunks[0]).toEqual({ type: 'meta', id: message.id, model });
    const text = chunks.flatMap((c) => (c.type === 'text-delta' ? [c.text] : [])).join('');
    expect(text).toBe('Hello world, how are you?');
    expect(chunks.slice(-2)).toEqual([
      { type: 'finish', choice: 0, finishReason: 'stop' },
      { type: 'usage', usage: { promptTokens: 40, completionTokens: 6, cachedTokens: 30, cacheWriteTokens: 2 } },
    ]);
  });

  it('maps tool_use blocks to tool-call deltas indexed among the tool calls', async () => {
    const message = buildMessage(
      {
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_b', name: 'now', input: {} },
        ],
        stop_reason: 'tool_use',
      },
      model,
    );
    const chunks = await collect(eventsOf(message));
    const calls = chunks.filter((c) => c.type === 'tool-call-delta');
    expect(calls.filter((c) => c.id)).toEqual([
      { type: 'tool-call-delta', choice: 0, toolIndex: 0, id: 'toolu_a', name: 'get_weather', argumentsDelta: '' },
      { type: 'tool-call-delta', choice: 0, toolIndex: 1, id: 'toolu_b', name: 'now', argumentsDelta: '' },
    ]);
    const args = (index: number) => calls.filter((c) => c.toolIndex === index).map((c) => c.argumentsDelta).join('');
    expect(JSON.parse(args(0))).toEqual({ city: 'Paris' });
    expect(JSON.parse(args(1))).toEqual({});
    expect(chunks.find((c) => c.type === 'finish')).toEqual({ type: 'finish', choice: 0, finishReason: 'tool_calls' });
  });

  it('sends "{}" for a tool call whose input streamed no JSON at all', async () => {
    const chunks = await collect([
      { type: 'message_start', message: { id: 'msg_x', model, content: [], stop_reason: null, usage: { input_tokens: 1, output_tokens: 1 } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_z', name: 'now', input: {} } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 3 } },
      { type: 'message_stop' },
    ]);
    expect(chunks.filter((c) => c.type === 'tool-call-delta').map((c) => c.argumentsDelta)).toEqual(['', '{}']);
  });

  it('takes cumulative input counts from message_delta when it reports them', async () => {
    const chunks = await collect([
      { type: 'message_start', message: { id: 'msg_y', model, content: [], stop_reason: null, usage: { input_tokens: 5, output_tokens: 1, cache_read_input_tokens: null } } },
      { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 7, output_tokens: 4, cache_read_input_tokens: 10 } },
      { type: 'message_stop' },
    ]);
    expect(chunks.at(-1)).toEqual({ type: 'usage', usage: { promptTokens: 17, completionTokens: 4, cachedTokens: 10 } });
  });

  it('throws an in-stream overloaded error before any chunk when it comes right after message_start', async () => {
    const events = eventsOf(buildMessage({}, model)).slice(0, 1);
    const seen: ChatChunk[] = [];
    const run = async () => {
      for await (const chunk of mapAnthropicStream([...events, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }])) seen.push(chunk);
    };
    await expect(run()).rejects.toMatchObject({ kind: 'http', status: 529, isRetryable: true });
    expect(seen).toEqual([]);
  });

  it('treats a stream that ends without message_stop as an error, not a clean finish', async () => {
    const events = eventsOf(buildMessage({}, model));
    await expect(collect(events.slice(0, -2))).rejects.toMatchObject({ kind: 'protocol', isRetryable: true, message: expect.stringContaining('message_stop') });
  });
});

describe('anthropicWarnings', () => {
  it('names each sampling field toAnthropicRequest leaves out, one sentence each', () => {
    expect(anthropicWarnings(request({ temperature: 1.7, top_p: 0.9, presence_penalty: 1, frequency_penalty: 1, seed: 7 }))).toEqual([
      'temperature is not supported by anthropic and was dropped',
      'top_p is not supported by anthropic and was dropped',
      'presence_penalty is not supported by anthropic and was dropped',
      'frequency_penalty is not supported by anthropic and was dropped',
      'seed is not supported by anthropic and was dropped',
    ]);
    expect(anthropicWarnings(request({ temperature: 0 }))).toEqual(['temperature is not supported by anthropic and was dropped']);
  });

  it('names message names, image detail and strict modes, which have no Anthropic field', () => {
    const warnings = anthropicWarnings(
      request({
        messages: [
          { role: 'user', name: 'ada', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'low' } }] },
        ],
        tools: [{ type: 'function', function: { name: 'now', strict: true } }],
        response_format: { type: 'json_schema', json_schema: { name: 'm', strict: true, schema: { type: 'object' } } },
      }),
    );
    expect(warnings).toEqual([
      'message name is not supported by anthropic and was dropped',
      'image_url detail is not supported by anthropic and was dropped',
      'tool strict mode is not supported by anthropic and was dropped',
      'response_format strict mode is not supported by anthropic and was dropped',
    ]);
  });

  it('says nothing about what it maps, and shares one empty list when nothing is dropped', () => {
    const honoured = request({
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'auto' } }] }],
      max_tokens: 10,
      stop: 'END',
      user: 'u-1',
      n: 1,
      tools: [{ type: 'function', function: { name: 'now', strict: false } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
      response_format: { type: 'json_object' },
    });
    const first = anthropicWarnings(honoured);
    expect(first).toEqual([]);
    expect(anthropicWarnings(request({}))).toBe(first);
  });

  it('is what the adapter reports', async () => {
    const adapter = createAnthropicAdapter('claude-eu', { type: 'anthropic', api_key: 'test-key' });
    expect(adapter.warnings?.(request({ seed: 1 }))).toEqual(['seed is not supported by anthropic and was dropped']);
    await adapter.close?.();
  });
});
