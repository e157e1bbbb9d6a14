/**
 * The gateway in front of the fake Gemini API, driven by the official `openai` SDK: what an
 * application sees, and what reached Gemini on the wire.
 */
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGeminiAdapter } from '../providers/gemini/index.js';
import { UpstreamError } from '../src/core/upstream-error.js';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { DEFAULT_REPLY, fakeEmbedding, MODEL_VERSION, startFakeGemini, textResponse, toSseBody, toStreamEvents, type FakeGemini } from './fakes/gemini.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { apiErrorOf } from './helpers/http.js';
import { closedPort } from './helpers/ports.js';

type Ledger = ReturnType<typeof createMemoryLedger>;

function gatewayConfig(baseUrl: string, options: { apiKey?: string; retries?: number } = {}) {
  return {
    providers: { gemini: { type: 'gemini', api_key: options.apiKey ?? 'test-key', base_url: baseUrl } },
    models: [
      { name: 'gem', retries: options.retries ?? 0, deployments: [{ provider: 'gemini', model: 'gemini-2.0-flash' }] },
      { name: 'gem-embed', retries: 0, deployments: [{ provider: 'gemini', model: 'text-embedding-004' }] },
    ],
  };
}

const hello = [{ role: 'user' as const, content: 'Say hello' }];

let fake: FakeGemini;
let gw: TestGateway;
let ledger: Ledger;

beforeEach(async () => {
  fake = await startFakeGemini();
  ledger = createMemoryLedger();
  gw = await startGateway(gatewayConfig(fake.url), { ledger });
});

afterEach(async () => {
  await gw.close();
  await fake.close();
});

async function collectStream(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  return { chunks, text };
}

describe('chat completions through Gemini', () => {
  it('answers a plain chat and sends Gemini the mapped request with the key in x-goog-api-key', async () => {
    const { data, response } = await gw.client.chat.completions
      .create({
        model: 'gem',
        messages: [{ role: 'system', content: 'Be friendly.' }, ...hello],
        temperature: 0.2,
        top_p: 0.8,
        max_tokens: 100,
        stop: ['END'],
        user: 'u-7',
      })
      .withResponse();
    expect(data.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: DEFAULT_REPLY, refusal: null }, logprobs: null, finish_reason: 'stop' },
    ]);
    expect(data.model).toBe(MODEL_VERSION);
    expect(data.usage).toEqual({ prompt_tokens: 12, completion_tokens: 9, total_tokens: 21, prompt_tokens_details: { cached_tokens: 0 } });
    expect(response.headers.get('x-gateway-provider')).toBe('gemini');
    expect(response.headers.get('x-gateway-model')).toBe(MODEL_VERSION);

    const [call] = fake.calls();
    expect(call).toMatchObject({ model: 'models/gemini-2.0-flash', task: 'generateContent', url: '/v1beta/models/gemini-2.0-flash:generateContent' });
    expect(call!.headers['x-goog-api-key']).toBe('test-key');
    expect(call!.body).toMatchObject({
      contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }],
      systemInstruction: { parts: [{ text: 'Be friendly.' }] },
      generationConfig: { temperature: 0.2, topP: 0.8, maxOutputTokens: 100, stopSequences: ['END'] },
    });
    expect(JSON.stringify(call!.body)).not.toContain('u-7');
  });

  it('maps max_completion_tokens, n, and both JSON response formats', async () => {
    fake.answer({
      candidates: [
        { index: 0, content: { role: 'model', parts: [{ text: '{"a":1}' }] }, finishReason: 'STOP' },
        { index: 1, content: { role: 'model', parts: [{ text: '{"a":2}' }] }, finishReason: 'MAX_TOKENS' },
      ],
      usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 8, totalTokenCount: 13 },
    });
    const two = await gw.client.chat.completions.create({ model: 'gem', messages: hello, n: 2, max_completion_tokens: 30, response_format: { type: 'json_object' } });
    expect(two.choices.map((c) => [c.message.content, c.finish_reason])).toEqual([
      ['{"a":1}', 'stop'],
      ['{"a":2}', 'length'],
    ]);
    expect(fake.calls()[0]!.body).toMatchObject({ generationConfig: { candidateCount: 2, maxOutputTokens: 30, responseMimeType: 'application/json' } });

    await gw.client.chat.completions.create({
      model: 'gem',
      messages: hello,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'greeting', strict: true, schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false } },
      },
    });
    expect((fake.calls()[1]!.body as { generationConfig: unknown }).generationConfig).toEqual({
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    });
  });

  it('sends images as inlineData (data: URL) and fileData (http URL)', async () => {
    await gw.client.chat.completions.create({
      model: 'gem',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==' } },
            { type: 'image_url', image_url: { url: 'https://images.example.com/dog.png' } },
          ],
        },
      ],
    });
    expect(fake.calls()[0]!.body).toMatchObject({
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'Compare' },
            { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } },
            { fileData: { mimeType: 'image/png', fileUri: 'https://images.example.com/dog.png' } },
          ],
        },
      ],
    });
  });

  it.each([
    ['SAFETY', 'content_filter'],
    ['RECITATION', 'content_filter'],
    ['MAX_TOKENS', 'length'],
  ])('maps finishReason %s to %s', async (reason, expected) => {
    fake.answer(textResponse('partial', { candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'partial' }] }, finishReason: reason }] }));
    const res = await gw.client.chat.completions.create({ model: 'gem', messages: hello });
    expect(res.choices[0]!.finish_reason).toBe(expected);
  });

  it('answers a blocked prompt with 400 content_filter, streamed or not', async () => {
    const blocked = { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 }, modelVersion: MODEL_VERSION };
    fake.answer(blocked);
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'gem', messages: hello }));
    expect(err.status).toBe(400);
    expect(err.code).toBe('content_filter');
    expect(err.message).toContain('blocked');

    fake.answer(blocked);
    const streamErr = await apiErrorOf(gw.client.chat.completions.create({ model: 'gem', messages: hello, stream: true }));
    expect(streamErr.status).toBe(400);
    expect(streamErr.code).toBe('content_filter');
  });
});

describe('streaming', () => {
  it('streams the same text as the plain answer, over alt=sse', async () => {
    const plain = await gw.client.chat.completions.create({ model: 'gem', messages: hello });
    const { chunks, text } = await collectStream(await gw.client.chat.completions.create({ model: 'gem', messages: hello, stream: true }));
    expect(text).toBe(plain.choices[0]!.message.content);
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(3);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks[0]!.model).toBe(MODEL_VERSION);
    expect(fake.calls()[1]).toMatchObject({ task: 'streamGenerateContent', url: '/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse' });
    expect(fake.calls()[1]!.headers['x-goog-api-key']).toBe('test-key');
  });

  it('ends with a usage chunk, cached tokens included, when include_usage is set', async () => {
    fake.answer(
      textResponse('Cached answer, streamed.', {
        usageMetadata: { promptTokenCount: 1000, candidatesTokenCount: 6, thoughtsTokenCount: 4, cachedContentTokenCount: 800, totalTokenCount: 1010 },
      }),
    );
    const { chunks, text } = await collectStream(
      await gw.client.chat.completions.create({ model: 'gem', messages: hello, stream: true, stream_options: { include_usage: true } }),
    );
    expect(text).toBe('Cached answer, streamed.');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 1000, completion_tokens: 10, total_tokens: 1010, prompt_tokens_details: { cached_tokens: 800 } });
    expect(ledger.records().at(-1)).toMatchObject({ status: 200, usage_source: 'reported', prompt_tokens: 1000, cached_tokens: 800 });
  });
});

const weatherTool: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: ['string', 'null'], enum: ['c', 'f', null] } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};

const callsWeather = {
  candidates: [
    {
      index: 0,
      content: {
        role: 'model' as const,
        parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_weather', args: { city: 'Oslo', unit: 'c' } } }],
      },
      finishReason: 'STOP',
    },
  ],
  usageMetadata: { promptTokenCount: 30, candidatesTokenCount: 10, totalTokenCount: 40 },
  modelVersion: MODEL_VERSION,
  responseId: 'resp-tools',
};

describe('tools', () => {
  it('declares cleaned function schemas, maps tool_choice, and returns tool_calls with ids and JSON arguments', async () => {
    fake.answer(callsWeather);
    const res = await gw.client.chat.completions.create({ model: 'gem', messages: hello, tools: [weatherTool], tool_choice: 'required' });
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const calls = choice.message.tool_calls as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall[];
    expect(calls.map((c) => [c.type, c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ['function', 'get_weather', { city: 'Paris' }],
      ['function', 'get_weather', { city: 'Oslo', unit: 'c' }],
    ]);
    expect(calls[0]!.id).toMatch(/^call_\w+$/);
    expect(calls[0]!.id).not.toBe(calls[1]!.id);

    // The fake answers 400 to schema keys Gemini rejects, so getting here means they were stripped.
    const body = fake.calls()[0]!.body as Record<string, unknown>;
    expect(body.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'Current weather',
            parameters: {
              type: 'object',
              properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'], nullable: true } },
              required: ['city'],
            },
          },
        ],
      },
    ]);
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
  });

  it.each([
    ['none', { mode: 'NONE' }],
    ['auto', { mode: 'AUTO' }],
    [{ type: 'function', function: { name: 'get_weather' } }, { mode: 'ANY', allowedFunctionNames: ['get_weather'] }],
  ] as const)('maps tool_choice %j', async (toolChoice, config) => {
    await gw.client.chat.completions.create({ model: 'gem', messages: hello, tools: [weatherTool], tool_choice: toolChoice });
    expect((fake.calls()[0]!.body as { toolConfig: unknown }).toolConfig).toEqual({ functionCallingConfig: config });
  });

  it('streams tool calls as whole deltas with ids, finishing with tool_calls', async () => {
    fake.answer(callsWeather);
    const { chunks } = await collectStream(await gw.client.chat.completions.create({ model: 'gem', messages: hello, tools: [weatherTool], stream: true }));
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas.map((d) => [d.index, d.type, d.function?.name, d.function?.arguments])).toEqual([
      [0, 'function', 'get_weather', '{"city":"Paris"}'],
      [1, 'function', 'get_weather', '{"city":"Oslo","unit":"c"}'],
    ]);
    expect(deltas.every((d) => typeof d.id === 'string' && d.id.startsWith('call_'))).toBe(true);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('round-trips tool results: functionCall parts in a model turn, functionResponse parts in a user turn', async () => {
    fake.answer(callsWeather);
    const first = await gw.client.chat.completions.create({ model: 'gem', messages: hello, tools: [weatherTool] });
    const assistant = first.choices[0]!.message;
    const [paris, oslo] = assistant.tool_calls!;
    const second = await gw.client.chat.completions.create({
      model: 'gem',
      tools: [weatherTool],
      messages: [
        ...hello,
        { role: 'assistant', content: assistant.content, tool_calls: assistant.tool_calls },
        { role: 'tool', tool_call_id: oslo!.id, content: 'Cold, 2°C' },
        { role: 'tool', tool_call_id: paris!.id, content: '{"temp":21,"sky":"clear"}' },
      ],
    });
    expect(second.choices[0]!.message.content).toBe(DEFAULT_REPLY);
    expect((fake.calls()[1]!.body as { contents: unknown }).contents).toEqual([
      { role: 'user', parts: [{ text: 'Say hello' }] },
      {
        role: 'model',
        parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_weather', args: { city: 'Oslo', unit: 'c' } } }],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { content: 'Cold, 2°C' } } },
          { functionResponse: { name: 'get_weather', response: { temp: 21, sky: 'clear' } } },
        ],
      },
    ]);
  });

  it('refuses a tool result that answers no earlier call, without calling Gemini', async () => {
    const err = await apiErrorOf(
      gw.client.chat.completions.create({ model: 'gem', messages: [...hello, { role: 'tool', tool_call_id: 'call_missing', content: 'x' }] }),
    );
    expect(err.status).toBe(400);
    expect(err.message).toContain('call_missing');
    expect(fake.calls()).toHaveLength(0);
  });
});

describe('embeddings', () => {
  it('batches an input list, and the SDK default (base64) decodes to the float vectors Gemini sent', async () => {
    const res = await gw.client.embeddings.create({ model: 'gem-embed', input: ['alpha', 'be'] });
    expect(res.data.map((d) => [d.index, d.embedding])).toEqual([
      [0, fakeEmbedding('alpha')],
      [1, fakeEmbedding('be')],
    ]);
    expect(res.usage.prompt_tokens).toBeGreaterThan(0);
    const [call] = fake.calls();
    expect(call).toMatchObject({ task: 'batchEmbedContents', model: 'models/text-embedding-004' });
    expect(call!.headers['x-goog-api-key']).toBe('test-key');
    expect(call!.body).toEqual({
      requests: [
        { model: 'models/text-embedding-004', content: { role: 'user', parts: [{ text: 'alpha' }] } },
        { model: 'models/text-embedding-004', content: { role: 'user', parts: [{ text: 'be' }] } },
      ],
    });
  });

  it('embeds a single string with embedContent, as floats, with dimensions as outputDimensionality', async () => {
    const res = await gw.client.embeddings.create({ model: 'gem-embed', input: 'one text', encoding_format: 'float', dimensions: 6 });
    expect(res.data).toEqual([{ object: 'embedding', index: 0, embedding: fakeEmbedding('one text', 6) }]);
    expect(fake.calls()[0]).toMatchObject({ task: 'embedContent', body: { content: { parts: [{ text: 'one text' }] }, outputDimensionality: 6 } });
  });

  it('keeps a 400 from Gemini embeddings as 400', async () => {
    fake.fail(400, 'Request contains an invalid argument.');
    const err = await apiErrorOf(gw.client.embeddings.create({ model: 'gem-embed', input: ['x'] }));
    expect(err.status).toBe(400);
    expect(err.message).toContain('Request contains an invalid argument.');
  });
});

describe('upstream errors', () => {
  it.each([
    [400, 'Invalid value at generation_config.temperature', 400],
    [403, 'Permission denied: Consumer has been suspended.', 502],
    [404, 'models/gemini-9 is not found for API version v1beta.', 404],
    [500, 'An internal error has occurred.', 502],
    [503, 'The model is overloaded. Please try again later.', 502],
  ])('Gemini %i becomes %i', async (status, message, expected) => {
    fake.fail(status, message);
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'gem', messages: hello }));
    expect(err.status).toBe(expected);
    if (expected < 500) expect(err.message).toContain(message);
    else expect(err.message).not.toContain('127.0.0.1'); // the upstream URL is for logs only
  });

  it('keeps 429 with retry-after taken from Google RetryInfo', async () => {
    fake.fail(429, 'You exceeded your current quota.', [
      { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests' }] },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '36.2s' },
    ]);
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'gem', messages: hello }));
    expect(err.status).toBe(429);
    expect(err.headers?.get('retry-after')).toBe('37');
    expect(err.message).toContain('gemini is rate limiting the gateway; retry after 37 s');
    expect(err.message).not.toContain('You exceeded your current quota.');
    expect(err.message).not.toContain('QuotaFailure');
  });

  it('turns a refused API key (a 400 API_KEY_INVALID from Gemini) into 502', async () => {
    const badKey = await startGateway(gatewayConfig(fake.url, { apiKey: 'wrong-key' }));
    try {
      const err = await apiErrorOf(badKey.client.chat.completions.create({ model: 'gem', messages: hello }));
      expect(err.status).toBe(502);
      expect(err.message).not.toContain('API key');
    } finally {
      await badKey.close();
    }
  });

  it('answers 502 when Gemini cannot be reached', async () => {
    const port = await closedPort();
    const offline = await startGateway(gatewayConfig(`http://127.0.0.1:${port}`));
    try {
      const err = await apiErrorOf(offline.client.chat.completions.create({ model: 'gem', messages: hello }));
      expect(err.status).toBe(502);
      const streamErr = await apiErrorOf(offline.client.chat.completions.create({ model: 'gem', messages: hello, stream: true }));
      expect(streamErr.status).toBe(502);
    } finally {
      await offline.close();
    }
  });

  it('fails a stream before its first chunk with a plain HTTP error', async () => {
    fake.fail(503, 'The model is overloaded.');
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'gem', messages: hello, stream: true }));
    expect(err.status).toBe(502);
  });

  it('retries a 503 on the next attempt', async () => {
    const retrying = await startGateway(gatewayConfig(fake.url, { retries: 1 }));
    try {
      fake.fail(503, 'The model is overloaded.');
      const { data, response } = await retrying.client.chat.completions.create({ model: 'gem', messages: hello }).withResponse();
      expect(data.choices[0]!.message.content).toBe(DEFAULT_REPLY);
      expect(response.headers.get('x-gateway-attempts')).toBe('2');
    } finally {
      await retrying.close();
    }
  });

  it('ends a stream whose socket dies midway with an error event, never a clean finish', async () => {
    const events = toSseBody(toStreamEvents(textResponse(DEFAULT_REPLY)));
    const firstEvent = events.indexOf('\r\n\r\n') + 4;
    fake.cutStream(Buffer.byteLength(events.slice(0, firstEvent)) + 40);
    const stream = await gw.client.chat.completions.create({ model: 'gem', messages: hello, stream: true });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(seen.join('').length).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'api_error' });
    expect(ledger.records().at(-1)).toMatchObject({ status: 502, usage_source: 'estimated' });
  });

  it('refuses a stream that closes cleanly without a finish reason', async () => {
    const events = toStreamEvents(textResponse(DEFAULT_REPLY));
    fake.enqueue((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(toSseBody(events.slice(0, 2)));
    });
    const stream = await gw.client.chat.completions.create({ model: 'gem', messages: hello, stream: true });
    await expect(collectStream(stream)).rejects.toBeInstanceOf(OpenAI.APIError);
  });
});

describe('client abort', () => {
  it('closes the upstream request when the client goes away mid-stream', async () => {
    const { closed } = fake.stall();
    const controller = new AbortController();
    const stream = await gw.client.chat.completions.create({ model: 'gem', messages: hello, stream: true }, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    controller.abort();
    await expect(withTimeout(closed, 5_000)).resolves.toBe('closed');
  });
});

describe('adapter', () => {
  it('closes the upstream when the consumer stops reading early, even without an abort', async () => {
    const adapter = createGeminiAdapter('gemini', { type: 'gemini', api_key: 'test-key', base_url: fake.url });
    const { closed } = fake.stall();
    for await (const batch of adapter.stream({ model: 'gemini-2.0-flash', messages: hello }, new AbortController().signal)) {
      if (batch.some((chunk) => chunk.type === 'text-delta')) break;
    }
    await expect(withTimeout(closed, 5_000)).resolves.toBe('closed');
  });

  it('reports an abort as its own kind, with the reason, so the caller tells a timeout from a departed client', async () => {
    const adapter = createGeminiAdapter('gemini', { type: 'gemini', api_key: 'test-key', base_url: fake.url });
    fake.stall();
    const controller = new AbortController();
    const reason = new Error('client left');
    const consume = (async () => {
      for await (const batch of adapter.stream({ model: 'gemini-2.0-flash', messages: hello }, controller.signal)) {
        if (batch.some((chunk) => chunk.type === 'text-delta')) controller.abort(reason);
      }
    })();
    await expect(consume).rejects.toMatchObject({ kind: 'aborted', cause: reason, isRetryable: false });
    const timedOut = new UpstreamError({ kind: 'timeout', provider: 'gemini', message: 'attempt timed out' });
    fake.stall();
    const again = new AbortController();
    const second = (async () => {
      for await (const batch of adapter.stream({ model: 'gemini-2.0-flash', messages: hello }, again.signal)) {
        if (batch.some((chunk) => chunk.type === 'text-delta')) again.abort(timedOut);
      }
    })();
    await expect(second).rejects.toBe(timedOut);
  });
});

function withTimeout(promise: Promise<void>, ms: number): Promise<'closed' | 'timeout'> {
  return Promise.race([promise.then(() => 'closed' as const), new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref())]);
}
