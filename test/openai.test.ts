/**
 * The gateway in front of a wire-faithful fake OpenAI, driven by the official `openai` SDK as
 * an application would: what the client gets back, and what the fake received.
 */
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEXT, startFakeOpenAI, type FakeOpenAI } from './fakes/openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { apiErrorOf } from './helpers/http.js';

const KEY = 'sk-fake-openai';
const DATED_MODEL = 'gpt-4o-mini-2024-07-18';

let fake: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: KEY });
  gw = await startGateway({
    // Direct `openai/<model>` names are off by default on hosted vendors; these tests reach gpt-4o models directly.
    providers: { openai: { type: 'openai', api_key: KEY, base_url: `${fake.url}/v1`, direct: ['gpt-4o*'] } },
    // No retries: each test scripts exactly one upstream answer.
    models: [{ name: 'gpt-4o-mini', retries: 0, deployments: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
  });
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
});

const hello: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Say héllo 🌍' }];

async function collect(stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>): Promise<OpenAI.Chat.ChatCompletionChunk[]> {
  const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

function textOf(chunks: OpenAI.Chat.ChatCompletionChunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
}

async function postRaw(path: string, body: unknown): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('chat through the OpenAI adapter', () => {
  it('answers a plain chat and sends the request unchanged with the configured key', async () => {
    fake.enqueueChat({ model: DATED_MODEL });
    const res = await gw.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe(DATED_MODEL);
    expect(res.choices).toHaveLength(1);
    expect(res.choices[0]?.message).toMatchObject({ role: 'assistant', content: DEFAULT_TEXT });
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ prompt_tokens: 1200, completion_tokens: 300, total_tokens: 1500, prompt_tokens_details: { cached_tokens: 1000 } });

    const sent = fake.lastChatRequest();
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.body).toEqual({ model: 'gpt-4o-mini', messages: hello });
  });

  it('sets the gateway headers; the cost is tokens × the bundled gpt-4o-mini price', async () => {
    fake.enqueueChat({ model: DATED_MODEL });
    const { data, response } = await gw.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }).withResponse();
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(response.headers.get('x-gateway-provider')).toBe('openai');
    expect(response.headers.get('x-gateway-model')).toBe(DATED_MODEL);
    expect(response.headers.get('x-gateway-attempts')).toBe('1');
    const usage = data.usage!;
    const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
    // USD per 1M tokens: input 0.15, cached input 0.075, output 0.60.
    const expected = ((usage.prompt_tokens - cached) * 0.15 + cached * 0.075 + usage.completion_tokens * 0.6) / 1e6;
    expect(Number(response.headers.get('x-gateway-cost-usd'))).toBeCloseTo(expected, 12);
    expect(expected).toBeCloseTo(0.000285, 12);
  });

  it('keeps a client-supplied x-request-id', async () => {
    fake.enqueueChat({});
    const { response } = await gw.client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: hello }, { headers: { 'x-request-id': 'trace-42.a' } })
      .withResponse();
    expect(response.headers.get('x-request-id')).toBe('trace-42.a');
  });

  it('reaches a provider model directly as provider/model', async () => {
    fake.enqueueChat({});
    const { data, response } = await gw.client.chat.completions.create({ model: 'openai/gpt-4o', messages: hello }).withResponse();
    expect(fake.lastChatBody().model).toBe('gpt-4o');
    expect(data.model).toBe('gpt-4o');
    expect(response.headers.get('x-gateway-provider')).toBe('openai');
    expect(response.headers.get('x-gateway-model')).toBe('gpt-4o');
  });

  it('refuses a direct name its provider does not allow as model_not_found, before any upstream call', async () => {
    const before = fake.requests.length;
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'openai/o1-pro', messages: hello }));
    expect(err.status).toBe(404);
    expect(err).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(fake.requests.length).toBe(before);
  });
});

describe('streaming through the OpenAI adapter', () => {
  it('streams the same text as the plain answer, multi-byte characters intact across odd cuts', async () => {
    fake.enqueueChat({}, { cut: [3, 1, 17, 2, 5, 11] });
    const chunks = await collect(await gw.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello, stream: true }));
    fake.enqueueChat({});
    const plain = await gw.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    expect(textOf(chunks)).toBe(DEFAULT_TEXT);
    expect(textOf(chunks)).toBe(plain.choices[0]?.message.content);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
  });

  it('with include_usage the last chunk has no choices and carries usage', async () => {
    fake.enqueueChat({ usage: { prompt_tokens: 40, completion_tokens: 12, cached_tokens: 8 } });
    const chunks = await collect(
      await gw.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello, stream: true, stream_options: { include_usage: true } }),
    );
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 12, total_tokens: 52, prompt_tokens_details: { cached_tokens: 8 } });
    expect(chunks.slice(0, -1).every((c) => !c.usage)).toBe(true);
  });

  it('without include_usage the client gets no usage chunk, yet the gateway asked upstream for usage', async () => {
    fake.enqueueChat({});
    const chunks = await collect(await gw.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello, stream: true }));
    expect(chunks.every((c) => !c.usage && c.choices.length > 0)).toBe(true);
    expect(fake.lastChatBody()).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('writes plain data: frames ending with [DONE] and the gateway headers', async () => {
    fake.enqueueChat({ model: DATED_MODEL });
    const res = await postRaw('/v1/chat/completions', { model: 'gpt-4o-mini', messages: hello, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-gateway-provider')).toBe('openai');
    expect(res.headers.get('x-gateway-model')).toBe(DATED_MODEL);
    expect(res.headers.get('x-gateway-attempts')).toBe('1');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(res.text.endsWith('data: [DONE]\n\n')).toBe(true);
    const frames = res.text.split('\n\n').filter(Boolean);
    expect(frames.every((f) => f.startsWith('data: '))).toBe(true);
  });
});

const weatherTool: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { enum: ['c', 'f'] } }, required: ['city'] },
  },
};
const toolArgs = '{"city":"Zürich","unit":"c"}';

describe('tools through the OpenAI adapter', () => {
  it('passes tools and tool_choice through and returns tool_calls', async () => {
    fake.enqueueChat({ tool_calls: [{ id: 'call_abc123', name: 'get_weather', arguments: toolArgs }] });
    const res = await gw.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Zürich?' }],
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
    });
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([{ id: 'call_abc123', type: 'function', function: { name: 'get_weather', arguments: toolArgs } }]);
    expect(fake.lastChatBody()).toMatchObject({
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
    });
  });

  it('streams tool calls: the first delta names the call, fragments reassemble to the arguments', async () => {
    fake.enqueueChat({
      tool_calls: [
        { id: 'call_1', name: 'get_weather', arguments: toolArgs },
        { id: 'call_2', name: 'get_weather', arguments: '{"city":"Paris"}' },
      ],
    });
    const chunks = await collect(
      await gw.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Weather?' }], tools: [weatherTool], stream: true }),
    );
    const calls: Array<{ id?: string; name?: string; args: string }> = [];
    for (const chunk of chunks) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        const call = (calls[delta.index] ??= { args: '' });
        if (delta.id) {
          expect(call.id).toBeUndefined();
          call.id = delta.id;
          expect(delta.type).toBe('function');
        }
        if (delta.function?.name) call.name = delta.function.name;
        call.args += delta.function?.arguments ?? '';
      }
    }
    expect(calls).toEqual([
      { id: 'call_1', name: 'get_weather', args: toolArgs },
      { id: 'call_2', name: 'get_weather', args: '{"city":"Paris"}' },
    ]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('sends the tool-result round trip upstream as the client wrote it', async () => {
    fake.enqueueChat({ content: 'It is 21 °C in Zürich.' });
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Weather in Zürich?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc123', type: 'function', function: { name: 'get_weather', arguments: toolArgs } }] },
      { role: 'tool', tool_call_id: 'call_abc123', content: '{"temp":21}' },
    ];
    const res = await gw.client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: [weatherTool] });
    expect(res.choices[0]?.message.content).toBe('It is 21 °C in Zürich.');
    expect(fake.lastChatBody().messages).toEqual(messages);
  });
});

describe('request fields through the OpenAI adapter', () => {
  it('passes image_url parts through unchanged', async () => {
    fake.enqueueChat({});
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: 'https://example.com/dog.png', detail: 'low' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
    ];
    await gw.client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(fake.lastChatBody().messages).toEqual(messages);
  });

  it('passes system and developer prompts through in place', async () => {
    fake.enqueueChat({});
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are terse.' },
      { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
      { role: 'user', content: 'How far is the moon?' },
    ];
    await gw.client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(fake.lastChatBody().messages).toEqual(messages);
  });

  it('passes response_format json_schema through', async () => {
    fake.enqueueChat({ content: '{"answer":"42"}' });
    const responseFormat = {
      type: 'json_schema' as const,
      json_schema: { name: 'answer', strict: true, schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false } },
    };
    const res = await gw.client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello, response_format: responseFormat });
    expect(JSON.parse(res.choices[0]?.message.content ?? '')).toEqual({ answer: '42' });
    expect(fake.lastChatBody().response_format).toEqual(responseFormat);
  });

  it('passes stop, temperature, top_p, max_completion_tokens, user and n through; n choices come back', async () => {
    fake.enqueueChat({});
    const res = await gw.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: hello,
      stop: ['\n\n', 'END'],
      temperature: 0.3,
      top_p: 0.9,
      max_completion_tokens: 64,
      user: 'user-7',
      n: 2,
      seed: 11,
    });
    expect(fake.lastChatBody()).toEqual({
      model: 'gpt-4o-mini',
      messages: hello,
      stop: ['\n\n', 'END'],
      temperature: 0.3,
      top_p: 0.9,
      max_completion_tokens: 64,
      user: 'user-7',
      n: 2,
      seed: 11,
    });
    expect(res.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(res.choices.every((c) => c.message.content === DEFAULT_TEXT)).toBe(true);
  });

  it('drops fields sent as null instead of sending null upstream', async () => {
    fake.enqueueChat({});
    const res = await postRaw('/v1/chat/completions', { model: 'gpt-4o-mini', messages: hello, temperature: null, stop: null });
    expect(res.status).toBe(200);
    expect(fake.lastChatBody()).toEqual({ model: 'gpt-4o-mini', messages: hello });
  });
});

describe('the provider key', () => {
  it('never appears in a response: plain, streamed, or an upstream 401 that echoes it', async () => {
    fake.enqueueChat({});
    const plain = await postRaw('/v1/chat/completions', { model: 'gpt-4o-mini', messages: hello });
    fake.enqueueChat({});
    const streamed = await postRaw('/v1/chat/completions', { model: 'gpt-4o-mini', messages: hello, stream: true });
    fake.enqueueError(401, { message: `Incorrect API key provided: ${KEY}.` });
    const refused = await postRaw('/v1/chat/completions', { model: 'gpt-4o-mini', messages: hello });
    expect([plain.status, streamed.status, refused.status]).toEqual([200, 200, 502]);
    for (const res of [plain, streamed, refused]) {
      expect(res.text).not.toContain(KEY);
      for (const [name, value] of res.headers) expect(`${name}: ${value}`).not.toContain(KEY);
    }
  });
});
