/**
 * Every way a call can fail, as a client sees it: status, OpenAI error shape (through the SDK's
 * error classes and raw fetch), headers, and for streams the final error event. Upstream
 * failures are scripted on a wire-faithful fake OpenAI.
 */
import OpenAI from 'openai';
import { eventually } from './helpers/wait.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { apiErrorOf as expectApiError } from './helpers/http.js';
import { closedPort } from './helpers/ports.js';

const KEY = 'sk-fake-openai';

const FAILING_GROUPS = ['e400', 'e401', 'e402', 'e403', 'e404', 'e408', 'e429', 'e500', 'e503', 'bad-json', 'html', 'cut-sdk', 'cut-raw', 'frame-sdk', 'frame-raw', 'left-stream', 'left-call'];

let fake: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: KEY });
  const refusedPort = await closedPort();
  gw = await startGateway({
    // 0.01 MB ≈ 10 KB: small enough to test 413 with a modest body.
    server: { log_level: 'silent', body_limit_mb: 0.01 },
    providers: {
      openai: { type: 'openai', api_key: KEY, base_url: `${fake.url}/v1` },
      gone: { type: 'openai', api_key: KEY, base_url: `http://127.0.0.1:${refusedPort}/v1` },
    },
    // retries: 0 everywhere: each test scripts one upstream answer and must not re-hit the fake.
    // Each failure scenario has a group (so a deployment) of its own: the balancer cools a
    // deployment down after failures and for a 429's retry-after, which would turn the next
    // test's answer into a 503.
    models: [
      ...['gpt', ...FAILING_GROUPS].map((name) => ({ name, retries: 0, deployments: [{ provider: 'openai', model: 'gpt-4o-mini' }] })),
      ...['slow', 'slow-stream'].map((name) => ({ name, retries: 0, timeout_ms: 300, deployments: [{ provider: 'openai', model: 'gpt-4o-mini' }] })),
      { name: 'refused', retries: 0, deployments: [{ provider: 'gone', model: 'gpt-4o-mini' }] },
    ],
  });
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
});

const hello: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Hello?' }];

interface ErrorShape {
  error: { message: string; type: string; param: string | null; code: string };
}

/** Every error body, checked for a stack trace once all tests ran. */
const bodies: string[] = [];

async function post(path: string, body: string | unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, headers: res.headers, text };
}

/** Asserts the OpenAI error shape and returns its `error` object. */
function errorOf(text: string): ErrorShape['error'] {
  const body = JSON.parse(text) as ErrorShape;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(typeof body.error.type).toBe('string');
  expect(typeof body.error.code).toBe('string');
  return body.error;
}

/** The APIError the SDK throws for a call (fails the test when the call succeeds); its body joins `bodies`. */
async function apiErrorOf(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const apiError = await expectApiError(call);
  bodies.push(JSON.stringify(apiError.error ?? null));
  return apiError;
}

/** Reads a stream with the SDK to its end; returns the text read and what it threw. */
async function readStream(stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>): Promise<{ text: string; error: unknown }> {
  let text = '';
  try {
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  } catch (error) {
    return { text, error };
  }
  return { text, error: undefined };
}

/** The `data:` payloads of an SSE body, `[DONE]` as the string. */
function framesOf(sse: string): unknown[] {
  return sse
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => f.slice(6))
    .map((data) => (data === '[DONE]' ? data : JSON.parse(data)));
}

/** Resolves with `promise`, or fails naming `what` when it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}


describe('bad requests', () => {
  it('malformed JSON → 400 invalid_json', async () => {
    const res = await post('/v1/chat/completions', '{"model": "gpt", "messages": [');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(errorOf(res.text)).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
  });

  it('missing model or messages → 400 naming the param', async () => {
    const noModel = await post('/v1/chat/completions', { messages: hello });
    expect(noModel.status).toBe(400);
    expect(errorOf(noModel.text)).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'missing_field' });

    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'gpt' } as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming));
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe('messages');
    expect(err.type).toBe('invalid_request_error');
  });

  it('empty messages → 400 naming messages', async () => {
    const res = await post('/v1/chat/completions', { model: 'gpt', messages: [] });
    expect(res.status).toBe(400);
    expect(errorOf(res.text).param).toBe('messages');
  });

  it('a mistyped field → 400 naming it', async () => {
    const res = await post('/v1/chat/completions', { model: 'gpt', messages: hello, temperature: 'hot' });
    expect(res.status).toBe(400);
    const error = errorOf(res.text);
    expect(error).toMatchObject({ type: 'invalid_request_error', param: 'temperature', code: 'invalid_request' });
    expect(error.message).toContain('temperature');
  });

  it('a bad role → 400 naming the message role', async () => {
    const err = await apiErrorOf(
      gw.client.chat.completions.create({ model: 'gpt', messages: [{ role: 'robot', content: 'beep' }] } as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming),
    );
    expect(err.status).toBe(400);
    expect(err.param).toBe('messages[0].role');
    expect(err.message).toMatch(/system, developer, user, assistant, tool/);
  });

  it('a tool message without tool_call_id → 400 naming it, before any upstream call', async () => {
    const before = fake.requests.length;
    const res = await post('/v1/chat/completions', {
      model: 'gpt',
      messages: [...hello, { role: 'tool', content: '{"temp":21}' }],
    });
    expect(res.status).toBe(400);
    expect(errorOf(res.text)).toMatchObject({ param: 'messages[1].tool_call_id', code: 'missing_field' });
    expect(fake.requests.length).toBe(before);
  });

  it('an unknown model → 404 model_not_found', async () => {
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'no-such-model', messages: hello }));
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.param).toBe('model');
    expect(err.code).toBe('model_not_found');
    const direct = await post('/v1/chat/completions', { model: 'nobody/gpt-4o', messages: hello });
    expect(direct.status).toBe(404);
    expect(errorOf(direct.text).code).toBe('model_not_found');
  });

  it('a body over server.body_limit_mb → 413', async () => {
    const res = await post('/v1/chat/completions', { model: 'gpt', messages: [{ role: 'user', content: 'x'.repeat(20_000) }] });
    expect(res.status).toBe(413);
    expect(errorOf(res.text)).toMatchObject({ type: 'invalid_request_error', code: 'body_too_large' });
  });

  it('a body sent as text/plain → 400 in our shape', async () => {
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'gpt', messages: hello }), { 'content-type': 'text/plain' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    errorOf(res.text);
  });

  it('an unknown route → 404 in our shape', async () => {
    const res = await fetch(`${gw.url}/v1/nothing-here?x=1`);
    const text = await res.text();
    bodies.push(text);
    expect(res.status).toBe(404);
    const error = errorOf(text);
    expect(error).toMatchObject({ type: 'not_found_error', code: 'not_found' });
    expect(error.message).toContain('/v1/nothing-here');
  });
});

describe('upstream HTTP errors', () => {
  it('400 keeps its status and the provider message', async () => {
    fake.enqueueError(400, { message: "Invalid value for 'temperature': must be at most 2.", param: 'temperature', code: 'invalid_value' });
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'e400', messages: hello }));
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.message).toContain("Invalid value for 'temperature'");
    expect(err.code).toBe('invalid_value');
    expect(err.headers?.get('x-gateway-attempts')).toBe('1');
    expect(err.headers?.get('x-gateway-provider')).toBe('openai');
  });

  it('401 (the gateway’s credentials) → 502 without the provider message', async () => {
    fake.enqueueError(401, { message: 'Incorrect API key provided: sk-fake-***nai. Secret detail.' });
    const res = await post('/v1/chat/completions', { model: 'e401', messages: hello });
    expect(res.status).toBe(502);
    const error = errorOf(res.text);
    expect(error.type).toBe('api_error');
    expect(error.message).not.toContain('Incorrect API key');
    expect(error.message).not.toContain('Secret detail');
    expect(res.text).not.toContain(KEY);
  });

  it('403 → 502 as well', async () => {
    fake.enqueueError(403, { message: 'Country, region, or territory not supported' });
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'e403', messages: hello }));
    expect(err.status).toBe(502);
    expect(err.message).not.toContain('territory');
  });

  it('404 keeps its status and message', async () => {
    fake.enqueueError(404, { message: 'The model `gpt-9` does not exist or you do not have access to it.' });
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'e404', messages: hello }));
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.message).toContain('`gpt-9` does not exist');
  });

  it('429 stays 429 with retry-after', async () => {
    fake.enqueueError(429, { message: 'Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3.' }, { 'retry-after': '7' });
    const res = await post('/v1/chat/completions', { model: 'e429', messages: hello });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    const error = errorOf(res.text);
    expect(error.type).toBe('rate_limit_error');
    // Who is limiting and when to come back; the provider's own text (it can name the account) stays in the logs.
    expect(error.message).toBe('openai is rate limiting the gateway; retry after 7 s');
    expect(error.message).not.toContain('Rate limit reached');
  });

  it('402 (the gateway\'s account) → 502 and 408 → 504, with no provider text', async () => {
    fake.enqueueError(402, { message: 'Your account org-secret-42 is out of credit' });
    const billing = await post('/v1/chat/completions', { model: 'e402', messages: hello });
    expect(billing.status).toBe(502);
    expect(billing.text).not.toContain('org-secret-42');
    fake.enqueueError(408, { message: 'Request timeout' });
    const slow = await post('/v1/chat/completions', { model: 'e408', messages: hello });
    expect(slow.status).toBe(504);
    expect(errorOf(slow.text).type).toBe('timeout_error');
  });

  it('500 and 503 → 502', async () => {
    fake.enqueueError(500, { message: 'The server had an error while processing your request.' });
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'e500', messages: hello }));
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err.status).toBe(502);
    expect(err.type).toBe('api_error');
    expect(err.message).not.toContain('The server had an error');
    fake.enqueueError(503, { message: 'Service Unavailable' });
    const res = await post('/v1/chat/completions', { model: 'e503', messages: hello, stream: true });
    expect(res.status).toBe(502);
    errorOf(res.text);
  });

  it('a 200 whose body is not JSON → 502 upstream_invalid_response', async () => {
    fake.enqueue((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id": "chatcmpl-1", "choices": [');
    });
    const res = await post('/v1/chat/completions', { model: 'bad-json', messages: hello });
    expect(res.status).toBe(502);
    expect(errorOf(res.text)).toMatchObject({ type: 'api_error', code: 'upstream_invalid_response' });
  });

  it('a proxy error page (HTML, 502) → 502 in our shape', async () => {
    fake.enqueue((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    });
    const res = await post('/v1/chat/completions', { model: 'html', messages: hello });
    expect(res.status).toBe(502);
    expect(errorOf(res.text).type).toBe('api_error');
  });

  it('an upstream that never answers → 504 after timeout_ms', async () => {
    const closed = fake.enqueueStall();
    const err = await apiErrorOf(gw.client.chat.completions.create({ model: 'slow', messages: hello }));
    expect(err.status).toBe(504);
    expect(err.type).toBe('timeout_error');
    expect(err.code).toBe('upstream_timeout');
    // The timed-out attempt was cancelled upstream too.
    await within(closed, 5000, 'the upstream connection closing');
  });

  it('a connection refused → 502', async () => {
    const res = await post('/v1/chat/completions', { model: 'refused', messages: hello });
    expect(res.status).toBe(502);
    expect(errorOf(res.text)).toMatchObject({ type: 'api_error', code: 'upstream_unavailable' });
    expect(res.headers.get('x-gateway-attempts')).toBe('1');
    const stream = await post('/v1/chat/completions', { model: 'refused', messages: hello, stream: true });
    expect(stream.status).toBe(502);
  });
});

describe('streams that fail after they started', () => {
  it('a socket cut mid-stream → the SDK raises an APIError, never a clean finish', async () => {
    // ~700 bytes: the role chunk and a few content chunks get through, then the socket dies.
    fake.enqueueCutStream({}, 700);
    const stream = await gw.client.chat.completions.create({ model: 'cut-sdk', messages: hello, stream: true });
    const { text, error } = await readStream(stream);
    expect(text.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('upstream_unavailable');
  });

  it('a socket cut mid-stream → one error frame and no [DONE] on the wire', async () => {
    fake.enqueueCutStream({}, 700);
    const res = await post('/v1/chat/completions', { model: 'cut-raw', messages: hello, stream: true });
    expect(res.status).toBe(200);
    const frames = framesOf(res.text);
    expect(frames).not.toContain('[DONE]');
    const last = frames.at(-1) as ErrorShape;
    expect(last.error).toMatchObject({ type: 'api_error', code: 'upstream_unavailable' });
    expect(frames.slice(0, -1).every((f) => (f as { object?: string }).object === 'chat.completion.chunk')).toBe(true);
  });

  it('an in-stream upstream error frame → an error event the SDK raises', async () => {
    fake.enqueueStreamError({}, 3, { message: 'The server had an error processing your request.', type: 'server_error' });
    const stream = await gw.client.chat.completions.create({ model: 'frame-sdk', messages: hello, stream: true });
    const { text, error } = await readStream(stream);
    expect(text.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    // The provider's own words go to the logs; the client learns which provider failed.
    expect((error as Error).message).toContain('failed with 502');
    expect((error as Error).message).not.toContain('The server had an error');

    fake.enqueueStreamError({}, 3);
    const res = await post('/v1/chat/completions', { model: 'frame-raw', messages: hello, stream: true });
    const frames = framesOf(res.text);
    expect(frames).not.toContain('[DONE]');
    expect((frames.at(-1) as ErrorShape).error.type).toBe('api_error');
  });

  it('an upstream that goes silent mid-stream → a 504 error event after timeout_ms', async () => {
    const closed = fake.enqueueStall(3);
    const res = await post('/v1/chat/completions', { model: 'slow-stream', messages: hello, stream: true });
    expect(res.status).toBe(200);
    const frames = framesOf(res.text);
    expect(frames).not.toContain('[DONE]');
    expect((frames.at(-1) as ErrorShape).error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
    await within(closed, 5000, 'the upstream connection closing');
  });
});

describe('a client that leaves', () => {
  it('aborting a stream closes the upstream connection and the gateway keeps serving', async () => {
    const upstreamClosed = fake.enqueueStall(2);
    const controller = new AbortController();
    const stream = await gw.client.chat.completions.create({ model: 'left-stream', messages: hello, stream: true }, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    controller.abort();
    await within(upstreamClosed, 5000, 'the upstream connection closing');

    const res = await gw.client.chat.completions.create({ model: 'left-stream', messages: hello });
    expect(res.choices[0]?.message.content).toBeTruthy();
  });

  it('aborting a non-streamed call closes the upstream connection and the gateway keeps serving', async () => {
    const upstreamClosed = fake.enqueueStall();
    const controller = new AbortController();
    const requestsBefore = fake.requests.length;
    const call = gw.client.chat.completions.create({ model: 'left-call', messages: hello }, { signal: controller.signal });
    // Abort once the gateway's upstream call is in flight.
    await eventually(() => fake.requests.length > requestsBefore, { what: 'the upstream call' });
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    await within(upstreamClosed, 5000, 'the upstream connection closing');

    const res = await gw.client.chat.completions.create({ model: 'left-call', messages: hello });
    expect(res.choices[0]?.message.content).toBeTruthy();
  });
});

describe('every error body', () => {
  it('is free of stack traces and file paths', () => {
    expect(bodies.length).toBeGreaterThan(10);
    for (const text of bodies) {
      expect(text).not.toMatch(/\n\s+at /);
      expect(text).not.toMatch(/node_modules|\.ts:\d+|file:\/\//);
    }
  });
});
