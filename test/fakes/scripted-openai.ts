/**
 * A small OpenAI-compatible upstream for balancing tests: it answers `chat.completion` JSON or
 * `chat.completion.chunk` SSE naming itself in the text ("from <name>"), and each test scripts
 * how it behaves: fail with a status (and `retry-after`), stall, answer slowly, cut a stream
 * before or after its first content chunk. `behave()` changes the answer for every request
 * until changed again; `enqueue()` (from the base) scripts just the next one.
 */
import type { ServerResponse } from 'node:http';
import { sendJson, sendSseSplit, sseEvents, startFakeServer, type FakeHandler, type FakeServer, type RecordedRequest } from './fake-server.js';

export interface ScriptedOpenAI extends FakeServer {
  name: string;
  /** The full answer text of a successful call. */
  text: string;
  /** Answers every request with `handler` from now on; `undefined` restores normal answers. */
  behave(handler: FakeHandler | undefined): void;
  /** Chat completion requests received so far. */
  chatCalls(): number;
}

type Body = { model?: string; stream?: boolean };

/** The answer text split in three content chunks. */
function pieces(name: string): string[] {
  return ['from ', name, ' ✓'];
}

function chunk(name: string, model: string, delta: Record<string, unknown>, finish: string | null = null) {
  return { id: `chatcmpl-${name}`, object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }] };
}

/** SSE of a whole answer: role, content pieces, finish, usage, `[DONE]`. */
export function streamBody(name: string, model: string): string {
  const events: Array<{ data: unknown }> = [{ data: chunk(name, model, { role: 'assistant', content: '' }) }];
  for (const piece of pieces(name)) events.push({ data: chunk(name, model, { content: piece }) });
  events.push({ data: chunk(name, model, {}, 'stop') });
  events.push({
    data: { id: `chatcmpl-${name}`, object: 'chat.completion.chunk', created: 1, model, choices: [], usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 } },
  });
  events.push({ data: '[DONE]' });
  return sseEvents(events);
}

export function answer(name: string, req: RecordedRequest, res: ServerResponse): Promise<void> | void {
  const body = (req.body ?? {}) as Body;
  const model = body.model ?? 'unknown';
  if (body.stream) return sendSseSplit(res, streamBody(name, model));
  sendJson(res, 200, {
    id: `chatcmpl-${name}`,
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: pieces(name).join('') }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 },
  });
}

/** An OpenAI error answer, with `retry-after` (seconds) when given. */
export function failWith(status: number, retryAfter?: number): FakeHandler {
  return (_req, res) => {
    const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) };
    sendJson(res, status, { error: { message: `scripted ${status}`, type: status === 400 ? 'invalid_request_error' : 'server_error', param: null, code: null } }, headers);
  };
}

/** Never answers; the gateway's timeout has to give up. The socket closes with the server. */
export function stall(): FakeHandler {
  return () => new Promise<void>(() => undefined);
}

/** Answers normally after `ms`. */
export function slow(name: string, ms: number): FakeHandler {
  return async (req, res) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    await answer(name, req, res);
  };
}

/**
 * A stream whose connection dies after `contentChunks` content chunks (0: before any content,
 * after the headers and the role chunk went out).
 */
export function cutStream(name: string, contentChunks: number): FakeHandler {
  return async (req, res) => {
    const model = ((req.body ?? {}) as Body).model ?? 'unknown';
    const events: Array<{ data: unknown }> = [{ data: chunk(name, model, { role: 'assistant', content: '' }) }];
    for (const piece of pieces(name).slice(0, contentChunks)) events.push({ data: chunk(name, model, { content: piece }) });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(sseEvents(events));
    await new Promise((resolve) => setTimeout(resolve, 20));
    res.socket?.destroy();
  };
}

export async function startScriptedOpenAI(name: string): Promise<ScriptedOpenAI> {
  let behaviour: FakeHandler | undefined;
  const server = await startFakeServer((req, res) => {
    if (!req.url.endsWith('/chat/completions')) return failWith(404)(req, res);
    return behaviour ? behaviour(req, res) : answer(name, req, res);
  });
  return Object.assign(server, {
    name,
    text: pieces(name).join(''),
    behave: (handler: FakeHandler | undefined) => {
      behaviour = handler;
    },
    chatCalls: () => server.requests.filter((r) => r.url.endsWith('/chat/completions')).length,
  });
}
