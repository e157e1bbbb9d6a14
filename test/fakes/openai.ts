/**
 * A fake OpenAI API speaking the real wire format:
 *   POST /v1/chat/completions → `chat.completion` JSON, or `chat.completion.chunk` SSE frames
 *        (role delta, content deltas, tool_call deltas: id/type/name first, then argument
 *        fragments; a finish chunk; with `stream_options.include_usage` a usage chunk with
 *        `choices: []`; then `data: [DONE]`)
 *   POST /v1/embeddings → floats, or little-endian float32 base64 for `encoding_format: base64`
 * Errors are `{ error: { message, type, param, code } }` with the real statuses. Streams are
 * cut at awkward byte boundaries, inside multi-byte characters of the default text.
 * https://platform.openai.com/docs/api-reference/chat-streaming
 */
import type { ServerResponse } from 'node:http';
import { sendJson, sendSseSplit, startFakeServer, type FakeServer, type RecordedRequest } from './fake-server.js';

type Body = Record<string, unknown>;

/** Multi-byte characters on purpose: split SSE must not break them. */
export const DEFAULT_TEXT = 'Hello from OpenAI: héllo 🌍, ça marche — 日本語 too.';

export interface FakeUsage {
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
}

export const DEFAULT_USAGE: FakeUsage = { prompt_tokens: 1200, completion_tokens: 300, cached_tokens: 1000 };

export interface FakeToolCall {
  id: string;
  name: string;
  /** The JSON arguments as the model wrote them. */
  arguments: string;
}

/** What the next answer says; unset fields take defaults. */
export interface FakeChatSpec {
  id?: string;
  /** The model the answer names; the request's model when unset. */
  model?: string;
  /** Assistant text; `null` for a tool-call-only answer. */
  content?: string | null;
  tool_calls?: FakeToolCall[];
  finish_reason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  usage?: Partial<FakeUsage>;
}

export interface OpenAIErrorSpec {
  message: string;
  type?: string;
  param?: string | null;
  code?: string | null;
}

const ERROR_TYPES: Record<number, { type: string; code: string | null }> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory' },
  404: { type: 'invalid_request_error', code: 'model_not_found' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
  500: { type: 'server_error', code: null },
  503: { type: 'server_error', code: null },
};

export function errorBody(status: number, spec: OpenAIErrorSpec): { error: Required<OpenAIErrorSpec> } {
  const defaults = ERROR_TYPES[status] ?? { type: 'server_error', code: null };
  return { error: { message: spec.message, type: spec.type ?? defaults.type, param: spec.param ?? null, code: spec.code ?? defaults.code } };
}

function sendError(res: ServerResponse, status: number, spec: OpenAIErrorSpec, headers: Record<string, string> = {}): void {
  sendJson(res, status, errorBody(status, spec), { 'x-request-id': 'req_fake_error', ...headers });
}

function wireUsage(usage: FakeUsage) {
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.prompt_tokens + usage.completion_tokens,
    prompt_tokens_details: { cached_tokens: usage.cached_tokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

interface Resolved {
  id: string;
  model: string;
  created: number;
  content: string | null;
  toolCalls: FakeToolCall[];
  finish: string;
  usage: FakeUsage;
  /** How many choices the request asked for (`n`). */
  choices: number;
}

function resolve(spec: FakeChatSpec, body: Body): Resolved {
  const toolCalls = spec.tool_calls ?? [];
  return {
    id: spec.id ?? 'chatcmpl-FakeOpenAI123',
    model: spec.model ?? String(body.model),
    created: 1_735_689_600,
    content: spec.content === undefined ? (toolCalls.length > 0 ? null : DEFAULT_TEXT) : spec.content,
    toolCalls,
    finish: spec.finish_reason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
    usage: { ...DEFAULT_USAGE, ...spec.usage },
    choices: typeof body.n === 'number' ? body.n : 1,
  };
}

export function buildCompletion(spec: FakeChatSpec, body: Body) {
  const r = resolve(spec, body);
  return {
    id: r.id,
    object: 'chat.completion',
    created: r.created,
    model: r.model,
    choices: Array.from({ length: r.choices }, (_, index) => ({
      index,
      message: {
        role: 'assistant',
        content: r.content,
        refusal: null,
        annotations: [],
        ...(r.toolCalls.length > 0
          ? { tool_calls: r.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) }
          : {}),
      },
      logprobs: null,
      finish_reason: r.finish,
    })),
    usage: wireUsage(r.usage),
    service_tier: 'default',
    system_fingerprint: 'fp_fake0001',
  };
}

function pieces(text: string, size: number): string[] {
  const chars = Array.from(text); // code points: a delta never holds half a character
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

/**
 * The `data:` payloads of a streamed answer, `[DONE]` excluded. With include_usage every chunk
 * carries `usage: null` and one last chunk with no choices carries the usage, as the API does.
 */
export function buildChunks(spec: FakeChatSpec, body: Body): Body[] {
  const r = resolve(spec, body);
  const includeUsage = (body.stream_options as Body | undefined)?.include_usage === true;
  const chunk = (choices: unknown[]): Body => ({
    id: r.id,
    object: 'chat.completion.chunk',
    created: r.created,
    model: r.model,
    service_tier: 'default',
    system_fingerprint: 'fp_fake0001',
    choices,
    ...(includeUsage ? { usage: null } : {}),
  });
  const choice = (index: number, delta: Body, finish: string | null = null) => ({ index, delta, logprobs: null, finish_reason: finish });
  const out: Body[] = [];
  for (let index = 0; index < r.choices; index++) {
    out.push(chunk([choice(index, { role: 'assistant', content: r.toolCalls.length > 0 ? null : '', refusal: null })]));
    for (const text of r.content === null ? [] : pieces(r.content, 4)) out.push(chunk([choice(index, { content: text })]));
    r.toolCalls.forEach((call, toolIndex) => {
      out.push(
        chunk([choice(index, { tool_calls: [{ index: toolIndex, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] })]),
      );
      for (const fragment of pieces(call.arguments, 5)) {
        out.push(chunk([choice(index, { tool_calls: [{ index: toolIndex, function: { arguments: fragment } }] })]));
      }
    });
    out.push(chunk([choice(index, {}, r.finish)]));
  }
  if (includeUsage) out.push({ ...chunk([]), usage: wireUsage(r.usage) });
  return out;
}

/** Plain `data: {json}` frames the way OpenAI writes them. */
export function sseFrames(payloads: unknown[], done = true): string {
  const frames = payloads.map((p) => `data: ${JSON.stringify(p)}\n\n`).join('');
  return done ? `${frames}data: [DONE]\n\n` : frames;
}

/** Deterministic embedding values; 0.1-style fractions are not exact in float32 on purpose. */
export function fakeEmbedding(text: string, dimensions = 6): number[] {
  return Array.from({ length: dimensions }, (_, k) => Number(((((text.length * 7 + k * 13) % 19) - 9) / 10 + k / 1000).toFixed(4)));
}

function embeddingsAnswer(body: Body) {
  const inputs = typeof body.input === 'string' ? [body.input] : (body.input as string[]);
  const dims = typeof body.dimensions === 'number' ? body.dimensions : undefined;
  const base64 = body.encoding_format === 'base64';
  const tokens = inputs.reduce((sum, text) => sum + Math.max(1, Math.ceil(text.length / 4)), 0);
  return {
    object: 'list',
    data: inputs.map((text, index) => {
      const vector = fakeEmbedding(text, dims);
      return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector };
    }),
    model: String(body.model),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

// ---- the server ----
export interface FakeOpenAI extends FakeServer {
  /** JSON bodies received at POST /v1/chat/completions, oldest first. */
  chatBodies(): Body[];
  lastChatBody(): Body;
  /** The last request received at POST /v1/chat/completions, headers included. */
  lastChatRequest(): RecordedRequest;
  embeddingBodies(): Body[];
  /** Answers the next call with this answer, as JSON or as SSE (cut at `cut` byte sizes) as the call asks. */
  enqueueChat(spec: FakeChatSpec, options?: { cut?: number[] }): void;
  /** Answers the next call with an OpenAI error body of this status. */
  enqueueError(status: number, spec: OpenAIErrorSpec, headers?: Record<string, string>): void;
  /** Streams the first `afterChunks` chunks of the answer, then an in-stream `data: {"error":…}` frame. */
  enqueueStreamError(spec: FakeChatSpec, afterChunks: number, error?: OpenAIErrorSpec): void;
  /** Streams the answer but destroys the socket after `bytes` bytes. */
  enqueueCutStream(spec: FakeChatSpec, bytes: number): void;
  /**
   * Sends the first `afterChunks` chunks of a stream (nothing for a JSON call) and then
   * nothing. The promise resolves when the caller closed the connection.
   */
  enqueueStall(afterChunks?: number): Promise<void>;
}

/** `apiKey: null` accepts any key, as a local OpenAI-compatible server does. */
export async function startFakeOpenAI(options: { apiKey?: string | null } = {}): Promise<FakeOpenAI> {
  const apiKey = options.apiKey === undefined ? 'sk-fake-openai' : options.apiKey;

  /** Checks auth and the body; answers the error and returns false when one fails. */
  function accept(req: RecordedRequest, res: ServerResponse): req is RecordedRequest & { body: Body } {
    if (apiKey !== null && req.headers.authorization !== `Bearer ${apiKey}`) {
      sendError(res, 401, { message: 'Incorrect API key provided: sk-wr***ey. You can find your API key at https://platform.openai.com/account/api-keys.' });
      return false;
    }
    if (!req.body || typeof req.body !== 'object') {
      sendError(res, 400, { message: "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)" });
      return false;
    }
    return true;
  }

  function answerChat(spec: FakeChatSpec, cut?: number[]) {
    return async (req: RecordedRequest, res: ServerResponse) => {
      if (!accept(req, res)) return;
      if (req.body.stream === true) await sendSseSplit(res, sseFrames(buildChunks(spec, req.body)), { cut });
      else sendJson(res, 200, buildCompletion(spec, req.body), { 'x-request-id': 'req_fake_ok', 'openai-processing-ms': '12' });
    };
  }

  const route = async (req: RecordedRequest, res: ServerResponse) => {
    const path = req.url.split('?')[0];
    if (req.method === 'POST' && path === '/v1/chat/completions') return answerChat({})(req, res);
    if (req.method === 'POST' && path === '/v1/embeddings') {
      if (!accept(req, res)) return;
      return sendJson(res, 200, embeddingsAnswer(req.body));
    }
    sendError(res, 404, { message: `Invalid URL (${req.method} ${req.url})`, code: null });
  };

  const server = await startFakeServer(route);
  const chatRequests = () => server.requests.filter((r) => r.url.startsWith('/v1/chat/completions'));
  const lastChatRequest = () => {
    const last = chatRequests().at(-1);
    if (!last) throw new Error('the fake OpenAI received no /v1/chat/completions call');
    return last;
  };

  return {
    ...server,
    chatBodies: () => chatRequests().map((r) => r.body as Body),
    lastChatBody: () => lastChatRequest().body as Body,
    lastChatRequest,
    embeddingBodies: () => server.requests.filter((r) => r.url.startsWith('/v1/embeddings')).map((r) => r.body as Body),
    enqueueChat: (spec, opts = {}) => server.enqueue(answerChat(spec, opts.cut)),
    enqueueError: (status, spec, headers) => server.enqueue((_req, res) => sendError(res, status, spec, headers)),
    enqueueStreamError: (spec, afterChunks, error = { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error' }) =>
      server.enqueue(async (req, res) => {
        if (!accept(req, res)) return;
        const chunks = buildChunks(spec, req.body).slice(0, afterChunks);
        await sendSseSplit(res, sseFrames([...chunks, errorBody(500, error)], false));
      }),
    enqueueCutStream: (spec, bytes) =>
      server.enqueue(async (req, res) => {
        if (!accept(req, res)) return;
        await sendSseSplit(res, sseFrames(buildChunks(spec, req.body)), { stopAfterBytes: bytes });
      }),
    enqueueStall: (afterChunks = 0) =>
      new Promise<void>((closed) => {
        server.enqueue(async (req, res) => {
          res.on('close', () => closed());
          if (!accept(req, res)) return;
          if (req.body.stream !== true) return; // a JSON call: never answer
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          res.write(sseFrames(buildChunks({}, req.body).slice(0, afterChunks), false));
        });
      }),
  };
}
