/**
 * Canonical chunks written as Anthropic Messages SSE: `message_start`, a `ping`, per content
 * block `content_block_start` / `content_block_delta` (`text_delta`, `input_json_delta`) /
 * `content_block_stop`, then `message_delta` (stop reason and usage) and `message_stop`.
 * Every frame has its `event:` line: the Anthropic SDKs skip frames without one. The SDK keeps
 * the message as it stood at `message_stop`, so the usage goes in `message_delta`, before it.
 * https://docs.anthropic.com/en/api/messages-streaming
 */
import { assertNever, type ChatChunk, type FinishReason, type Usage } from '../core/types.js';
import type { GatewayError } from '../core/errors.js';
import type { ChatStreamEncoder } from './chat-format.js';
import { toAnthropicErrorBody } from './anthropic-error.js';
import { toAnthropicUsage, toStopReason } from './anthropic-message.js';

const PING_FRAME = 'event: ping\ndata: {"type":"ping"}\n\n';
const MESSAGE_STOP_FRAME = 'event: message_stop\ndata: {"type":"message_stop"}\n\n';

type OpenBlock = 'none' | 'text' | 'tool';

/**
 * One stream's encoder. Frames are built as strings around JSON-escaped values, without an
 * object per delta: text deltas, the commonest frame, cost one `JSON.stringify` of the text.
 */
export class MessagesStreamEncoder implements ChatStreamEncoder {
  private started = false;
  /** Index the next content block gets. */
  private nextIndex = 0;
  private open: OpenBlock = 'none';
  /** Content-block index of each tool call, by its position among the answer's tool calls. */
  private readonly toolBlocks: number[] = [];
  private openTool = -1;
  private finish: FinishReason = 'stop';
  private stopSequence: string | undefined;

  constructor(
    private readonly id: string,
    private model: string,
  ) {}

  setModel(model: string): void {
    if (model && !this.started) this.model = model;
  }

  get upstreamModel(): string {
    return this.model;
  }

  /** message_start (usage is only known at the end: message_delta carries it) and a ping, once. */
  private start(): string {
    if (this.started) return '';
    this.started = true;
    const message = `{"id":${JSON.stringify(this.id)},"type":"message","role":"assistant","model":${JSON.stringify(this.model)},"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}`;
    return `event: message_start\ndata: {"type":"message_start","message":${message}}\n\n${PING_FRAME}`;
  }

  private closeBlock(): string {
    if (this.open === 'none') return '';
    this.open = 'none';
    this.openTool = -1;
    return `event: content_block_stop\ndata: {"type":"content_block_stop","index":${this.nextIndex - 1}}\n\n`;
  }

  private openText(): string {
    const frames = this.closeBlock();
    this.open = 'text';
    return `${frames}event: content_block_start\ndata: {"type":"content_block_start","index":${this.nextIndex++},"content_block":{"type":"text","text":""}}\n\n`;
  }

  private openToolUse(toolIndex: number, id: string, name: string): string {
    const frames = this.closeBlock();
    this.open = 'tool';
    this.openTool = toolIndex;
    this.toolBlocks[toolIndex] = this.nextIndex;
    const block = `{"type":"tool_use","id":${JSON.stringify(id)},"name":${JSON.stringify(name)},"input":{}}`;
    return `${frames}event: content_block_start\ndata: {"type":"content_block_start","index":${this.nextIndex++},"content_block":${block}}\n\n`;
  }

  private toolDelta(chunk: Extract<ChatChunk, { type: 'tool-call-delta' }>): string {
    let frames = '';
    let index = this.toolBlocks[chunk.toolIndex];
    if (index === undefined || (chunk.id !== undefined && chunk.toolIndex !== this.openTool)) {
      // A call's first delta names it; a provider that never sent an id still needs one here.
      frames = this.openToolUse(chunk.toolIndex, chunk.id ?? `toolu_${this.id.slice(4)}_${chunk.toolIndex}`, chunk.name ?? '');
      index = this.toolBlocks[chunk.toolIndex]!;
    }
    if (chunk.argumentsDelta === '') return frames;
    // A delta for an earlier call (providers that interleave calls) still lands on that call's block.
    return `${frames}event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(chunk.argumentsDelta)}}}\n\n`;
  }

  encode(chunk: ChatChunk): string {
    switch (chunk.type) {
      case 'text-delta': {
        // The Messages API has one choice; the route never asks for more.
        if (chunk.choice !== 0 || chunk.text === '') return this.start();
        const frames = this.open === 'text' ? this.start() : this.start() + this.openText();
        return `${frames}event: content_block_delta\ndata: {"type":"content_block_delta","index":${this.nextIndex - 1},"delta":{"type":"text_delta","text":${JSON.stringify(chunk.text)}}}\n\n`;
      }
      case 'tool-call-delta':
        if (chunk.choice !== 0) return this.start();
        return this.start() + this.toolDelta(chunk);
      case 'finish':
        if (chunk.choice !== 0) return '';
        this.finish = chunk.finishReason;
        this.stopSequence = chunk.stopSequence;
        return this.start() + this.closeBlock();
      case 'meta':
        return this.start();
      case 'usage':
        // The final usage comes to `end`.
        return '';
      default:
        return assertNever(chunk);
    }
  }

  end(usage: Usage): string {
    const stopReason = toStopReason(this.finish, this.stopSequence, this.toolBlocks.length > 0);
    const stopSequence = stopReason === 'stop_sequence' && this.stopSequence !== undefined ? JSON.stringify(this.stopSequence) : 'null';
    const delta = `{"stop_reason":"${stopReason}","stop_sequence":${stopSequence}}`;
    return `${this.start()}${this.closeBlock()}event: message_delta\ndata: {"type":"message_delta","delta":${delta},"usage":${JSON.stringify(toAnthropicUsage(usage))}}\n\n${MESSAGE_STOP_FRAME}`;
  }

  /** An `error` event and no message_stop: the SDK raises an APIError of the error's type. */
  fail(error: GatewayError): string {
    return `event: error\ndata: ${JSON.stringify(toAnthropicErrorBody(error))}\n\n`;
  }
}
