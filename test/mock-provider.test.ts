/**
 * The shipped default config (config/gateway.yaml) with no provider keys in the environment:
 * the gateway runs offline on the `mock` adapter and answers every kind of call.
 */
import type { AddressInfo } from 'node:net';
import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/load-config.js';

let app: FastifyInstance;
let url: string;
let client: OpenAI;

beforeAll(async () => {
  // No OPENAI_API_KEY & co.: only the mock provider is on.
  const config = await loadConfig('config/gateway.yaml', { LOG_LEVEL: 'silent' });
  app = await buildApp(config);
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-anything', maxRetries: 0 });
});

afterAll(async () => {
  await app?.close();
});

const hello: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Hello, mock!' }];

describe('the default config on the mock provider', () => {
  it('answers a plain chat with deterministic text, usage and the gateway headers', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'mock', messages: hello }).withResponse();
    const again = await client.chat.completions.create({ model: 'mock', messages: hello });
    const text = data.choices[0]?.message.content;
    expect(text).toContain('Hello, mock!');
    expect(again.choices[0]?.message.content).toBe(text);
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-gateway-provider')).toBe('demo');
    expect(response.headers.get('x-gateway-model')).toBe('mock-1');
    expect(response.headers.get('x-gateway-attempts')).toBe('1');
    expect(Number(response.headers.get('x-gateway-cost-usd'))).toBe(0);
  });

  it('streams the same text in several chunks, with usage last when asked', async () => {
    const plain = await client.chat.completions.create({ model: 'mock', messages: hello });
    const stream = await client.chat.completions.create({ model: 'mock', messages: hello, stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(plain.choices[0]?.message.content);
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(3);
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toEqual(plain.usage);
  });

  it('calls a tool with arguments that fit its parameters, plain and streamed', async () => {
    const tool: OpenAI.Chat.ChatCompletionTool = {
      type: 'function',
      function: {
        name: 'lookup_order',
        parameters: { type: 'object', properties: { order_id: { type: 'string' }, qty: { type: 'integer', minimum: 1 } }, required: ['order_id', 'qty'] },
      },
    };
    const validate = new Ajv().compile(tool.function.parameters!);
    const res = await client.chat.completions.create({ model: 'mock', messages: hello, tools: [tool] });
    const call = res.choices[0]?.message.tool_calls?.[0];
    expect(res.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type).toBe('function');
    const fn = (call as OpenAI.Chat.ChatCompletionMessageFunctionToolCall).function;
    expect(fn.name).toBe('lookup_order');
    expect(validate(JSON.parse(fn.arguments))).toBe(true);

    const stream = await client.chat.completions.create({ model: 'mock', messages: hello, tools: [tool], stream: true });
    let args = '';
    let name = '';
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        name += delta.function?.name ?? '';
        args += delta.function?.arguments ?? '';
      }
    }
    expect(name).toBe('lookup_order');
    expect(args).toBe(fn.arguments);
  });

  it('answers json_schema requests with JSON that matches the schema', async () => {
    const schema = {
      type: 'object',
      properties: {
        sentiment: { enum: ['positive', 'negative', 'neutral'] },
        score: { type: 'number', minimum: 0 },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
        author: { type: 'object', properties: { email: { type: 'string' } }, required: ['email'] },
      },
      required: ['sentiment', 'score', 'tags', 'author'],
      additionalProperties: false,
    };
    const res = await client.chat.completions.create({
      model: 'mock',
      messages: hello,
      response_format: { type: 'json_schema', json_schema: { name: 'review', schema, strict: true } },
    });
    const answer: unknown = JSON.parse(res.choices[0]?.message.content ?? 'null');
    const validate = new Ajv().compile(schema);
    expect(validate(answer), JSON.stringify(validate.errors)).toBe(true);
  });

  it('embeds with model text-embedding: one stable vector per input, in order', async () => {
    const res = await client.embeddings.create({ model: 'text-embedding', input: ['alpha', 'beta', 'alpha'] });
    expect(res.data.map((d) => d.index)).toEqual([0, 1, 2]);
    const [a, b, a2] = res.data.map((d) => d.embedding);
    expect(a).toHaveLength(8);
    expect(a2).toEqual(a);
    expect(b).not.toEqual(a);
    expect(res.model).toBe('mock-embedding');
  });

  it('lists the mock groups in /v1/models and leaves out providers without keys', async () => {
    const models = await client.models.list();
    const ids = models.data.map((m) => m.id);
    expect(ids).toContain('mock');
    expect(ids).toContain('text-embedding');
    expect(ids).not.toContain('gpt-4o-mini');
    expect(ids).not.toContain('claude-haiku');
  });

  it('is healthy on /health', async () => {
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; providers: { enabled: string[]; disabled_no_key: string[] } };
    expect(body.status).toBe('ok');
    expect(body.providers.enabled).toEqual(['demo']);
    expect(body.providers.disabled_no_key).toEqual(expect.arrayContaining(['openai', 'anthropic', 'gemini']));
  });
});
