/**
 * An OpenAI-compatible server (Ollama, vLLM…) configured with a base URL and no API key: the
 * gateway reaches it through the same adapter and answers plain and streamed calls.
 */
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEXT, startFakeOpenAI, type FakeOpenAI } from './fakes/openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

let fake: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  // A local server takes any key (or none).
  fake = await startFakeOpenAI({ apiKey: null });
  gw = await startGateway({
    providers: { local: { type: 'openai-compatible', base_url: `${fake.url}/v1` } },
    models: [{ name: 'llama', retries: 0, deployments: [{ provider: 'local', model: 'llama3.1:8b' }] }],
  });
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
});

const hello: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Hi there' }];

describe('an openai-compatible provider without api_key', () => {
  it('answers a plain chat and sends the upstream model', async () => {
    const { data, response } = await gw.client.chat.completions.create({ model: 'llama', messages: hello, temperature: 0 }).withResponse();
    expect(data.choices[0]?.message.content).toBe(DEFAULT_TEXT);
    expect(data.model).toBe('llama3.1:8b');
    expect(response.headers.get('x-gateway-provider')).toBe('local');
    expect(response.headers.get('x-gateway-model')).toBe('llama3.1:8b');
    expect(fake.lastChatBody()).toEqual({ model: 'llama3.1:8b', messages: hello, temperature: 0 });
    // The gateway's own client key is not forwarded to the upstream.
    expect(fake.lastChatRequest().headers.authorization).not.toContain('sk-test-client');
  });

  it('is listed in /health as enabled although it has no key', async () => {
    const health = (await (await fetch(`${gw.url}/health`)).json()) as { providers: { enabled: string[] } };
    expect(health.providers.enabled).toContain('local');
  });

  it('streams with usage when asked', async () => {
    const stream = await gw.client.chat.completions.create({ model: 'llama', messages: hello, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(DEFAULT_TEXT);
    expect(usage).toMatchObject({ prompt_tokens: 1200, completion_tokens: 300 });
    expect(fake.lastChatBody()).toMatchObject({ model: 'llama3.1:8b', stream: true, stream_options: { include_usage: true } });
  });

  it('reaches the server directly as local/<model>', async () => {
    const res = await gw.client.chat.completions.create({ model: 'local/qwen2.5:0.5b', messages: hello });
    expect(res.model).toBe('qwen2.5:0.5b');
    expect(fake.lastChatBody().model).toBe('qwen2.5:0.5b');
  });
});
