/**
 * `POST /v1/responses` over every provider kind, driven by the official `openai` SDK: what the
 * client gets back (the `response` object, its output items and usage), and what each fake
 * upstream received once the gateway translated the request.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { DEFAULT_TEXT as ANTHROPIC_TEXT, startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic.js';
import { DEFAULT_REPLY as GEMINI_TEXT, MODEL_VERSION, startFakeGemini, type FakeGemini } from './fakes/gemini.js';
import { DEFAULT_TEXT as OPENAI_TEXT, startFakeOpenAI, type FakeOpenAI } from './fakes/openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { apiErrorOf } from './helpers/http.js';

let openai: FakeOpenAI;
let anthropic: FakeAnthropic;
let gemini: FakeGemini;
let gw: TestGateway;
const ledger = createMemoryLedger();

beforeAll(async () => {
  [openai, anthropic, gemini] = await Promise.all([startFakeOpenAI(), startFakeAnthropic(), startFakeGemini()]);
  gw = await startGateway(
    {
      providers: {
        openai: { type: 'openai', api_key: 'sk-fake-openai', base_url: `${openai.url}/v1` },
        anthropic: { type: 'anthropic', api_key: 'test-key', base_url: anthropic.url },
        gemini: { type: 'gemini', api_key: 'test-key', base_url: gemini.url },
        demo: { type: 'mock' },
      },
      // No retries: each test scripts exactly one upstream answer.
      models: [
        { name: 'gpt', retries: 0, deployments: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude', retries: 0, deployments: [{ provider: 'anthropic', model: 'claude-3-5-haiku-latest' }] },
        { name: 'gem', retries: 0, deployments: [{ provider: 'gemini', model: 'gemini-2.0-flash' }] },
        { name: 'mock', deployments: [{ provider: 'demo', model: 'mock-1' }] },
      ],
    },
    { ledger },
  );
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([openai?.close(), anthropic?.close(), gemini?.close()]);
});

const weatherTool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

describe('a plain answer from each provider kind', () => {
  it('mock: a completed response object with a message, usage and the gateway headers', async () => {
    const { data, response } = await gw.client.responses.create({ model: 'mock', input: 'Hello there', metadata: { ticket: 'T-1' } }).withResponse();
    expect(data).toMatchObject({ object: 'response', status: 'completed', model: 'mock-1', error: null, incomplete_details: null, store: true, metadata: { ticket: 'T-1' } });
    expect(data.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(data.created_at).toBeCloseTo(Date.now() / 1000, -2);
    expect(data.output).toHaveLength(1);
    expect(data.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', annotations: [], logprobs: [] }] });
    expect(data.output_text).toBe('This is a mock answer from mock-1. You said: Hello there');
    expect(data.usage).toMatchObject({ input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } });
    expect(data.usage!.total_tokens).toBe(data.usage!.input_tokens + data.usage!.output_tokens);
    expect(response.headers.get('x-gateway-provider')).toBe('demo');
    expect(response.headers.get('x-gateway-attempts')).toBe('1');
  });

  it('openai: instructions, text.format, output cap and sampling reach chat completions; cached tokens come back', async () => {
    openai.enqueueChat({ model: 'gpt-4o-mini-2024-07-18', content: '{"answer":"yes"}' });
    const res = await gw.client.responses.create({
      model: 'gpt',
      instructions: 'Answer in JSON.',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Is it?' }, { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' }] }],
      text: { format: { type: 'json_schema', name: 'verdict', schema: { type: 'object', properties: { answer: { type: 'string' } } }, strict: true } },
      max_output_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      user: 'u-1',
      include: [],
      store: false,
    });
    expect(res.output_text).toBe('{"answer":"yes"}');
    expect(res.model).toBe('gpt-4o-mini-2024-07-18');
    expect(res).toMatchObject({ instructions: 'Answer in JSON.', max_output_tokens: 50, temperature: 0.2, top_p: 0.9, user: 'u-1', store: false });
    expect(res.text?.format).toMatchObject({ type: 'json_schema', name: 'verdict', strict: true });
    expect(res.usage).toMatchObject({ input_tokens: 1200, input_tokens_details: { cached_tokens: 1000 }, output_tokens: 300, total_tokens: 1500 });
    expect(openai.lastChatBody()).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Answer in JSON.' },
        { role: 'user', content: [{ type: 'text', text: 'Is it?' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } }] },
      ],
      response_format: { type: 'json_schema', json_schema: { name: 'verdict', schema: { type: 'object', properties: { answer: { type: 'string' } } }, strict: true } },
      max_completion_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      user: 'u-1',
    });
  });

  it('anthropic: a Messages request with the instructions as system', async () => {
    const res = await gw.client.responses.create({ model: 'claude', instructions: 'Be brief.', input: 'Hello?' });
    expect(res.output_text).toBe(ANTHROPIC_TEXT);
    expect(res.model).toBe('claude-3-5-haiku-latest');
    expect(res.usage).toMatchObject({ input_tokens: 21, output_tokens: 9, total_tokens: 30 });
    expect(anthropic.lastMessageBody()).toMatchObject({ system: 'Be brief.', messages: [{ role: 'user', content: 'Hello?' }] });
  });

  it('gemini: a generateContent request; a streamed answer arrives whole', async () => {
    const res = await gw.client.responses.create({ model: 'gem', input: 'Say hello' });
    expect(res.output_text).toBe(GEMINI_TEXT);
    expect(res.model).toBe(MODEL_VERSION);
    const stream = gw.client.responses.stream({ model: 'gem', input: 'Say hello' });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(GEMINI_TEXT);
    expect(final.status).toBe('completed');
    expect(gemini.calls().map((call) => call.task)).toEqual(['generateContent', 'streamGenerateContent']);
  });

  it('a cut answer is incomplete, with the reason', async () => {
    openai.enqueueChat({ content: 'Half an ans', finish_reason: 'length' });
    const res = await gw.client.responses.create({ model: 'gpt', input: 'Tell me everything', max_output_tokens: 16 });
    expect(res.status).toBe('incomplete');
    expect(res.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(res.output[0]).toMatchObject({ type: 'message', status: 'incomplete' });
    openai.enqueueChat({ content: 'Half an ans', finish_reason: 'length' });
    const events: string[] = [];
    const stream = gw.client.responses.stream({ model: 'gpt', input: 'Tell me everything', max_output_tokens: 16 });
    stream.on('event', (event) => events.push(event.type));
    const final = await stream.finalResponse();
    expect(events.at(-1)).toBe('response.incomplete');
    expect(final.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });
});

describe('function tools', () => {
  it('openai: a function_call item, then its output sent back as items, mapped to tool_calls and a tool message', async () => {
    openai.enqueueChat({ tool_calls: [{ id: 'call_abc', name: 'get_weather', arguments: '{"city":"Paris"}' }] });
    const first = await gw.client.responses.create({ model: 'gpt', input: 'Weather in Paris?', tools: [weatherTool], tool_choice: 'auto', parallel_tool_calls: false });
    expect(first.output).toEqual([
      { type: 'function_call', id: expect.stringMatching(/^fc_[0-9a-f]{32}_o0$/), call_id: 'call_abc', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' },
    ]);
    expect(first.tools).toEqual([{ type: 'function', name: 'get_weather', description: 'The weather in a city', parameters: weatherTool.parameters, strict: true }]);
    const sent = openai.lastChatBody();
    expect(sent.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: true } },
    ]);
    expect(sent).toMatchObject({ tool_choice: 'auto', parallel_tool_calls: false });

    openai.enqueueChat({ content: 'It is sunny in Paris.' });
    const second = await gw.client.responses.create({
      model: 'gpt',
      tools: [weatherTool],
      store: false,
      input: [{ role: 'user', content: 'Weather in Paris?' }, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: 'call_abc', output: '{"sky":"sunny"}' }],
    });
    expect(second.output_text).toBe('It is sunny in Paris.');
    expect(openai.lastChatBody().messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_abc', content: '{"sky":"sunny"}' },
    ]);
  });

  it('anthropic: the same round trip through previous_response_id becomes tool_use and tool_result blocks', async () => {
    anthropic.enqueueMessage({ content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Rome' } }], stop_reason: 'tool_use' });
    const first = await gw.client.responses.create({ model: 'claude', input: 'Weather in Rome?', tools: [weatherTool] });
    expect(first.output[0]).toMatchObject({ type: 'function_call', call_id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Rome"}' });
    const second = await gw.client.responses.create({
      model: 'claude',
      previous_response_id: first.id,
      tools: [weatherTool],
      input: [{ type: 'function_call_output', call_id: 'toolu_1', output: 'sunny' }],
    });
    expect(second.output_text).toBe(ANTHROPIC_TEXT);
    expect(second.previous_response_id).toBe(first.id);
    expect(anthropic.lastMessageBody().messages).toEqual([
      { role: 'user', content: 'Weather in Rome?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Rome' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }] },
    ]);
  });

  it('gemini: tool parameters reach Gemini without `$schema`', async () => {
    gemini.answer({ candidates: [{ index: 0, content: { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Oslo' } } }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 }, modelVersion: MODEL_VERSION });
    const res = await gw.client.responses.create({ model: 'gem', input: 'Weather in Oslo?', tools: [weatherTool] });
    expect(res.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Oslo"}' });
    const body = gemini.calls().at(-1)!.body as { tools: Array<{ functionDeclarations: Array<{ parameters: Record<string, unknown> }> }> };
    expect(body.tools[0]!.functionDeclarations[0]!.parameters).not.toHaveProperty('$schema');
  });

  it('streams a call as function_call_arguments events that the SDK helper assembles', async () => {
    openai.enqueueChat({ tool_calls: [{ id: 'call_s', name: 'get_weather', arguments: '{"city":"Lisbon"}' }] });
    const stream = gw.client.responses.stream({ model: 'gpt', input: 'Weather in Lisbon?', tools: [weatherTool] });
    const deltas: string[] = [];
    stream.on('response.function_call_arguments.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('{"city":"Lisbon"}');
    expect(final.output).toEqual([expect.objectContaining({ type: 'function_call', call_id: 'call_s', arguments: '{"city":"Lisbon"}', status: 'completed' })]);
  });
});

describe('what the gateway cannot serve', () => {
  const refused: Array<[string, Record<string, unknown>, string]> = [
    ['a built-in tool', { tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    ['background', { background: true }, 'background'],
    ['a stored prompt', { prompt: { id: 'pmpt_1' } }, 'prompt'],
    ['a conversation', { conversation: 'conv_1' }, 'conversation'],
    ['a file input', { input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file_1' }] }] }, 'input[0].content[0].type'],
    ['an unknown item type', { input: [{ type: 'computer_call_output', call_id: 'c' }] }, 'input[0].type'],
    ['an unknown include', { include: ['something.else'] }, 'include[0]'],
  ];
  it.each(refused)('refuses %s with a 400 naming the field', async (_what, extra, param) => {
    const err = await apiErrorOf(gw.client.responses.create({ model: 'mock', input: 'hi', ...extra } as never));
    expect(err.status).toBe(400);
    expect(err.error).toMatchObject({ type: 'invalid_request_error', param });
  });

  it('warns about settings only OpenAI models honour', async () => {
    const { response } = await gw.client.responses.create({ model: 'mock', input: 'hi', reasoning: { effort: 'low' }, truncation: 'auto' }).withResponse();
    expect(response.headers.get('x-gateway-warnings')).toContain("'reasoning' is not applied");
    expect(response.headers.get('x-gateway-warnings')).toContain("'truncation' is not applied");
  });

  it('answers bad input with OpenAI-shaped errors', async () => {
    const huge = await apiErrorOf(gw.client.responses.create({ model: 'mock', input: 'hi', previous_response_id: `resp_${'a'.repeat(100_000)}` }));
    expect(huge.status).toBe(400);
    expect(huge.error).toMatchObject({ type: 'invalid_request_error', param: 'previous_response_id' });
    const unknown = await apiErrorOf(gw.client.responses.create({ model: 'mock', input: 'hi', previous_response_id: `resp_${'0'.repeat(32)}` }));
    expect(unknown.status).toBe(404);
    expect(unknown.error).toMatchObject({ type: 'not_found_error', param: 'previous_response_id', message: `Previous response with id 'resp_${'0'.repeat(32)}' not found.` });
    const noInput = await apiErrorOf(gw.client.responses.create({ model: 'mock' }));
    expect(noInput.error).toMatchObject({ param: 'input' });
    const noRole = await apiErrorOf(gw.client.responses.create({ model: 'mock', input: [{ content: 'hi' }] } as never));
    expect(noRole.error).toMatchObject({ code: 'missing_field', param: 'input[0].role' });
    const noModel = await apiErrorOf(gw.client.responses.create({ model: 'nope', input: 'hi' }));
    expect(noModel.status).toBe(404);
  });
});

describe('failures', () => {
  it('an upstream failure before the answer is the usual error, with no stream opened', async () => {
    openai.enqueueError(500, { message: 'boom' });
    const err = await apiErrorOf(gw.client.responses.create({ model: 'gpt', input: 'hi' }));
    expect(err.status).toBe(502);
  });

  it('a stream that fails midway ends with error and response.failed, and the SDK raises', async () => {
    openai.enqueueStreamError({}, 3);
    const stream = await gw.client.responses.create({ model: 'gpt', input: 'hi', stream: true });
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const event of stream) seen.push(event.type);
    })().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect(seen).toContain('response.output_text.delta');

    openai.enqueueStreamError({}, 3);
    const raw = await fetch(`${gw.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt', input: 'hi', stream: true }) });
    const text = await raw.text();
    const events = [...text.matchAll(/^event: (.+)$/gm)].map((match) => match[1]);
    expect(events.slice(-2)).toEqual(['error', 'response.failed']);
    const failed = JSON.parse(text.trim().split('\n').at(-1)!.slice('data: '.length));
    expect(failed.response).toMatchObject({ status: 'failed', error: { code: 'upstream_error' } });
  });
});

describe('the ledger', () => {
  it('records Responses calls under route responses, with the group asked for', async () => {
    await gw.client.responses.create({ model: 'mock', input: 'count me' });
    const records = ledger.records().filter((record) => record.route === 'responses');
    expect(records.length).toBeGreaterThan(5);
    expect(records.at(-1)).toMatchObject({ route: 'responses', model: 'mock', provider: 'demo', status: 200 });
  });
});
