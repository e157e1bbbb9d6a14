/**
 * The gateway in front of a wire-faithful fake Anthropic, driven by the official `openai` SDK
 * as an application would: every mapping is checked on what the fake received and on what
 * the client got back.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_TEXT, startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { apiErrorOf } from './helpers/http.js';
import { freePort } from './helpers/ports.js';

const upstreamModel = 'claude-3-5-haiku-latest';

function configFor(baseUrl: string, apiKey = 'test-key') {
  return {
    providers: { anthropic: { type: 'anthropic', api_key: apiKey, base_url: baseUrl } },
    // No retries: each test scripts exactly one upstream answer.
    models: [{ name: 'claude', retries: 0, deployments: [{ provider: 'anthropic', model: upstreamModel }] }],
  };
}

let fake: FakeAnthropic;
let gw: TestGateway;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  gw = await startGateway(configFor(fake.url));
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
});

const hello = [{ role: 'user' as const, content: 'Hello?' }];

describe('chat through the Anthropic adapter', () => {
  it('answers a plain chat in OpenAI shape and sends a valid Messages request', async () => {
    const res = await gw.client.chat.completions.create({ model: 'claude', messages: hello, temperature: 0.2 });
    expect(res.choices[0]?.message.content).toBe(DEFAULT_TEXT);
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.model).toBe(upstreamModel);
    expect(res.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 9, total_tokens: 30 });

    const sent = fake.requests.at(-1)!;
    expect(sent.headers['x-api-key']).toBe('test-key');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.headers['anthropic-version']).toBeTruthy();
    // temperature is left out: API version 2026-10-21 would answer 400 (the fake does too).
    expect(sent.body).toEqual({ model: upstreamModel, max_tokens: 4096, messages: [{ role: 'user', content: 'Hello?' }] });
  });

  it('maps system, developer, stop, max_completion_tokens, user and JSON mode', async () => {
    await gw.client.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: 'Use metric units.' },
        { role: 'user', content: 'Give me a JSON object.' },
      ],
      stop: ['###'],
      max_completion_tokens: 300,
      user: 'user-7',
      response_format: { type: 'json_object' },
    });
    const body = fake.lastMessageBody();
    expect(body).toMatchObject({ max_tokens: 300, stop_sequences: ['###'], metadata: { user_id: 'user-7' } });
    expect(body.system).toMatch(/^You are terse\.\n\nUse metric units\.\n\nRespond with one valid JSON value/);
    expect(body.messages).toEqual([{ role: 'user', content: 'Give me a JSON object.' }]);
  });

  it('sends images: a data: URL as a base64 source, an http URL as a url source', async () => {
    await gw.client.chat.completions.create({
      model: 'claude',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==' } },
            { type: 'image_url', image_url: { url: 'https://example.com/dog.png' } },
          ],
        },
      ],
    });
    expect(fake.lastMessageBody().messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/dog.png' } },
        ],
      },
    ]);
  });

  it('refuses n > 1 with a 400 before calling upstream', async () => {
    const before = fake.requests.length;
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'claude', messages: hello, n: 2 }));
    expect(err.status).toBe(400);
    expect(err.param).toBe('n');
    expect(fake.requests.length).toBe(before);
  });
});

describe('streaming', () => {
  it('streams the same text as the JSON answer, split at awkward byte boundaries', async () => {
    const plain = await gw.client.chat.completions.create({ model: 'claude', messages: hello });
    fake.enqueueMessage({}, { cut: [3, 1, 2, 17, 5] }); // cuts land inside the multi-byte characters
    const stream = await gw.client.chat.completions.create({ model: 'claude', messages: hello, stream: true });
    let text = '';
    const finishes: string[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
    }
    expect(text).toBe(plain.choices[0]?.message.content);
    expect(finishes).toEqual(['stop']);
    expect(fake.lastMessageBody().stream).toBe(true);
  });

  it('ends with a usage chunk counting cache reads and writes as prompt tokens', async () => {
    fake.enqueueMessage({ usage: { input_tokens: 12, cache_read_input_tokens: 400, cache_creation_input_tokens: 30, output_tokens: 9 } });
    const stream = await gw.client.chat.completions.create({ model: 'claude', messages: hello, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 442, completion_tokens: 9, total_tokens: 451, prompt_tokens_details: { cached_tokens: 400 } });
  });
});

describe('tools', () => {
  const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
    {
      type: 'function',
      function: { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
    },
  ];

  it('maps tools and tool_choice, and tool_use blocks back to tool_calls', async () => {
    fake.enqueueMessage({ content: [{ type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Lyon' } }], stop_reason: 'tool_use' });
    const res = await gw.client.chat.completions.create({ model: 'claude', messages: hello, tools, tool_choice: 'required', parallel_tool_calls: false });
    expect(fake.lastMessageBody()).toMatchObject({
      tools: [{ name: 'get_weather', description: 'Current weather', input_schema: tools[0]!.type === 'function' ? tools[0]!.function.parameters : {} }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
    expect(res.choices[0]?.finish_reason).toBe('tool_calls');
    expect(res.choices[0]?.message.content).toBeNull();
    expect(res.choices[0]?.message.tool_calls).toEqual([{ id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } }]);
  });

  it('streams tool calls that the SDK reassembles from input_json_delta pieces', async () => {
    fake.enqueueMessage({
      content: [
        { type: 'text', text: 'Let me check both.' },
        { type: 'tool_use', id: 'toolu_01P', name: 'get_weather', input: { city: 'Paris', units: 'celsius' } },
        { type: 'tool_use', id: 'toolu_01R', name: 'get_weather', input: { city: 'Rome' } },
      ],
      stop_reason: 'tool_use',
    });
    const final = await gw.client.chat.completions.stream({ model: 'claude', messages: hello, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } }).finalChatCompletion();
    expect(fake.lastMessageBody().tool_choice).toEqual({ type: 'tool', name: 'get_weather' });
    const message = final.choices[0]!.message;
    expect(message.content).toBe('Let me check both.');
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    const calls = (message.tool_calls ?? []).map((c) => (c.type === 'function' ? { id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) } : c));
    expect(calls).toEqual([
      { id: 'toolu_01P', name: 'get_weather', args: { city: 'Paris', units: 'celsius' } },
      { id: 'toolu_01R', name: 'get_weather', args: { city: 'Rome' } },
    ]);
  });

  it('sends the tool-result round trip as tool_use blocks and one user turn of tool_result blocks', async () => {
    const res = await gw.client.chat.completions.create({
      model: 'claude',
      tools,
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'toolu_01P', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_01R', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_01P', content: '18°C, cloudy' },
        { role: 'tool', tool_call_id: 'toolu_01R', content: '24°C, sunny' },
      ],
    });
    // The fake answers 400 on broken alternation or unpaired tool results, as the API does.
    expect(res.choices[0]?.message.content).toBe(DEFAULT_TEXT);
    expect(fake.lastMessageBody().messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_01P', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_01R', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_01P', content: '18°C, cloudy' },
          { type: 'tool_result', tool_use_id: 'toolu_01R', content: '24°C, sunny' },
        ],
      },
    ]);
  });
});

describe('upstream errors', () => {
  it('keeps a 400 with the provider message', async () => {
    fake.enqueueError(400, 'invalid_request_error', 'messages.0.content: prompt is too long: 210000 tokens > 200000 maximum');
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'claude', messages: hello }));
    expect(err.status).toBe(400);
    expect(err.message).toContain('prompt is too long');
    expect(err.type).toBe('invalid_request_error');
  });

  it("turns a 401 (the gateway's key refused) into a 502", async () => {
    const wrongKey = await startGateway(configFor(fake.url, 'wrong-key'));
    try {
      const err = await apiErrorOf(wrongKey.client.chat.completions.create({ model: 'claude', messages: hello }));
      expect(err.status).toBe(502);
      expect(err.message).not.toContain('x-api-key');
    } finally {
      await wrongKey.close();
    }
  });

  it('keeps a 404 (unknown upstream model)', async () => {
    fake.enqueueError(404, 'not_found_error', `model: ${upstreamModel}`);
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'claude', messages: hello }));
    expect(err.status).toBe(404);
    expect(err.message).toContain(`model: ${upstreamModel}`);
  });

  it('keeps a 429 with its retry-after', async () => {
    fake.enqueueError(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', { 'retry-after': '17' });
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'claude', messages: hello }));
    expect(err.status).toBe(429);
    expect(err.headers?.get('retry-after')).toBe('17');
  });

  it.each([
    [500, 'api_error', 'Internal server error'],
    [529, 'overloaded_error', 'Overloaded'],
  ])('turns a %i into a 502', async (status, type, message) => {
    fake.enqueueError(status, type, message);
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'claude', messages: hello }));
    expect(err.status).toBe(502);
  });

  it('turns a refused connection into a 502', async () => {
    const nowhere = await startGateway(configFor(`http://127.0.0.1:${await freePort()}`));
    try {
      const err = await apiErrorOf(nowhere.client.chat.completions.create({ model: 'claude', messages: hello }));
      expect(err.status).toBe(502);
    } finally {
      await nowhere.close();
    }
  });

  it('fails over-able: an `event: error` right after message_start is an HTTP 502, not a stream', async () => {
    fake.enqueueStreamError({}, 1);
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'claude', messages: hello, stream: true }));
    expect(err.status).toBe(502);
  });

  it('ends a stream with an error event when Anthropic sends `event: error` mid-stream', async () => {
    fake.enqueueStreamError({}, 5); // message_start, block start, ping, two text deltas
    const stream = await gw.client.chat.completions.create({ model: 'claude', messages: hello, stream: true });
    let text = '';
    const run = async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    };
    const err = await apiErrorOf(run());
    // The provider's words stay in the gateway's logs; the client learns who failed and how.
    expect(err.message).toBe('anthropic failed with 529');
    expect(err.message).not.toContain('Overloaded');
    expect(text.length).toBeGreaterThan(0);
    expect(DEFAULT_TEXT.startsWith(text)).toBe(true);
  });

  it('never finishes cleanly when the upstream socket is destroyed mid-stream', async () => {
    fake.enqueueCutStream({}, 700);
    const stream = await gw.client.chat.completions.create({ model: 'claude', messages: hello, stream: true });
    let finished = false;
    const run = async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.finish_reason) finished = true;
    };
    await expect(run()).rejects.toThrow();
    expect(finished).toBe(false);
  });

  it('ends a stream with an error event when the upstream closes it cleanly before message_stop', async () => {
    fake.enqueueShortStream({}, 6);
    const stream = await gw.client.chat.completions.create({ model: 'claude', messages: hello, stream: true });
    const run = async () => {
      for await (const chunk of stream) expect(chunk.choices[0]?.finish_reason ?? null).toBeNull();
    };
    const err = await apiErrorOf(run());
    expect(err.message).toContain('message_stop');
  });
});

describe('client aborts', () => {
  // A fake and gateway of their own, so the fake's socket count is only this call's.
  async function isolated() {
    const ownFake = await startFakeAnthropic();
    const ownGw = await startGateway(configFor(ownFake.url));
    return { ownFake, ownGw, close: async () => (await ownGw.close(), await ownFake.close()) };
  }

  it('cancels the upstream stream when the client goes away', async () => {
    const { ownFake, ownGw, close } = await isolated();
    try {
      const upstreamClosed = ownFake.enqueueStall(4); // up to the first text delta, then silence
      const controller = new AbortController();
      const stream = await ownGw.client.chat.completions.create({ model: 'claude', messages: hello, stream: true }, { signal: controller.signal });
      const first = await stream[Symbol.asyncIterator]().next();
      expect(first.value?.choices[0]?.delta.content).toBeTruthy();
      controller.abort();
      await upstreamClosed;
      await vi.waitFor(() => expect(ownFake.openSockets()).toBe(0));
    } finally {
      await close();
    }
  });

  it('cancels a non-streamed call when the client goes away', async () => {
    const { ownFake, ownGw, close } = await isolated();
    try {
      const upstreamClosed = ownFake.enqueueStall();
      const controller = new AbortController();
      const call = ownGw.client.chat.completions.create({ model: 'claude', messages: hello }, { signal: controller.signal });
      await vi.waitFor(() => expect(ownFake.requests.length).toBe(1));
      controller.abort();
      await expect(call).rejects.toThrow();
      await upstreamClosed;
      await vi.waitFor(() => expect(ownFake.openSockets()).toBe(0));
    } finally {
      await close();
    }
  });
});
