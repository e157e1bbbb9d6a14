/**
 * The money run's world (test/money-run.test.ts): prices and model groups, the scripted answers
 * of the OpenAI-compatible, Anthropic and Gemini fakes, and the calls the run makes with the
 * official SDK and raw fetch.
 */
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { expect } from 'vitest';
import { REPAIR_OVERHEAD_TOKENS } from '../../src/prompts/json-output.js';
import { buildMessage, errorBody as anthropicError, findRequestFault as anthropicFault, messageEvents } from '../fakes/anthropic.js';
import { sendJson, sendSseSplit, sseEvents, type FakeHandler, type FakeServer, type RecordedRequest } from '../fakes/fake-server.js';
import { findRequestFault as geminiFault, sendGoogleError, textResponse, toSseBody, toStreamEvents, type GenerateBody, type WireResponse } from '../fakes/gemini.js';
import { buildChunks, buildCompletion, errorBody as openaiError, sseFrames, type FakeChatSpec } from '../fakes/openai.js';
import { clientFor } from './access.js';

export const PREFIX = 'money:';
export const MAX_TOKENS = 40;
export const ANTHROPIC_KEY = 'test-key';
export const GEMINI_KEY = 'test-key';

/** USD per 1M tokens, per provider entry (one deployment each), so a record's provider names its price. */
export const PRICES = {
  'oa-chat': { input: 0.15, output: 0.6, cached_input: 0.075 },
  'oa-cache': { input: 0.1, output: 0.4, cached_input: 0.025 },
  'oa-primary': { input: 0.5, output: 1.5 },
  'oa-backup': { input: 0.25, output: 1.25, cached_input: 0.125 },
  anthropic: { input: 0.8, output: 4, cached_input: 0.08 },
  gemini: { input: 0.1, output: 0.4, cached_input: 0.025 },
} as const;
export type ProviderName = keyof typeof PRICES;
export const UPSTREAM_MODEL: Record<ProviderName, string> = {
  'oa-chat': 'gpt-4o-mini',
  'oa-cache': 'gpt-4.1-nano',
  'oa-primary': 'flaky-primary',
  'oa-backup': 'flaky-backup',
  anthropic: 'claude-3-5-haiku-latest',
  gemini: 'gemini-2.0-flash',
};
export const GROUPS = {
  gpt: ['oa-chat'],
  claude: ['anthropic'],
  gem: ['gemini'],
  flaky: ['oa-primary', 'oa-backup'],
  cached: ['oa-cache'],
} satisfies Record<string, ProviderName[]>;
export type Group = keyof typeof GROUPS;

/** Nano-USD per token, as exact integers (every price above has at most 3 decimals). */
export function ratesOf(provider: ProviderName): { input: number; cached: number; output: number } {
  const price: { input: number; output: number; cached_input?: number } = PRICES[provider];
  return { input: Math.round(price.input * 1000), cached: Math.round((price.cached_input ?? price.input) * 1000), output: Math.round(price.output * 1000) };
}

/** What a record must cost: its tokens at its deployment's configured prices, cached prompt tokens at `cached_input`. */
export function expectedCostNano(provider: ProviderName, prompt: number, completion: number, cachedTokens: number): number {
  const rate = ratesOf(provider);
  const cached = Math.min(cachedTokens, prompt);
  return (prompt - cached) * rate.input + cached * rate.cached + completion * rate.output;
}

/** What admission reserves for a call: its counted prompt at the dearest input price, its cap at the dearest output price. */
/**
 * What admission reserves for a call: its counted prompt and max_tokens at the dearest rates; a
 * JSON prompt, which may need one repair, also reserves that second call (the prompt again, plus
 * the first answer and the bounded repair request, and a second answer).
 */
export function reservationNano(group: Group, promptCount: number, mayRepair = false): number {
  const rates = GROUPS[group].map(ratesOf);
  const input = promptCount + (mayRepair ? promptCount + MAX_TOKENS + REPAIR_OVERHEAD_TOKENS : 0);
  const output = MAX_TOKENS * (mayRepair ? 2 : 1);
  return input * Math.max(...rates.map((r) => r.input)) + output * Math.max(...rates.map((r) => r.output));
}

// ---- scripts: what the upstream answers for one call ----

export interface Script {
  id: number;
  /** The usage as the gateway should read it (OpenAI's shape); each fake writes it in its own wire shape. */
  usage: { prompt: number; completion: number; cached: number };
  /** Anthropic: prompt tokens reported as cache writes. Gemini: completion tokens reported as thoughts. */
  cacheWrites: number;
  thoughts: number;
  text: string;
  tool: boolean;
  /** The stream stops after its first content chunk and waits until the gateway hangs up. */
  stall: boolean;
  /** The answer waits for `releaseHeld` (Redis is killed meanwhile). */
  hold: boolean;
  /** The flaky group's primary deployment answers 500. */
  failPrimary: boolean;
  /** A JSON prompt's answer: valid JSON, or (`repair`) prose first and valid JSON when asked for a repair. */
  json: boolean;
  repair: boolean;
}

export const scripts = new Map<number, Script>();
export let releaseHeld!: () => void;
export const held = new Promise<void>((resolve) => (releaseHeld = resolve));

export function scriptIdOf(body: unknown): number | undefined {
  const match = /\[\[s:(\d+)\]\]/.exec(JSON.stringify(body));
  return match ? Number(match[1]) : undefined;
}

export function scriptOf(body: unknown): Script {
  const id = scriptIdOf(body);
  const script = id === undefined ? undefined : scripts.get(id);
  if (!script) throw new Error(`an upstream request without a known script tag: ${JSON.stringify(body).slice(0, 200)}`);
  return script;
}

/** The scripts whose requests reached a fake so far. */
export function seenUpstream(fakes: Record<string, FakeServer>): Set<number> {
  const seen = new Set<number>();
  for (const fake of Object.values(fakes)) {
    for (const request of fake.requests) {
      const id = scriptIdOf(request.body);
      if (id !== undefined) seen.add(id);
    }
  }
  return seen;
}

export function whenClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => res.once('close', () => resolve()));
}

export function startStream(res: ServerResponse, frames: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(frames);
}

/** Every request to `fake` goes to `handler`: it re-enqueues itself before running, so the queue is never empty. */
export function answerAlways(fake: FakeServer, handler: FakeHandler): void {
  const next: FakeHandler = (req, res) => {
    fake.enqueue(next);
    return handler(req, res);
  };
  fake.enqueue(next);
}

export const TOOL = { city: 'Paris' };

export async function answerOpenAI(req: RecordedRequest, res: ServerResponse): Promise<void> {
  const closed = whenClosed(res);
  const body = req.body as Record<string, unknown>;
  const s = scriptOf(body);
  if (s.hold) await held;
  if (body.model === UPSTREAM_MODEL['oa-primary'] && s.failPrimary) {
    return sendJson(res, 500, openaiError(500, { message: 'The server had an error while processing your request. Sorry about that!' }));
  }
  // A prompt's repair request adds the bad answer and the reason after the rendered messages.
  const isRepair = (body.messages as unknown[]).length > 1;
  const json = s.repair && !isRepair ? 'The city is Paris.' : JSON.stringify(TOOL);
  const spec: FakeChatSpec = {
    content: s.tool ? null : s.json ? json : s.text,
    ...(s.tool ? { tool_calls: [{ id: `call_${s.id}`, name: 'get_weather', arguments: JSON.stringify(TOOL) }] } : {}),
    usage: { prompt_tokens: s.usage.prompt, completion_tokens: s.usage.completion, cached_tokens: s.usage.cached },
  };
  if (body.stream !== true) return sendJson(res, 200, buildCompletion(spec, body));
  const chunks = buildChunks(spec, body);
  if (!s.stall) return sendSseSplit(res, sseFrames(chunks));
  // The role chunk and the first content chunk, then silence until the gateway hangs up.
  startStream(res, sseFrames(chunks.slice(0, 2), false));
  await closed;
}

export async function answerAnthropic(req: RecordedRequest, res: ServerResponse): Promise<void> {
  const closed = whenClosed(res);
  const auth = req.headers.authorization ?? '';
  const key = auth.startsWith('Bearer ') ? auth.slice(7) : req.headers['x-api-key'];
  if (key !== ANTHROPIC_KEY) return sendJson(res, 401, anthropicError('authentication_error', 'invalid x-api-key'));
  if (!req.headers['anthropic-version']) return sendJson(res, 400, anthropicError('invalid_request_error', 'anthropic-version: header is required'));
  const body = req.body as Record<string, unknown>;
  const fault = anthropicFault(body);
  if (fault) return sendJson(res, 400, anthropicError('invalid_request_error', fault));
  const s = scriptOf(body);
  if (s.hold) await held;
  const message = buildMessage(
    {
      content: s.tool ? [{ type: 'tool_use', id: `toolu_${s.id}`, name: 'get_weather', input: TOOL }] : [{ type: 'text', text: s.text }],
      stop_reason: s.tool ? 'tool_use' : 'end_turn',
      usage: {
        input_tokens: s.usage.prompt - s.usage.cached - s.cacheWrites,
        cache_read_input_tokens: s.usage.cached,
        cache_creation_input_tokens: s.cacheWrites,
        output_tokens: s.usage.completion,
      },
    },
    String(body.model),
  );
  if (body.stream !== true) return sendJson(res, 200, message);
  const events = messageEvents(message);
  if (!s.stall) return sendSseSplit(res, sseEvents(events));
  startStream(res, sseEvents(events.slice(0, events.findIndex((e) => e.event === 'content_block_delta') + 1)));
  await closed;
}

export const GEMINI_ROUTE = /^\/v1beta\/models\/[^:/?]+:(generateContent|streamGenerateContent)(\?alt=sse)?$/;

export async function answerGemini(req: RecordedRequest, res: ServerResponse): Promise<void> {
  const closed = whenClosed(res);
  if (req.headers['x-goog-api-key'] !== GEMINI_KEY) return sendGoogleError(res, 400, 'API key not valid. Please pass a valid API key.');
  const route = GEMINI_ROUTE.exec(req.url);
  if (req.method !== 'POST' || !route) return sendGoogleError(res, 404, `Path ${req.url} was not found.`);
  const body = (req.body ?? {}) as GenerateBody;
  const fault = geminiFault(body);
  if (fault) return sendGoogleError(res, 400, fault);
  const s = scriptOf(body);
  if (s.hold) await held;
  const usageMetadata: NonNullable<WireResponse['usageMetadata']> = {
    promptTokenCount: s.usage.prompt,
    candidatesTokenCount: s.usage.completion - s.thoughts,
    totalTokenCount: s.usage.prompt + s.usage.completion,
    ...(s.usage.cached > 0 ? { cachedContentTokenCount: s.usage.cached } : {}),
    ...(s.thoughts > 0 ? { thoughtsTokenCount: s.thoughts } : {}),
  };
  const response = s.tool
    ? textResponse('', { candidates: [{ index: 0, content: { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: TOOL } }] }, finishReason: 'STOP' }], usageMetadata })
    : textResponse(s.text, { usageMetadata });
  if (route[1] === 'generateContent') return sendJson(res, 200, response);
  if (route[2] === undefined) return sendGoogleError(res, 400, 'the fake only streams SSE (alt=sse)');
  const events = toStreamEvents(response);
  if (!s.stall) return sendSseSplit(res, toSseBody(events));
  startStream(res, toSseBody(events.slice(0, 1)));
  await closed;
}

/** What the fakes reported for a call in all: a JSON prompt's repair is a second upstream call with the same usage. */
export function billedUsage(s: Script): Script['usage'] {
  const legs = s.repair ? 2 : 1;
  return { prompt: s.usage.prompt * legs, completion: s.usage.completion * legs, cached: s.usage.cached * legs };
}

// ---- calls ----

export const nano = (usd: number) => Math.round(usd * 1e9);

export type Kind = 'sdk' | 'sdk-stream' | 'raw' | 'raw-stream' | 'sdk-cut' | 'raw-cut' | 'prompt' | 'prompt-stream' | 'prompt-json';

export interface KeyInfo {
  name: string;
  id: string;
  secret: string;
  team: string;
  budgetNano: number;
}

export interface Plan {
  n: number;
  phase: 'load' | 'held' | 'outage' | 'restart';
  kind: Kind;
  /** Chat calls: the group asked for. Prompt calls: the prompt's group. */
  group: Group;
  key: KeyInfo;
  script: Script;
  tools: boolean;
  /** The messages admission counts (for a prompt call, as rendered). */
  counted: Array<{ role: 'system' | 'user'; content: string }>;
}

export interface Outcome {
  status: number;
  callId: string | null;
  /** The client left after the first content chunk. */
  cut: boolean;
  /** The usage the client was told (JSON answer, or the stream's usage chunk). */
  usage?: { prompt: number; completion: number; cached?: number };
  cache?: string | null;
  /** `x-gateway-cost-usd` (non-streamed answers), nano-USD. */
  costNano?: number;
  attempts?: number;
  code?: string | null;
  /** A stream ended with `data: [DONE]`. */
  done?: boolean;
}

export interface Sent extends Plan {
  gw: number;
  outcome: Outcome;
}

export const TOOLS = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

export const PROMPT_SYSTEM = 'Write a one-line recap of the notes.';
export const PROMPT_YAML = `name: recap
version: 1
description: A one-line recap of some notes
model: claude
input:
  type: object
  required: [text]
  additionalProperties: false
  properties:
    text: { type: string, minLength: 1, maxLength: 2000 }
messages:
  - { role: system, content: "${PROMPT_SYSTEM}" }
  - { role: user, content: "Notes: {{text}}" }
params: { max_tokens: ${MAX_TOKENS} }
output: { type: text }
`;

export const EXTRACT_YAML = `name: extract
version: 1
description: The city a text is about, as JSON
model: gpt
input:
  type: object
  required: [text]
  additionalProperties: false
  properties:
    text: { type: string, minLength: 1, maxLength: 2000 }
messages:
  - { role: user, content: "Which city is this about? {{text}}" }
params: { max_tokens: ${MAX_TOKENS} }
output:
  type: json
  schema: { type: object, additionalProperties: false, required: [city], properties: { city: { type: string } } }
`;

export function chatBody(plan: Plan, stream: boolean): Record<string, unknown> {
  return {
    model: plan.group,
    messages: plan.counted,
    max_tokens: MAX_TOKENS,
    ...(plan.tools ? { tools: TOOLS } : {}),
    ...(plan.group === 'cached' ? { temperature: 0 } : {}),
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
}

export function usageOf(wire: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens?: number } | null } | null | undefined) {
  if (!wire) return undefined;
  return { prompt: wire.prompt_tokens, completion: wire.completion_tokens, cached: wire.prompt_tokens_details?.cached_tokens ?? undefined };
}

export function fromHeaders(headers: Headers, status: number): Outcome {
  const attempts = headers.get('x-gateway-attempts');
  const cost = headers.get('x-gateway-cost-usd');
  return {
    status,
    callId: headers.get('x-request-id'),
    cut: false,
    cache: headers.get('x-gateway-cache'),
    ...(attempts === null ? {} : { attempts: Number(attempts) }),
    ...(cost === null ? {} : { costNano: nano(Number(cost)) }),
  };
}

export function fromApiError(err: unknown): Outcome {
  if (!(err instanceof OpenAI.APIError) || err.status === undefined) throw err;
  const body = err.error as { code?: string | null } | undefined;
  return { status: err.status, callId: err.headers?.get('x-request-id') ?? null, cut: false, code: body?.code ?? err.code ?? null };
}

/** Reads an SSE body; with `cutAfterContent`, aborts the request once a content delta arrived. */
export async function readSse(res: Response, cutAfterContent?: AbortController): Promise<{ frames: Array<Record<string, any>>; done: boolean; cut: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const frames: Array<Record<string, any>> = [];
  let buffer = '';
  let done = false;
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    buffer += decoder.decode(value, { stream: true });
    for (let at = buffer.indexOf('\n\n'); at >= 0; at = buffer.indexOf('\n\n')) {
      const frame = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      for (const line of frame.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') done = true;
        else frames.push(JSON.parse(data) as Record<string, any>);
      }
    }
    if (cutAfterContent && frames.some((f) => typeof f.choices?.[0]?.delta?.content === 'string' && f.choices[0].delta.content !== '')) {
      cutAfterContent.abort();
      return { frames, done: false, cut: true };
    }
  }
  return { frames, done, cut: false };
}

export function streamOutcome(res: Response, read: { frames: Array<Record<string, any>>; done: boolean; cut: boolean }): Outcome {
  const last = read.frames.findLast((f) => f.usage);
  return { ...fromHeaders(res.headers, res.status), cut: read.cut, done: read.done, usage: usageOf(last?.usage) };
}

export const clients = new Map<string, OpenAI>();
export function sdk(url: string, key: KeyInfo): OpenAI {
  const id = `${url} ${key.secret}`;
  let client = clients.get(id);
  if (!client) clients.set(id, (client = clientFor(url, key.secret)));
  return client;
}

export async function perform(plan: Plan, url: string): Promise<Outcome> {
  const headers = { authorization: `Bearer ${plan.key.secret}`, 'content-type': 'application/json' };
  switch (plan.kind) {
    case 'sdk': {
      try {
        const body = chatBody(plan, false) as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
        const { data, response } = await sdk(url, plan.key).chat.completions.create(body).withResponse();
        return { ...fromHeaders(response.headers, response.status), usage: usageOf(data.usage) };
      } catch (err) {
        return fromApiError(err);
      }
    }
    case 'sdk-stream':
    case 'sdk-cut': {
      try {
        const body = chatBody(plan, true) as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming;
        const { data: stream, response } = await sdk(url, plan.key).chat.completions.create(body).withResponse();
        let usage: Outcome['usage'];
        let cut = false;
        for await (const chunk of stream) {
          if (chunk.usage) usage = usageOf(chunk.usage);
          // Leaving the loop aborts the request: the client hangs up after the first content chunk.
          if (plan.kind === 'sdk-cut' && chunk.choices[0]?.delta?.content) {
            cut = true;
            break;
          }
        }
        return { ...fromHeaders(response.headers, response.status), usage, cut, done: !cut };
      } catch (err) {
        return fromApiError(err);
      }
    }
    case 'raw': {
      const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(chatBody(plan, false)) });
      const json = (await res.json()) as { usage?: Parameters<typeof usageOf>[0]; error?: { code?: string | null } };
      return { ...fromHeaders(res.headers, res.status), usage: usageOf(json.usage), code: json.error?.code ?? null };
    }
    case 'raw-stream':
    case 'raw-cut': {
      const abort = new AbortController();
      const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(chatBody(plan, true)), signal: abort.signal });
      if (res.status !== 200) {
        const json = (await res.json()) as { error?: { code?: string | null } };
        return { ...fromHeaders(res.headers, res.status), code: json.error?.code ?? null };
      }
      return streamOutcome(res, await readSse(res, plan.kind === 'raw-cut' ? abort : undefined));
    }
    case 'prompt-json': {
      const text = plan.counted[0]!.content.slice('Which city is this about? '.length);
      const res = await fetch(`${url}/prompts/extract`, { method: 'POST', headers, body: JSON.stringify({ text }) });
      const json = (await res.json()) as { output?: unknown; usage?: Parameters<typeof usageOf>[0]; error?: { code?: string | null } };
      if (res.status === 200) expect(json.output).toEqual(TOOL);
      return { ...fromHeaders(res.headers, res.status), usage: usageOf(json.usage), code: json.error?.code ?? null };
    }
    case 'prompt':
    case 'prompt-stream': {
      const stream = plan.kind === 'prompt-stream';
      const text = plan.counted[1]!.content.slice('Notes: '.length);
      const res = await fetch(`${url}/prompts/recap${stream ? '?stream=true' : ''}`, { method: 'POST', headers, body: JSON.stringify({ text }) });
      if (stream && res.status === 200) return streamOutcome(res, await readSse(res));
      const json = (await res.json()) as { usage?: Parameters<typeof usageOf>[0]; error?: { code?: string | null } };
      return { ...fromHeaders(res.headers, res.status), usage: usageOf(json.usage), code: json.error?.code ?? null };
    }
  }
}

/** Runs `tasks` with at most `concurrency` at once, in order of start. */
export async function pool<T>(tasks: Array<() => Promise<T>>, concurrency: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  return out;
}

