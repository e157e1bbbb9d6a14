/**
 * Canonical chunks as the Responses API's semantic SSE events: `response.created`, then per
 * output item `output_item.added` … deltas … `output_item.done`, then `response.completed` (or
 * `response.incomplete`). Every event carries `sequence_number`, which strict clients require.
 * Items run one after another as OpenAI sends them: text opens a message item, a tool call closes
 * it and opens a function call item, the next tool call closes that one. The delta frames, by far the most frequent, are built as
 * strings around the pre-serialized item id, with no object to stringify.
 * https://platform.openai.com/docs/api-reference/responses-streaming
 */
import type { GatewayError } from '../core/errors.js';
import { assertNever, type ChatChunk, type FinishReason, type Usage } from '../core/types.js';
import type { ChatStreamEncoder } from '../http/chat-format.js';
import { itemId } from './ids.js';
import { buildResponse, endOf, messageItem, toResponseUsage, type ResponseState } from './response-object.js';
import type { ResponsesContext } from './responses-context.js';
import type { FunctionCallItem, ItemStatus, OutputItem } from './wire-types.js';

/** An output item as it grows. */
interface StreamItem {
  kind: 'message' | 'function_call';
  index: number;
  id: string;
  /** `"item_id":…,"output_index":…`, serialized once for every delta of the item. */
  where: string;
  /** The message's text, or the call's arguments. */
  text: string;
  callId: string;
  name: string;
  /** Set when the item closes: later items never change it. */
  status: ItemStatus | undefined;
}

export class ResponsesStreamEncoder implements ChatStreamEncoder {
  private sequence = 0;
  private isStarted = false;
  private readonly items: StreamItem[] = [];
  /** The message item taking text, until a tool call closes it. */
  private message: StreamItem | undefined;
  private readonly calls = new Map<number, StreamItem>();
  private finish: FinishReason | undefined;

  constructor(
    private readonly context: ResponsesContext,
    private model: string,
  ) {}

  setModel(model: string): void {
    if (model) this.model = model;
  }

  get upstreamModel(): string {
    return this.model;
  }

  private event(type: string, fields: Record<string, unknown>): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.sequence++, ...fields })}\n\n`;
  }

  private response(state: Omit<ResponseState, 'model'>) {
    return buildResponse(this.context.responseId, this.context.createdAt, this.context.echo, { ...state, model: this.model });
  }

  private start(): string {
    if (this.isStarted) return '';
    this.isStarted = true;
    const response = this.response({ status: 'in_progress', output: [], usage: null });
    return this.event('response.created', { response }) + this.event('response.in_progress', { response });
  }

  private addItem(kind: StreamItem['kind'], callId = '', name = ''): StreamItem {
    const index = this.items.length;
    const id = itemId(kind === 'message' ? 'msg' : 'fc', this.context.hex, 'o', index);
    const item: StreamItem = { kind, index, id, where: `"item_id":${JSON.stringify(id)},"output_index":${index}`, text: '', callId, name, status: undefined };
    this.items.push(item);
    return item;
  }

  private openMessage(): string {
    return this.announce(this.startMessage());
  }

  private startMessage(): StreamItem {
    const item = this.addItem('message');
    this.message = item;
    return item;
  }

  /** The frames that open a message item and its one text part. */
  private announce(item: StreamItem): string {
    return (
      this.event('response.output_item.added', { output_index: item.index, item: { type: 'message', id: item.id, status: 'in_progress', role: 'assistant', content: [] } }) +
      this.event('response.content_part.added', { item_id: item.id, output_index: item.index, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } })
    );
  }

  private itemStatus(): ItemStatus {
    return this.finish === 'length' ? 'incomplete' : 'completed';
  }

  private snapshot(item: StreamItem, status: ItemStatus): OutputItem {
    if (item.kind === 'message') return messageItem(item.id, item.text, status);
    const call: FunctionCallItem = { type: 'function_call', id: item.id, call_id: item.callId, name: item.name, arguments: item.text, status };
    return call;
  }

  private close(item: StreamItem): string {
    if (item.status) return '';
    item.status = this.itemStatus();
    if (this.message === item) this.message = undefined;
    const at = { item_id: item.id, output_index: item.index };
    // Concatenated in order: each event takes the next sequence number as it is made.
    let out: string;
    if (item.kind === 'function_call') {
      out = this.event('response.function_call_arguments.done', { ...at, name: item.name, arguments: item.text });
    } else {
      out = this.event('response.output_text.done', { ...at, content_index: 0, text: item.text, logprobs: [] });
      out += this.event('response.content_part.done', { ...at, content_index: 0, part: { type: 'output_text', text: item.text, annotations: [], logprobs: [] } });
    }
    return out + this.event('response.output_item.done', { output_index: item.index, item: this.snapshot(item, item.status) });
  }

  /** Items run one after another, as OpenAI streams them: a new item closes the ones before it. */
  private closeAll(): string {
    let out = '';
    for (const item of this.items) out += this.close(item);
    return out;
  }

  private text(text: string): string {
    let out = '';
    let item = this.message;
    if (!item) {
      out = this.closeAll();
      item = this.startMessage();
      out += this.announce(item);
    }
    item.text += text;
    out += `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":${this.sequence++},${item.where},"content_index":0,"delta":${JSON.stringify(text)},"logprobs":[]}\n\n`;
    return out;
  }

  private toolCall(chunk: Extract<ChatChunk, { type: 'tool-call-delta' }>): string {
    let out = '';
    let item = this.calls.get(chunk.toolIndex);
    if (!item) {
      out += this.closeAll();
      item = this.addItem('function_call', chunk.id ?? `call_${this.context.hex}_${chunk.toolIndex}`, chunk.name ?? '');
      this.calls.set(chunk.toolIndex, item);
      out += this.event('response.output_item.added', {
        output_index: item.index,
        item: { type: 'function_call', id: item.id, call_id: item.callId, name: item.name, arguments: '', status: 'in_progress' },
      });
    }
    if (chunk.argumentsDelta) {
      item.text += chunk.argumentsDelta;
      out += `event: response.function_call_arguments.delta\ndata: {"type":"response.function_call_arguments.delta","sequence_number":${this.sequence++},${item.where},"delta":${JSON.stringify(chunk.argumentsDelta)}}\n\n`;
    }
    return out;
  }

  encode(chunk: ChatChunk): string {
    const opening = this.start();
    switch (chunk.type) {
      case 'text-delta':
        // Responses has no `n`: only the first choice is an answer.
        return chunk.choice === 0 && chunk.text ? opening + this.text(chunk.text) : opening;
      case 'tool-call-delta':
        return chunk.choice === 0 ? opening + this.toolCall(chunk) : opening;
      case 'finish':
        if (chunk.choice === 0) this.finish = chunk.finishReason;
        return opening;
      case 'usage':
      case 'meta':
        return opening;
      default:
        return assertNever(chunk);
    }
  }

  /** Closes the open items and the response; stores it first when the request asked (`store`). */
  end(usage: Usage): string | Promise<string> {
    let out = this.start();
    // An answer with no text and no call still gets its (empty) message, as a whole answer does.
    if (this.items.length === 0) out += this.openMessage();
    out += this.closeAll();
    const output = this.items.map((item) => this.snapshot(item, item.status ?? 'completed'));
    const response = this.response({ ...endOf(this.finish), output, usage: toResponseUsage(usage) });
    const closing = () => out + this.event(response.status === 'completed' ? 'response.completed' : 'response.incomplete', { response });
    const { persist } = this.context;
    return persist ? persist(response).then(closing) : closing();
  }

  /**
   * An `error` event, then `response.failed`, as OpenAI ends a stream that failed: the `error`
   * object makes the official SDKs raise, and `response.failed` ends the response's lifecycle for
   * clients that follow it (the AI SDK, the Agents SDK).
   */
  fail(error: GatewayError): string {
    let out = this.start();
    const code = error.providerCode ?? error.code;
    out += this.event('error', { error: { type: error.type, code, message: error.message, param: error.param } });
    const output = this.items.map((item) => this.snapshot(item, item.status ?? 'incomplete'));
    return out + this.event('response.failed', { response: this.response({ status: 'failed', output, usage: null, error: { code, message: error.message } }) });
  }
}
