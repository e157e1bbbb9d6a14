/**
 * The Responses stream on the wire: every frame is `event: <type>` plus `data:` whose `type`
 * matches and whose `sequence_number` counts up from 0; items open, grow and close in order;
 * the SDK's `responses.stream` helper assembles the same answer a plain call gets. Also through
 * the response cache, whose replays are new responses with ids of their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from './fakes/anthropic.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

let anthropic: FakeAnthropic;
let gw: TestGateway;

beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  gw = await startGateway({
    providers: { demo: { type: 'mock' }, anthropic: { type: 'anthropic', api_key: 'test-key', base_url: anthropic.url } },
    models: [
      { name: 'mock', deployments: [{ provider: 'demo', model: 'mock-1' }] },
      { name: 'cached', cache: { ttl_s: 60 }, deployments: [{ provider: 'demo', model: 'mock-1' }] },
      { name: 'claude', retries: 0, deployments: [{ provider: 'anthropic', model: 'claude-3-5-haiku-latest' }] },
    ],
  });
});

afterAll(async () => {
  await gw?.close();
  await anthropic?.close();
});

interface Frame {
  event: string;
  data: Record<string, any>;
}

async function frames(body: Record<string, unknown>): Promise<{ frames: Frame[]; headers: Headers }> {
  const res = await fetch(`${gw.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const text = await res.text();
  const out = text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const [eventLine, dataLine, ...rest] = block.split('\n');
      expect(rest).toEqual([]);
      return { event: eventLine!.replace(/^event: /, ''), data: JSON.parse(dataLine!.replace(/^data: /, '')) };
    });
  return { frames: out, headers: res.headers };
}

function checkSequence(list: Frame[]): void {
  list.forEach((frame, i) => {
    expect(frame.data.type).toBe(frame.event);
    expect(frame.data.sequence_number).toBe(i);
  });
}

/** Event types with runs of deltas folded into one. */
function shape(list: Frame[]): string[] {
  return list.map((frame) => frame.event).filter((type, i, all) => !(type.endsWith('.delta') && all[i - 1] === type));
}

describe('the event sequence', () => {
  it('a text answer: created, in_progress, one message item with one text part, completed', async () => {
    const { frames: list } = await frames({ model: 'mock', input: 'Hello stream' });
    checkSequence(list);
    expect(shape(list)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const text = list.filter((f) => f.event === 'response.output_text.delta').map((f) => f.data.delta).join('');
    expect(text).toBe('This is a mock answer from mock-1. You said: Hello stream');
    expect(list.find((f) => f.event === 'response.output_text.done')!.data).toMatchObject({ text, logprobs: [], content_index: 0, output_index: 0 });
    expect(list[0]!.data.response).toMatchObject({ status: 'in_progress', output: [], usage: null, model: 'mock-1' });
    const completed = list.at(-1)!.data.response;
    expect(completed).toMatchObject({ status: 'completed', output: [{ type: 'message', status: 'completed', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] }] });
    expect(completed.usage.total_tokens).toBeGreaterThan(0);
    expect(completed.id).toBe(list[0]!.data.response.id);
  });

  it('text then two tool calls: each item closes before the next one opens', async () => {
    anthropic.enqueueMessage({
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: { city: 'Bern' } },
        { type: 'tool_use', id: 'toolu_10', name: 'get_weather', input: { city: 'Basel' } },
      ],
      stop_reason: 'tool_use',
    });
    const { frames: list } = await frames({ model: 'claude', input: 'Weather in Bern?', tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }] });
    checkSequence(list);
    expect(shape(list)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const added = list.filter((f) => f.event === 'response.output_item.added').map((f) => f.data);
    expect(added[1]).toMatchObject({ output_index: 1, item: { type: 'function_call', call_id: 'toolu_9', name: 'get_weather', arguments: '', status: 'in_progress' } });
    const done = list.filter((f) => f.event === 'response.function_call_arguments.done').map((f) => JSON.parse(f.data.arguments));
    expect(done).toEqual([{ city: 'Bern' }, { city: 'Basel' }]);
    expect(list.at(-1)!.data.response.output.map((item: { type: string; status: string }) => [item.type, item.status])).toEqual([
      ['message', 'completed'],
      ['function_call', 'completed'],
      ['function_call', 'completed'],
    ]);
  });
});

describe('the SDK stream helper', () => {
  it('emits text deltas with snapshots and a final response equal to a plain call', async () => {
    const plain = await gw.client.responses.create({ model: 'mock', input: 'Same answer?' });
    const stream = gw.client.responses.stream({ model: 'mock', input: 'Same answer?' });
    const snapshots: string[] = [];
    stream.on('response.output_text.delta', (event) => snapshots.push(event.snapshot));
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(plain.output_text);
    expect(snapshots.at(-1)).toBe(plain.output_text);
    expect(snapshots.length).toBeGreaterThan(3);
    expect(final.id).not.toBe(plain.id);
  });
});

describe('through the response cache', () => {
  it('a cached answer is a new response with its own id, stored and streamable', async () => {
    const request = { model: 'cached', input: 'Cache me', temperature: 0 };
    const { data: first, response: miss } = await gw.client.responses.create(request).withResponse();
    const { data: second, response: hit } = await gw.client.responses.create(request).withResponse();
    expect(miss.headers.get('x-gateway-cache')).toBe('miss');
    expect(hit.headers.get('x-gateway-cache')).toBe('hit');
    expect(second.id).not.toBe(first.id);
    expect(second.output_text).toBe(first.output_text);
    expect((await gw.client.responses.retrieve(second.id)).output_text).toBe(first.output_text);
    const { frames: list, headers } = await frames(request);
    expect(headers.get('x-gateway-cache')).toBe('hit');
    checkSequence(list);
    expect(list.at(-1)!.data.response.output[0].content[0].text).toBe(first.output_text);
  });
});
