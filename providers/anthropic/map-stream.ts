/** SSE frames → raw Messages stream events → canonical chunks. */
import { protocolError } from '../../src/core/upstream-error.js';
import type { ChatChunk } from '../../src/core/types.js';
import type { SseEvent } from '../shared/wire-client.js';
import { fromAnthropicErrorEvent } from './errors.js';
import { fromAnthropicUsage } from './from-response.js';
import { mapAnthropicFinishReason } from './map-finish-reason.js';
import { isTextBlock, isToolUseBlock, type AnthropicStreamEvent, type AnthropicUsage } from './wire-types.js';

/**
 * Reads SSE frames (in the wire client's batches) as raw Messages stream events, each frame's
 * data parsed once. An event's kind is its frame's `event:` name, or the data's `type` where
 * the frame has none. `ping` frames and frames without data are skipped; data that is not a
 * JSON object is a protocol error. An `event: error` frame always fails the stream as the
 * provider's error: as an `error` event for mapAnthropicStream where its data is an object, at
 * once where it is not.
 * https://docs.anthropic.com/en/api/messages-streaming
 */
export async function* anthropicStreamEvents(batches: AsyncIterable<SseEvent[]>, provider = 'anthropic'): AsyncGenerator<AnthropicStreamEvent> {
  for await (const frames of batches) {
    for (const frame of frames) {
      const event = eventOf(frame, provider);
      if (event) yield event;
    }
  }
}

/** One frame's event; undefined for a frame that carries none (a ping, no data). */
function eventOf(frame: SseEvent, provider: string): AnthropicStreamEvent | undefined {
  if (frame.event === 'ping' || (frame.data === '' && frame.event !== 'error')) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(frame.data);
  } catch (err) {
    if (frame.event === 'error') throw fromAnthropicErrorEvent(provider, frame.data, err);
    throw protocolError(provider, `${provider} sent a stream event the gateway could not read`, err, frame.data.slice(0, 2000));
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    if (frame.event === 'error') throw fromAnthropicErrorEvent(provider, data, undefined);
    throw protocolError(provider, `${provider} sent a stream event that is not an object`, undefined, frame.data.slice(0, 2000));
  }
  const event = data as { type?: unknown };
  const type = frame.event ?? event.type;
  if (type === 'ping') return undefined;
  return (event.type === type ? event : { ...event, type }) as AnthropicStreamEvent;
}

/**
 * Maps raw Messages stream events to canonical chunks. The `meta` chunk of message_start is
 * held back until the first content, so an `event: error` right after message_start (the
 * usual shape of `overloaded_error`) still fails before any chunk and can fail over.
 * A stream that ends without message_stop was cut: that is an error, never a clean finish.
 */
export async function* mapAnthropicStream(
  events: AsyncIterable<AnthropicStreamEvent> | Iterable<AnthropicStreamEvent>,
  provider = 'anthropic',
): AsyncGenerator<ChatChunk> {
  let meta: ChatChunk | undefined;
  let usage: AnthropicUsage = {};
  /** Anthropic content-block index → position among the message's tool calls. */
  const tools = new Map<number, { toolIndex: number; hasArguments: boolean }>();
  let stopped = false;

  function* flushMeta(): Generator<ChatChunk> {
    if (meta) yield meta;
    meta = undefined;
  }

  for await (const event of events) {
    switch (event.type) {
      case 'message_start':
        meta = { type: 'meta', id: event.message.id, model: event.message.model };
        usage = { ...event.message.usage };
        break;
      case 'content_block_start': {
        const block = event.content_block;
        if (isToolUseBlock(block)) {
          tools.set(event.index, { toolIndex: tools.size, hasArguments: false });
          yield* flushMeta();
          yield { type: 'tool-call-delta', choice: 0, toolIndex: tools.size - 1, id: block.id, name: block.name, argumentsDelta: '' };
        } else if (isTextBlock(block) && block.text) {
          yield* flushMeta();
          yield { type: 'text-delta', choice: 0, text: block.text };
        }
        break;
      }
      case 'content_block_delta': {
        const delta = event.delta;
        if (delta.type === 'text_delta' && 'text' in delta && delta.text) {
          yield* flushMeta();
          yield { type: 'text-delta', choice: 0, text: delta.text };
        } else if (delta.type === 'input_json_delta' && 'partial_json' in delta && delta.partial_json) {
          const tool = tools.get(event.index);
          if (!tool) break;
          tool.hasArguments = true;
          yield { type: 'tool-call-delta', choice: 0, toolIndex: tool.toolIndex, argumentsDelta: delta.partial_json };
        }
        break;
      }
      case 'content_block_stop': {
        // A call without arguments streams no JSON at all; OpenAI clients expect "{}".
        const tool = tools.get(event.index);
        if (tool && !tool.hasArguments) yield { type: 'tool-call-delta', choice: 0, toolIndex: tool.toolIndex, argumentsDelta: '{}' };
        break;
      }
      case 'message_delta':
        // message_delta usage is cumulative; fields it leaves null keep message_start's value.
        for (const [key, value] of Object.entries(event.usage ?? {})) {
          if (value != null) usage[key as keyof AnthropicUsage] = value as number;
        }
        yield* flushMeta();
        yield event.delta.stop_reason === 'stop_sequence' && event.delta.stop_sequence
          ? { type: 'finish', choice: 0, finishReason: 'stop', stopSequence: event.delta.stop_sequence }
          : { type: 'finish', choice: 0, finishReason: mapAnthropicFinishReason(event.delta.stop_reason) };
        break;
      case 'message_stop':
        stopped = true;
        yield { type: 'usage', usage: fromAnthropicUsage(usage) };
        break;
      case 'error':
        throw fromAnthropicErrorEvent(provider, event, event);
      default:
        // ping, and event kinds newer than this adapter.
        break;
    }
  }
  if (!stopped) throw protocolError(provider, `${provider} stream ended before message_stop`);
}
