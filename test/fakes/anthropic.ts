/**
 * A fake Anthropic Messages API (POST /v1/messages) that answers in the real wire format:
 * JSON messages, SSE with the real event sequence, error bodies with the real statuses.
 * It checks requests the way the API does (auth, version header, max_tokens, tool_result
 * pairing, sampling fields rejected by API version 2026-10-21), so a mapping mistake in the
 * adapter shows up as the 400 a real call would get. On alternation it is stricter than
 * today's API, which merges same-role turns itself: the adapter promises strict turns.
 * https://docs.anthropic.com/en/api/messages-streaming
 */
import type { ServerResponse } from 'node:http';
import { sendJson, sendSseSplit, sseEvents, startFakeServer, type FakeServer, type RecordedRequest } from './fake-server.js';

export type FakeBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown };

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** What the next answer says; unset fields take the defaults of `DEFAULT_MESSAGE`. */
export interface FakeMessageSpec {
  id?: string;
  model?: string;
  content?: FakeBlock[];
  stop_reason?: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';
  stop_sequence?: string | null;
  usage?: Partial<FakeUsage>;
}

export interface FakeMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: FakeBlock[];
  stop_reason: string;
  stop_sequence: string | null;
  stop_details: null;
  container: null;
  diagnostics: null;
  usage: FakeUsage & { service_tier: 'standard' };
}

/** Multi-byte characters on purpose: split SSE must not break them. */
export const DEFAULT_TEXT = 'Hello from Claude. ¿Qué tal? 👋 Ça va.';

export const DEFAULT_USAGE: FakeUsage = { input_tokens: 21, output_tokens: 9, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

export function buildMessage(spec: FakeMessageSpec, model: string): FakeMessage {
  return {
    id: spec.id ?? 'msg_01FakeAnthropicXyz',
    type: 'message',
    role: 'assistant',
    model: spec.model ?? model,
    content: spec.content ?? [{ type: 'text', text: DEFAULT_TEXT }],
    stop_reason: spec.stop_reason ?? 'end_turn',
    stop_sequence: spec.stop_sequence ?? null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: { ...DEFAULT_USAGE, ...spec.usage, service_tier: 'standard' },
  };
}

function pieces(text: string, size: number): string[] {
  const chars = Array.from(text); // code points: a delta never holds half a character
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

/** The real event sequence of a streamed message, `ping` after the first block start as the API does. */
export function messageEvents(message: FakeMessage): Array<{ event: string; data: unknown }> {
  const { input_tokens, cache_read_input_tokens, cache_creation_input_tokens, service_tier } = message.usage;
  const events: Array<{ event: string; data: unknown }> = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: {
          ...message,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens: 1, service_tier },
        },
      },
    },
  ];
  message.content.forEach((block, index) => {
    const start = block.type === 'text' ? { type: 'text', text: '' } : { type: 'tool_use', id: block.id, name: block.name, input: {} };
    events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: start } });
    if (index === 0) events.push({ event: 'ping', data: { type: 'ping' } });
    const deltas =
      block.type === 'text'
        ? pieces(block.text, 6).map((text) => ({ type: 'text_delta', text }))
        : ['', ...pieces(JSON.stringify(block.input), 7)].map((partial_json) => ({ type: 'input_json_delta', partial_json }));
    for (const delta of deltas) events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta } });
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push(
    {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence },
        usage: { output_tokens: message.usage.output_tokens },
      },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  );
  return events;
}

export function errorBody(type: string, message: string): { type: 'error'; error: { type: string; message: string } } {
  return { type: 'error', error: { type, message } };
}

function sendError(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, errorBody(type, message), { 'request-id': 'req_fake_error', ...headers });
}

// ---- request checks, as the API makes them ----
type Body = Record<string, unknown>;
type Turn = { role?: unknown; content?: unknown };

function blocksOf(turn: Turn): Array<Record<string, unknown>> {
  if (typeof turn.content === 'string') return [{ type: 'text', text: turn.content }];
  return Array.isArray(turn.content) ? (turn.content as Array<Record<string, unknown>>) : [];
}

function idsOf(turn: Turn | undefined, type: 'tool_use' | 'tool_result'): string[] {
  if (!turn) return [];
  return blocksOf(turn)
    .filter((b) => b.type === type)
    .map((b) => String(type === 'tool_use' ? b.id : b.tool_use_id));
}

/** Cache breakpoints anywhere in the prompt: tools, system blocks, message blocks and tool_result contents. */
function countCacheControl(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + countCacheControl(item), 0);
  if (value === null || typeof value !== 'object') return 0;
  const record = value as Record<string, unknown>;
  let count = record.cache_control !== undefined ? 1 : 0;
  if (Array.isArray(record.content)) count += countCacheControl(record.content);
  return count;
}

/** The first fault the real API would answer 400 for, or undefined. */
export function findRequestFault(body: Body): string | undefined {
  for (const field of ['temperature', 'top_p', 'top_k']) {
    if (field in body) return `${field}: Extra inputs are not permitted`;
  }
  if (typeof body.model !== 'string') return 'model: Field required';
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) return 'max_tokens: Field required';
  const thinking = body.thinking as { type?: string; budget_tokens?: number } | undefined;
  if (thinking?.type === 'enabled' && !((thinking.budget_tokens ?? 0) >= 1024 && (thinking.budget_tokens ?? 0) < (body.max_tokens as number))) {
    return 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024 and less than max_tokens';
  }
  const lastAssistant = Array.isArray(body.messages) ? (body.messages as Turn[]).findLast((turn) => turn.role === 'assistant') : undefined;
  if (thinking?.type === 'enabled' && lastAssistant && idsOf(lastAssistant, 'tool_use').length > 0 && blocksOf(lastAssistant)[0]?.type !== 'thinking') {
    return 'messages: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block.';
  }
  const breakpoints = countCacheControl(body.tools) + countCacheControl(body.system) + countCacheControl(body.messages);
  if (breakpoints > 4) return `A maximum of 4 blocks with cache_control may be provided. Found ${breakpoints}.`;
  const messages = body.messages as Turn[] | undefined;
  if (!Array.isArray(messages) || messages.length === 0) return 'messages: at least one message is required';
  for (let i = 0; i < messages.length; i++) {
    const turn = messages[i]!;
    if (turn.role !== 'user' && turn.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (i === 0 && turn.role !== 'user') return 'messages: first message must use the "user" role';
    if (i > 0 && messages[i - 1]!.role === turn.role) {
      return `messages: roles must alternate between "user" and "assistant", but found multiple "${String(turn.role)}" roles in a row`;
    }
    for (const block of blocksOf(turn)) {
      if (block.type === 'text' && !block.text) return `messages.${i}: text content blocks must be non-empty`;
    }
    const used = idsOf(messages[i - 1], 'tool_use');
    for (const id of idsOf(turn, 'tool_result')) {
      if (!used.includes(id)) return `messages.${i}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}`;
    }
    const answered = idsOf(messages[i + 1], 'tool_result');
    if (turn.role === 'assistant' && i < messages.length - 1) {
      const missing = idsOf(turn, 'tool_use').filter((id) => !answered.includes(id));
      if (missing.length > 0) return `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}`;
    }
  }
  return undefined;
}

// ---- the server ----
export interface FakeAnthropic extends FakeServer {
  /** JSON bodies received at POST /v1/messages, oldest first. */
  messageBodies(): Body[];
  lastMessageBody(): Body;
  /** Answers the next call with this message, as JSON or as SSE (cut at `cut` byte sizes) as the call asks. */
  enqueueMessage(spec: FakeMessageSpec, options?: { cut?: number[] }): void;
  /** Answers the next call with an error body of this status and type. */
  enqueueError(status: number, type: string, message: string, headers?: Record<string, string>): void;
  /** Streams the first `afterEvents` events of the message, then an `event: error` frame. */
  enqueueStreamError(spec: FakeMessageSpec, afterEvents: number, error?: { type: string; message: string }): void;
  /** Streams the message but destroys the socket after `bytes` bytes. */
  enqueueCutStream(spec: FakeMessageSpec, bytes: number): void;
  /** Streams the first `events` events and ends the response cleanly, without message_stop (a proxy cutting a stream). */
  enqueueShortStream(spec: FakeMessageSpec, events: number): void;
  /**
   * Sends the first `afterEvents` events of a stream (none for a JSON call) and then nothing.
   * The promise resolves when the caller closed the request.
   */
  enqueueStall(afterEvents?: number): Promise<void>;
}

export async function startFakeAnthropic(options: { apiKey?: string } = {}): Promise<FakeAnthropic> {
  const apiKey = options.apiKey ?? 'test-key';

  /** Checks what every call must carry; answers the error and returns false when one fails. */
  function accept(req: RecordedRequest, res: ServerResponse): boolean {
    if (req.method !== 'POST' || req.url.split('?')[0] !== '/v1/messages') {
      sendError(res, 404, 'not_found_error', `Not found: ${req.method} ${req.url}`);
      return false;
    }
    const auth = req.headers.authorization ?? '';
    const key = auth.startsWith('Bearer ') ? auth.slice(7) : req.headers['x-api-key'];
    if (key !== apiKey) {
      sendError(res, 401, 'authentication_error', 'invalid x-api-key');
      return false;
    }
    if (!req.headers['anthropic-version']) {
      sendError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
      return false;
    }
    const fault = req.body && typeof req.body === 'object' ? findRequestFault(req.body as Body) : 'request body must be JSON';
    if (fault) {
      sendError(res, 400, 'invalid_request_error', fault);
      return false;
    }
    return true;
  }

  function answer(spec: FakeMessageSpec, cut?: number[]) {
    return async (req: RecordedRequest, res: ServerResponse) => {
      if (!accept(req, res)) return;
      const body = req.body as Body;
      const message = buildMessage(spec, String(body.model));
      if (body.stream === true) await sendSseSplit(res, sseEvents(messageEvents(message)), { cut });
      else sendJson(res, 200, message, { 'request-id': 'req_fake_ok' });
    };
  }

  const server = await startFakeServer(answer({}));
  const messageBodies = () => server.requests.filter((r) => r.url.startsWith('/v1/messages')).map((r) => r.body as Body);

  return {
    ...server,
    messageBodies,
    lastMessageBody: () => {
      const last = messageBodies().at(-1);
      if (!last) throw new Error('the fake Anthropic received no /v1/messages call');
      return last;
    },
    enqueueMessage: (spec, opts = {}) => server.enqueue(answer(spec, opts.cut)),
    enqueueError: (status, type, message, headers) => server.enqueue((_req, res) => sendError(res, status, type, message, headers)),
    enqueueStreamError: (spec, afterEvents, error = { type: 'overloaded_error', message: 'Overloaded' }) =>
      server.enqueue(async (req, res) => {
        if (!accept(req, res)) return;
        const events = messageEvents(buildMessage(spec, String((req.body as Body).model))).slice(0, afterEvents);
        await sendSseSplit(res, sseEvents([...events, { event: 'error', data: errorBody(error.type, error.message) }]));
      }),
    enqueueCutStream: (spec, bytes) =>
      server.enqueue(async (req, res) => {
        if (!accept(req, res)) return;
        const events = messageEvents(buildMessage(spec, String((req.body as Body).model)));
        await sendSseSplit(res, sseEvents(events), { stopAfterBytes: bytes });
      }),
    enqueueShortStream: (spec, count) =>
      server.enqueue(async (req, res) => {
        if (!accept(req, res)) return;
        const events = messageEvents(buildMessage(spec, String((req.body as Body).model))).slice(0, count);
        await sendSseSplit(res, sseEvents(events));
      }),
    enqueueStall: (afterEvents = 0) =>
      new Promise<void>((closed) => {
        server.enqueue(async (req, res) => {
          res.on('close', () => closed());
          if (!accept(req, res)) return;
          const body = req.body as Body;
          if (body.stream !== true) return; // a JSON call: never answer
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          res.write(sseEvents(messageEvents(buildMessage({}, String(body.model))).slice(0, afterEvents)));
        });
      }),
  };
}
