import { describe, expect, it } from 'vitest';
import {
  createGeminiAdapter,
  createGeminiStreamMapper,
  fromGeminiResponse,
  geminiWarnings,
  guessMimeType,
  mapGeminiFinishReason,
  toGeminiRequest,
  toGeminiSchema,
  type GeminiResponse,
  type IdSource,
} from '../providers/gemini/index.js';
import { GatewayError } from '../src/core/errors.js';
import type { ChatChunk, ChatRequest } from '../src/core/types.js';
import { findRequestFault, textResponse, toStreamEvents, type GenerateBody, type WireResponse } from './fakes/gemini.js';

const model = 'gemini-2.0-flash';

function request(extra: Partial<ChatRequest>): ChatRequest {
  return { model, messages: [{ role: 'user', content: 'Hi' }], ...extra };
}

/** call_1, call_2… (one count per prefix) so ids are predictable. */
function counterIds(): IdSource {
  const counts = new Map<string, number>();
  return (prefix) => {
    const n = (counts.get(prefix) ?? 0) + 1;
    counts.set(prefix, n);
    return `${prefix}${n}`;
  };
}

function streamChunks(events: WireResponse[], newId: IdSource = counterIds()) {
  const mapper = createGeminiStreamMapper(newId);
  const out: ChatChunk[] = [];
  for (const event of events) mapper.push(event as GeminiResponse, out);
  return { out, mapper };
}

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { city: { type: 'string', description: 'City name' }, unit: { type: 'string', enum: ['c', 'f'] } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};

describe('toGeminiRequest', () => {
  it('moves system and developer messages to systemInstruction and uses only user/model turns', () => {
    const body = toGeminiRequest(
      request({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Bonjour' },
          { role: 'user', content: 'Ça va ?' },
        ],
      }),
    );
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }, { text: 'Answer in French.' }] });
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Hi' }] },
      { role: 'model', parts: [{ text: 'Bonjour' }] },
      { role: 'user', parts: [{ text: 'Ça va ?' }] },
    ]);
    expect(findRequestFault(body as GenerateBody)).toBeUndefined();
  });

  it('merges consecutive turns of the same role', () => {
    const body = toGeminiRequest(request({ messages: [{ role: 'user', content: 'one' }, { role: 'user', content: 'two' }] }));
    expect(body.contents).toEqual([{ role: 'user', parts: [{ text: 'one' }, { text: 'two' }] }]);
  });

  it('maps a data: image to inlineData and an http(s) image to fileData with a guessed MIME type', () => {
    const body = toGeminiRequest(
      request({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.webp?size=large', detail: 'high' } },
            ],
          },
        ],
      }),
    );
    expect(body.contents[0]!.parts).toEqual([
      { text: 'What is this?' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/cat.webp?size=large' } },
    ]);
  });

  it('refuses a data: URL that is not base64', () => {
    const bad = request({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png,rawbytes' } }] }] });
    expect(() => toGeminiRequest(bad)).toThrow(GatewayError);
  });

  it('declares tools with their schema cleaned of keys Gemini rejects', () => {
    const body = toGeminiRequest(request({ tools: [weatherTool, { type: 'function', function: { name: 'now', parameters: { type: 'object', properties: {} } } }] }));
    expect(body.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'Weather for a city',
            parameters: {
              type: 'object',
              properties: { city: { type: 'string', description: 'City name' }, unit: { type: 'string', enum: ['c', 'f'] } },
              required: ['city'],
            },
          },
          // Gemini answers 400 to an object schema without properties: a tool without arguments declares none.
          { name: 'now' },
        ],
      },
    ]);
    expect(body.toolConfig).toBeUndefined();
    expect(findRequestFault(body as GenerateBody)).toBeUndefined();
  });

  it.each([
    ['none', { mode: 'NONE' }],
    ['auto', { mode: 'AUTO' }],
    ['required', { mode: 'ANY' }],
    [{ type: 'function', function: { name: 'get_weather' } }, { mode: 'ANY', allowedFunctionNames: ['get_weather'] }],
  ] as const)('maps tool_choice %j to functionCallingConfig %j', (choice, config) => {
    expect(toGeminiRequest(request({ tools: [weatherTool], tool_choice: choice })).toolConfig).toEqual({ functionCallingConfig: config });
  });

  it('sends tool calls as functionCall parts and tool results as functionResponse parts named via tool_call_id', () => {
    const body = toGeminiRequest(
      request({
        messages: [
          { role: 'user', content: 'Weather in Paris and Oslo?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"city":"Oslo"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_b', content: '14:02' },
          { role: 'tool', tool_call_id: 'call_a', content: '{"temp":21,"sky":"clear"}' },
          { role: 'user', content: 'Thanks' },
        ],
      }),
    );
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and Oslo?' }] },
      {
        role: 'model',
        parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_time', args: { city: 'Oslo' } } }],
      },
      {
        role: 'user',
        parts: [
          // Not a JSON object: wrapped, since Gemini's response field is a Struct.
          { functionResponse: { name: 'get_time', response: { content: '14:02' } } },
          { functionResponse: { name: 'get_weather', response: { temp: 21, sky: 'clear' } } },
          { text: 'Thanks' },
        ],
      },
    ]);
    expect(findRequestFault(body as GenerateBody)).toBeUndefined();
  });

  it('wraps a JSON array tool result too', () => {
    const body = toGeminiRequest(
      request({
        messages: [
          { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'list', arguments: '' } }] },
          { role: 'tool', tool_call_id: 'c1', content: '[1,2]' },
        ],
      }),
    );
    expect(body.contents).toEqual([
      { role: 'model', parts: [{ functionCall: { name: 'list', args: {} } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'list', response: { content: '[1,2]' } } }] },
    ]);
  });

  it('refuses a tool result whose tool_call_id matches no earlier call, and arguments that are not a JSON object', () => {
    expect(() => toGeminiRequest(request({ messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] }))).toThrow(/tool_call_id nope/);
    const badArgs = request({
      messages: [{ role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '[1]' } }] }],
    });
    expect(() => toGeminiRequest(badArgs)).toThrow(/must be a JSON object/);
  });

  it('maps sampling fields to generationConfig', () => {
    const body = toGeminiRequest(
      request({ temperature: 0.3, top_p: 0.9, max_tokens: 50, max_completion_tokens: 70, stop: 'END', n: 2, seed: 7, presence_penalty: 0.5, frequency_penalty: 0.25, user: 'u-1' }),
    );
    expect(body.generationConfig).toEqual({
      temperature: 0.3,
      topP: 0.9,
      maxOutputTokens: 70,
      stopSequences: ['END'],
      candidateCount: 2,
      seed: 7,
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
    });
    expect(toGeminiRequest(request({ max_tokens: 50, stop: ['a', 'b'] })).generationConfig).toEqual({ maxOutputTokens: 50, stopSequences: ['a', 'b'] });
    expect(JSON.stringify(body)).not.toContain('u-1');
  });

  it('asks for JSON with json_object, and for JSON under a converted schema with json_schema', () => {
    expect(toGeminiRequest(request({ response_format: { type: 'json_object' } })).generationConfig).toEqual({ responseMimeType: 'application/json' });
    const body = toGeminiRequest(
      request({
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'answer',
            strict: true,
            schema: { type: 'object', properties: { label: { type: ['string', 'null'] } }, required: ['label'], additionalProperties: false },
          },
        },
      }),
    );
    expect(body.generationConfig).toEqual({
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { label: { type: 'string', nullable: true } }, required: ['label'] },
    });
    expect(findRequestFault(body as GenerateBody)).toBeUndefined();
  });
});

describe('toGeminiSchema', () => {
  it('rewrites what OpenAPI 3.0 lacks and drops what Gemini rejects', () => {
    const schema = toGeminiSchema({
      type: 'object',
      $defs: { x: {} },
      properties: {
        when: { type: 'string', format: 'date-time' },
        email: { type: 'string', format: 'email', default: 'a@b.c' },
        kind: { const: 'fixed' },
        either: { anyOf: [{ type: 'number', format: 'float' }, { type: 'null' }] },
        many: { type: ['integer', 'string'] },
        tags: { type: 'array', items: { type: 'string', examples: ['x'] }, minItems: 1 },
        meta: { type: 'object', description: 'free-form', additionalProperties: true },
        level: { type: ['string', 'null'], enum: ['low', 'high', null] },
      },
    });
    expect(schema).toEqual({
      type: 'object',
      properties: {
        when: { type: 'string', format: 'date-time' },
        email: { type: 'string' },
        kind: { enum: ['fixed'] },
        either: { type: 'number', format: 'float', nullable: true },
        many: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
        meta: { type: 'object', description: 'free-form' },
        level: { type: 'string', enum: ['low', 'high'], nullable: true },
      },
    });
  });

  it('returns undefined for a root object without properties and for non-schemas', () => {
    expect(toGeminiSchema({ type: 'object', properties: {}, additionalProperties: false })).toBeUndefined();
    expect(toGeminiSchema(undefined)).toBeUndefined();
    expect(toGeminiSchema(true)).toBeUndefined();
  });
});

describe('guessMimeType', () => {
  it.each([
    ['https://x.test/a.PNG', 'image/png'],
    ['https://x.test/a.jpeg', 'image/jpeg'],
    ['https://x.test/a.gif#frag', 'image/gif'],
    ['https://x.test/doc.pdf', 'application/pdf'],
    ['https://x.test/image', 'image/jpeg'],
  ])('%s → %s', (url, mime) => {
    expect(guessMimeType(url)).toBe(mime);
  });
});

describe('fromGeminiResponse', () => {
  const now = () => 1_700_000_000_123;

  it('maps text, ids, model and usage (thoughts count as output, cached tokens are part of the prompt)', () => {
    const res = textResponse('Hello', {
      usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 7, thoughtsTokenCount: 5, cachedContentTokenCount: 60, totalTokenCount: 112 },
    });
    expect(fromGeminiResponse(res as GeminiResponse, model, { now })).toEqual({
      id: 'resp-gemini-1',
      created: 1_700_000_000,
      model: 'gemini-2.0-flash-001',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finishReason: 'stop' }],
      usage: { promptTokens: 100, completionTokens: 12, cachedTokens: 60 },
    });
  });

  it('joins text parts, skips thought summaries, and falls back to the requested model and a fresh id', () => {
    const res: GeminiResponse = {
      candidates: [{ content: { role: 'model', parts: [{ text: 'pondering…', thought: true }, { text: 'Hel' }, { text: 'lo' }] }, finishReason: 'STOP' }],
    };
    const out = fromGeminiResponse(res, model, { newId: counterIds(), now });
    expect(out).toMatchObject({ id: 'chatcmpl-1', model, choices: [{ message: { content: 'Hello' } }] });
    expect(out.usage).toBeUndefined();
  });

  it('turns functionCall parts into tool_calls with generated ids and JSON arguments; finish is tool_calls', () => {
    const res: GeminiResponse = {
      candidates: [
        {
          index: 0,
          content: {
            role: 'model',
            parts: [
              { text: 'Let me check.' },
              { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
              { functionCall: { name: 'get_time' } },
            ],
          },
          finishReason: 'STOP',
        },
      ],
    };
    expect(fromGeminiResponse(res, model, { newId: counterIds(), now }).choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Let me check.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        finishReason: 'tool_calls',
      },
    ]);
  });

  it('keeps every candidate (n > 1) and maps a safety stop without content', () => {
    const res: GeminiResponse = {
      candidates: [
        { index: 0, content: { role: 'model', parts: [{ text: 'A' }] }, finishReason: 'MAX_TOKENS' },
        { index: 1, finishReason: 'SAFETY' },
      ],
    };
    expect(fromGeminiResponse(res, model, { now }).choices).toEqual([
      { index: 0, message: { role: 'assistant', content: 'A' }, finishReason: 'length' },
      { index: 1, message: { role: 'assistant', content: null }, finishReason: 'content_filter' },
    ]);
  });

  it('answers a blocked prompt with a 400 content_filter error', () => {
    const res: GeminiResponse = { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 } };
    let thrown: unknown;
    try {
      fromGeminiResponse(res, model);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect(thrown).toMatchObject({ status: 400, providerCode: 'content_filter', param: 'messages' });
    expect((thrown as Error).message).toContain('SAFETY');
  });

  it('refuses an answer with neither candidates nor a block reason', () => {
    expect(() => fromGeminiResponse({ modelVersion: 'x' }, model)).toThrow(expect.objectContaining({ kind: 'protocol' }));
  });
});

describe('mapGeminiFinishReason', () => {
  it.each([
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    [undefined, true, 'tool_calls'],
    ['MAX_TOKENS', false, 'length'],
    ['MAX_TOKENS', true, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['BLOCKLIST', false, 'content_filter'],
    ['PROHIBITED_CONTENT', false, 'content_filter'],
    ['SPII', false, 'content_filter'],
    ['OTHER', false, 'stop'],
    ['MALFORMED_FUNCTION_CALL', false, 'stop'],
    ['SOMETHING_NEW', false, 'stop'],
  ] as const)('%s (tool calls: %s) → %s', (reason, hasToolCalls, expected) => {
    expect(mapGeminiFinishReason(reason, hasToolCalls)).toBe(expected);
  });
});

describe('createGeminiStreamMapper', () => {
  it('maps the fake stream to meta, text deltas that add up to the whole text, one finish, and the last usage', () => {
    const whole = textResponse('Streaming héllo 🌍 works.', {
      usageMetadata: { promptTokenCount: 20, candidatesTokenCount: 6, cachedContentTokenCount: 4, totalTokenCount: 26 },
    });
    const { out, mapper } = streamChunks(toStreamEvents(whole));
    expect(out[0]).toEqual({ type: 'meta', id: 'resp-gemini-1', model: 'gemini-2.0-flash-001' });
    expect(out.filter((c) => c.type === 'meta')).toHaveLength(1);
    const text = out.flatMap((c) => (c.type === 'text-delta' ? [c.text] : [])).join('');
    expect(text).toBe('Streaming héllo 🌍 works.');
    expect(out.filter((c) => c.type === 'text-delta').length).toBeGreaterThan(2);
    expect(out.at(-1)).toEqual({ type: 'finish', choice: 0, finishReason: 'stop' });
    expect(mapper.finished).toBe(true);
    expect(mapper.usage).toEqual({ promptTokens: 20, completionTokens: 6, cachedTokens: 4 });
  });

  it('keeps the last cumulative usage when every chunk carries one', () => {
    const { mapper } = streamChunks([
      { candidates: [{ content: { role: 'model', parts: [{ text: 'a' }] } }], usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 } },
      { candidates: [{ content: { role: 'model', parts: [{ text: 'b' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2, totalTokenCount: 7 } },
    ]);
    expect(mapper.usage).toEqual({ promptTokens: 5, completionTokens: 2, cachedTokens: 0 });
  });

  it('emits each function call whole, indexed per choice, and finishes with tool_calls', () => {
    const whole: WireResponse = {
      candidates: [
        {
          index: 0,
          content: { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_time', args: {} } }] },
          finishReason: 'STOP',
        },
      ],
      responseId: 'r1',
    };
    const { out } = streamChunks(toStreamEvents(whole));
    expect(out).toEqual([
      { type: 'meta', id: 'r1', model: undefined },
      { type: 'tool-call-delta', choice: 0, toolIndex: 0, id: 'call_1', name: 'get_weather', argumentsDelta: '{"city":"Paris"}' },
      { type: 'tool-call-delta', choice: 0, toolIndex: 1, id: 'call_2', name: 'get_time', argumentsDelta: '{}' },
      { type: 'finish', choice: 0, finishReason: 'tool_calls' },
    ]);
  });

  it('reports an unfinished stream so the adapter can refuse a clean end', () => {
    const events = toStreamEvents(textResponse('Cut short, this answer is.'));
    const { mapper } = streamChunks(events.slice(0, -1));
    expect(mapper.finished).toBe(false);
  });

  it('throws the content_filter error on a blocked prompt', () => {
    const blocked: GeminiResponse = { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, modelVersion: 'm' };
    expect(() => streamChunks([blocked as WireResponse])).toThrow(expect.objectContaining({ status: 400, providerCode: 'content_filter' }));
  });
});

describe('geminiWarnings', () => {
  it('names user and parallel_tool_calls: false, which have no Gemini field', () => {
    expect(geminiWarnings(request({ user: 'u-1', tools: [weatherTool], parallel_tool_calls: false }))).toEqual([
      'user is not supported by gemini and was dropped',
      'parallel_tool_calls is not supported by gemini and was dropped',
    ]);
  });

  it('names message names, image detail and strict tools', () => {
    const warnings = geminiWarnings(
      request({
        messages: [
          { role: 'system', name: 'ops', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.webp', detail: 'high' } }] },
        ],
        tools: [{ type: 'function', function: { ...weatherTool.function, strict: true } }],
      }),
    );
    expect(warnings).toEqual([
      'message name is not supported by gemini and was dropped',
      'image_url detail is not supported by gemini and was dropped',
      'tool strict mode is not supported by gemini and was dropped',
    ]);
  });

  it('says nothing about what generationConfig carries, and shares one empty list when nothing is dropped', () => {
    const mapped = request({
      temperature: 0.3,
      top_p: 0.9,
      max_completion_tokens: 70,
      stop: 'END',
      n: 2,
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
      tools: [weatherTool],
      parallel_tool_calls: true,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', strict: true, schema: { type: 'object', properties: { a: { type: 'string' } } } } },
    });
    const first = geminiWarnings(mapped);
    expect(first).toEqual([]);
    expect(geminiWarnings(request({}))).toBe(first);
  });

  it('is what the adapter reports', () => {
    const adapter = createGeminiAdapter('gemini-eu', { type: 'gemini', api_key: 'test-key' });
    expect(adapter.warnings?.(request({ user: 'u-1' }))).toEqual(['user is not supported by gemini and was dropped']);
  });
});
