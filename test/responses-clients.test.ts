/**
 * The Responses API as real client libraries drive it: the Vercel AI SDK's default
 * `openai(model)` (which speaks Responses), and `@openai/agents` running an agent with a
 * function tool to completion. The offline mock answers with a tool call while the last
 * message is not a tool result, so every loop takes two turns.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { OpenAIProvider, Agent, Runner, tool as agentTool } from '@openai/agents';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMemoryLedger } from '../src/usage/memory-ledger.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

let gw: TestGateway;
const ledger = createMemoryLedger();

beforeAll(async () => {
  gw = await startGateway({ providers: { demo: { type: 'mock' } }, models: [{ name: 'mock', deployments: [{ provider: 'demo', model: 'mock-1' }] }] }, { ledger });
});

afterAll(async () => {
  await gw?.close();
});

function aiSdk() {
  return createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-test-client' });
}

const weather = tool({
  description: 'The weather in a city',
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, forecast: 'sunny' }),
});

describe('the Vercel AI SDK (default openai(model): Responses)', () => {
  it('generateText runs a tool and answers in a second step', async () => {
    const result = await generateText({ model: aiSdk()('mock'), tools: { weather }, stopWhen: stepCountIs(3), prompt: 'What is the weather in Paris?' });
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]?.toolCalls[0]).toMatchObject({ toolName: 'weather', input: { city: 'mock' } });
    expect(result.steps[0]?.toolResults[0]).toMatchObject({ output: { city: 'mock', forecast: 'sunny' } });
    expect(result.text).toContain('This is a mock answer from mock-1');
    expect(result.finishReason).toBe('stop');
    expect(result.totalUsage.inputTokens).toBeGreaterThan(0);
    expect(result.response.id).toMatch(/^resp_[0-9a-f]{32}$/);
  });

  it('streamText streams the same two steps', async () => {
    const result = streamText({ model: aiSdk()('mock'), tools: { weather }, stopWhen: stepCountIs(3), prompt: 'What is the weather in Paris?' });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toContain('This is a mock answer from mock-1');
    const steps = await result.steps;
    expect(steps).toHaveLength(2);
    expect(steps[0]?.toolCalls[0]?.toolName).toBe('weather');
    expect(await result.finishReason).toBe('stop');
  });

  it('a second turn sends the first answer back as an item_reference, which the gateway resolves', async () => {
    const first = await generateText({ model: aiSdk()('mock'), prompt: 'Remember the word kiwi.' });
    const second = await generateText({
      model: aiSdk()('mock'),
      messages: [{ role: 'user', content: 'Remember the word kiwi.' }, ...first.response.messages, { role: 'user', content: 'Which word?' }],
    });
    const sent = second.request.body as { input: Array<Record<string, unknown>> };
    expect(sent.input).toContainEqual({ type: 'item_reference', id: expect.stringMatching(/^msg_/) });
    expect(second.text).toContain('You said: Which word?');
  });
});

describe('@openai/agents (0.14, openai 6)', () => {
  function runner() {
    return new Runner({ modelProvider: new OpenAIProvider({ openAIClient: gw.client }), tracingDisabled: true });
  }

  const getWeather = agentTool({
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: z.object({ city: z.string() }),
    execute: async ({ city }) => `It is sunny in ${city}.`,
  });

  it('runs an agent with one function tool to completion', async () => {
    const agent = new Agent({ name: 'Weather', instructions: 'Answer about the weather.', model: 'mock', tools: [getWeather] });
    const result = await runner().run(agent, 'What is the weather in Paris?');
    expect(result.finalOutput).toContain('This is a mock answer from mock-1');
    const types = result.newItems.map((item) => item.type);
    expect(types).toEqual(['tool_call_item', 'tool_call_output_item', 'message_output_item']);
    expect(result.rawResponses).toHaveLength(2);
  });

  it('streams an agent run to completion', async () => {
    const agent = new Agent({ name: 'Weather', instructions: 'Answer about the weather.', model: 'mock', tools: [getWeather] });
    const result = await runner().run(agent, 'What is the weather in Oslo?', { stream: true });
    let text = '';
    for await (const event of result.toTextStream()) text += event;
    await result.completed;
    expect(text).toContain('This is a mock answer from mock-1');
    expect(result.finalOutput).toBe(text);
  });

  it('records each model call in the ledger under route responses', async () => {
    const records = ledger.records().filter((record) => record.route === 'responses');
    expect(records.length).toBeGreaterThanOrEqual(4);
    expect(records.every((record) => record.status === 200 && record.model === 'mock' && record.provider === 'demo')).toBe(true);
  });
});
