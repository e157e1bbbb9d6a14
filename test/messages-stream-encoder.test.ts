/**
 * The Messages SSE encoder on chunk sequences the HTTP suites do not reach easily: text then
 * several tool calls, a call without an id, a finish before the usage, an empty answer.
 */
import { describe, expect, it } from 'vitest';
import { MessagesStreamEncoder } from '../src/http/anthropic-stream.js';
import type { ChatChunk } from '../src/core/types.js';

function framesOf(chunks: ChatChunk[], usage = { promptTokens: 30, completionTokens: 5, cachedTokens: 10, cacheWriteTokens: 4 }) {
  const encoder = new MessagesStreamEncoder('msg_0123', 'model-x');
  const text = chunks.map((chunk) => encoder.encode(chunk)).join('') + encoder.end(usage);
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => {
      const [event, data] = frame.split('\n');
      expect(event).toMatch(/^event: /);
      return { event: event!.slice(7), data: JSON.parse(data!.slice(6)) };
    });
}

describe('MessagesStreamEncoder', () => {
  it('closes each block before the next, names every call, and says tool_use whatever the finish reason', () => {
    const frames = framesOf([
      { type: 'meta', model: 'model-x' },
      { type: 'text-delta', choice: 0, text: 'Looking.' },
      { type: 'tool-call-delta', choice: 0, toolIndex: 0, id: 'call_a', name: 'one', argumentsDelta: '' },
      { type: 'tool-call-delta', choice: 0, toolIndex: 0, argumentsDelta: '{"x":1}' },
      { type: 'tool-call-delta', choice: 0, toolIndex: 1, name: 'two', argumentsDelta: '{}' },
      { type: 'finish', choice: 0, finishReason: 'stop' },
      { type: 'usage', usage: { promptTokens: 1, completionTokens: 1, cachedTokens: 0 } },
    ]);
    expect(frames.map((f) => f.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(frames[0]!.data.message).toMatchObject({ id: 'msg_0123', model: 'model-x', content: [], stop_reason: null });
    expect(frames[5]!.data).toEqual({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_a', name: 'one', input: {} } });
    expect(frames[8]!.data.content_block).toEqual({ type: 'tool_use', id: 'toolu_0123_1', name: 'two', input: {} });
    expect(frames[9]!.data).toEqual({ type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } });
    expect(frames[11]!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { input_tokens: 16, output_tokens: 5, cache_read_input_tokens: 10, cache_creation_input_tokens: 4 },
    });
  });

  it('writes a whole, empty message for a stream with no content', () => {
    const frames = framesOf([{ type: 'finish', choice: 0, finishReason: 'length' }]);
    expect(frames.map((f) => f.event)).toEqual(['message_start', 'ping', 'message_delta', 'message_stop']);
    expect(frames[2]!.data.delta).toEqual({ stop_reason: 'max_tokens', stop_sequence: null });
  });

  it('reports the stop sequence that ended the answer', () => {
    const frames = framesOf([
      { type: 'text-delta', choice: 0, text: 'one two' },
      { type: 'finish', choice: 0, finishReason: 'stop', stopSequence: 'three' },
    ]);
    expect(frames.at(-2)!.data.delta).toEqual({ stop_reason: 'stop_sequence', stop_sequence: 'three' });
  });
});
