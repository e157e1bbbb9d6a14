/**
 * Off-path calls to a provider for its operator: which models its key can reach, and a one-token
 * probe that shows whether key, base URL and model work. They go through the provider's official
 * SDK (Gemini's model listing, which its SDK lacks, through undici), loaded on first use: the
 * SDKs are never on the hot path and never loaded at start-up (`await import(...)` only here).
 * Each client is made per call from the running config, with no SDK retries and a timeout, so an
 * answer always says what the provider said to exactly this config, once.
 */
import type { ProviderAdapter } from '../core/adapter.js';
import type { ProviderConfig, ProviderConfigOf } from '../config/types.js';
import { assertNever } from '../core/types.js';
import { isRecord } from '../core/is-record.js';
import { bodyMessage, describeFailure, type ProviderFailure } from './sdk-errors.js';

/** Bounds each call here, a listing's pages together (and each upstream request, as the SDK's `timeout`). */
export const PROVIDER_CALL_TIMEOUT_MS = 10_000;
/** Models read from one listing at most (a few pages on any real provider). */
const MAX_MODELS = 5000;
const PROBE_TEXT = 'ping';

const DEFAULT_BASE_URLS = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
} as const;

// ---- the SDKs, each loaded once, on first use ----
type OpenAIModule = typeof import('openai');
type AnthropicModule = typeof import('@anthropic-ai/sdk');
type GoogleModule = typeof import('@google/generative-ai');
let openaiModule: Promise<OpenAIModule> | undefined;
let anthropicModule: Promise<AnthropicModule> | undefined;
let googleModule: Promise<GoogleModule> | undefined;
const loadOpenAI = () => (openaiModule ??= import('openai'));
const loadAnthropic = () => (anthropicModule ??= import('@anthropic-ai/sdk'));
const loadGoogle = () => (googleModule ??= import('@google/generative-ai'));

/** One model a provider lists; fields it does not report are left out. */
export interface ListedModel {
  id: string;
  display_name?: string;
  /** ISO time. */
  created?: string;
  owned_by?: string;
  /** Gemini: the methods the model supports (`generateContent`, `embedContent`…). */
  methods?: string[];
}

export interface CallOptions {
  timeoutMs?: number;
}

/** A provider call that got no usable answer; `failure` says why, with the provider's own words. */
export class ProviderCallError extends Error {
  constructor(readonly failure: ProviderFailure) {
    super(failure.message);
    this.name = 'ProviderCallError';
  }
}

type OpenAIKind = ProviderConfigOf<'openai' | 'openai-compatible'>;

async function openaiClient(config: OpenAIKind, timeoutMs: number) {
  const { OpenAI } = await loadOpenAI();
  return new OpenAI({
    // OpenAI-compatible servers often need no key; the SDK insists on one (as the adapter does).
    apiKey: config.api_key || 'no-key',
    baseURL: config.base_url || DEFAULT_BASE_URLS.openai,
    // Only what the config says: no OPENAI_ORG_ID / OPENAI_PROJECT_ID from this process's environment.
    organization: null,
    project: null,
    defaultHeaders: config.headers,
    maxRetries: 0,
    timeout: timeoutMs,
  });
}

async function anthropicClient(config: ProviderConfigOf<'anthropic'>, timeoutMs: number) {
  const { Anthropic } = await loadAnthropic();
  return new Anthropic({
    apiKey: config.api_key ?? '',
    // Explicit, so ANTHROPIC_BASE_URL or a credentials profile of this process never stands in for the config.
    baseURL: config.base_url || DEFAULT_BASE_URLS.anthropic,
    defaultHeaders: config.headers,
    maxRetries: 0,
    timeout: timeoutMs,
  });
}

function geminiBase(config: ProviderConfigOf<'gemini'>): string {
  // The SDK appends `/v1beta/...` itself; a trailing slash would double it.
  return (config.base_url || DEFAULT_BASE_URLS.gemini).replace(/\/+$/, '');
}

const GEMINI_MODEL = /^(models\/|tunedModels\/)?([A-Za-z0-9][A-Za-z0-9._-]*)$/;

/** `models/<id>` or `tunedModels/<id>`; undefined for a name that is not a Gemini model id (it would go into the URL path). */
export function geminiModelPath(model: string): string | undefined {
  const match = GEMINI_MODEL.exec(model);
  return match ? `${match[1] ?? 'models/'}${encodeURIComponent(match[2]!)}` : undefined;
}

/** Runs `call` under a deadline; turns whatever it throws into a ProviderCallError. */
async function guarded<T>(timeoutMs: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    return await call(deadline);
  } catch (err) {
    if (err instanceof ProviderCallError) throw err;
    throw new ProviderCallError(describeFailure(err, deadline.aborted, timeoutMs));
  }
}

function isoFromUnix(seconds: unknown): string | undefined {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : undefined;
}

/** Gemini has no model listing in `@google/generative-ai`: its REST `GET /v1beta/models`, page by page. */
async function listGeminiModels(config: ProviderConfigOf<'gemini'>, signal: AbortSignal): Promise<ListedModel[]> {
  // undici's index (fetch, WebSocket, caches) loads here, not at start-up: see src/core/undici-pool.ts.
  const { request } = await import('undici');
  const out: ListedModel[] = [];
  let pageToken: string | undefined;
  do {
    const url = new URL(`${geminiBase(config)}/v1beta/models`);
    url.searchParams.set('pageSize', '1000');
    if (pageToken) url.searchParams.set('pageToken', pageToken);
    const res = await request(url, { method: 'GET', headers: { ...config.headers, 'x-goog-api-key': config.api_key ?? '' }, signal });
    const text = await res.body.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    if (res.statusCode !== 200) {
      throw new ProviderCallError({ kind: 'http', status: res.statusCode, message: bodyMessage(body) ?? (text.slice(0, 500) || `HTTP ${res.statusCode}`) });
    }
    if (!isRecord(body)) throw new ProviderCallError({ kind: 'http', status: res.statusCode, message: 'the answer is not a JSON object' });
    for (const model of Array.isArray(body.models) ? body.models : []) {
      if (!isRecord(model) || typeof model.name !== 'string') continue;
      out.push({
        id: model.name.replace(/^models\//, ''),
        ...(typeof model.displayName === 'string' ? { display_name: model.displayName } : {}),
        ...(Array.isArray(model.supportedGenerationMethods) ? { methods: model.supportedGenerationMethods.filter((m): m is string => typeof m === 'string') } : {}),
      });
    }
    pageToken = typeof body.nextPageToken === 'string' && body.nextPageToken ? body.nextPageToken : undefined;
  } while (pageToken && out.length < MAX_MODELS);
  return out;
}

/**
 * The models the provider's key can reach, as the provider lists them. `configured`: the models
 * the config's deployments name for this provider, which is all a `mock` provider has.
 */
export async function listProviderModels(config: ProviderConfig, configured: string[], options: CallOptions = {}): Promise<ListedModel[]> {
  const timeoutMs = options.timeoutMs ?? PROVIDER_CALL_TIMEOUT_MS;
  const { type } = config;
  switch (type) {
    case 'openai':
    case 'openai-compatible':
      return guarded(timeoutMs, async (signal) => {
        const client = await openaiClient(config as OpenAIKind, timeoutMs);
        const out: ListedModel[] = [];
        for await (const model of client.models.list({ signal })) {
          out.push({ id: model.id, ...(isoFromUnix(model.created) ? { created: isoFromUnix(model.created) } : {}), ...(model.owned_by ? { owned_by: model.owned_by } : {}) });
          if (out.length >= MAX_MODELS) break;
        }
        return out;
      });
    case 'anthropic':
      return guarded(timeoutMs, async (signal) => {
        const client = await anthropicClient(config, timeoutMs);
        const out: ListedModel[] = [];
        for await (const model of client.models.list({ limit: 1000 }, { signal })) {
          out.push({ id: model.id, ...(model.display_name ? { display_name: model.display_name } : {}), ...(model.created_at ? { created: model.created_at } : {}) });
          if (out.length >= MAX_MODELS) break;
        }
        return out;
      });
    case 'gemini':
      return guarded(timeoutMs, (signal) => listGeminiModels(config, signal));
    case 'mock':
      return [...new Set(configured)].map((id) => ({ id }));
    default:
      return assertNever(type);
  }
}

export type CheckOutcome =
  | { ok: true; latency_ms: number; model: string; upstream_model?: string }
  | { ok: false; status: number | null; error: string; kind: ProviderFailure['kind']; latency_ms: number; model: string };

/**
 * One call with a one-token answer (`max_tokens: 1`), through the SDK, to `model`. `adapter`:
 * the running adapter, which is how a `mock` provider is probed (it has no SDK and no network).
 */
export async function checkProvider(config: ProviderConfig, model: string, adapter: ProviderAdapter | undefined, options: CallOptions = {}): Promise<CheckOutcome> {
  const timeoutMs = options.timeoutMs ?? PROVIDER_CALL_TIMEOUT_MS;
  const messages = [{ role: 'user' as const, content: PROBE_TEXT }];
  // The SDK is loaded before the clock starts: its first import is not the provider's latency.
  let probe: (signal: AbortSignal) => Promise<string | undefined>;
  const { type } = config;
  switch (type) {
    case 'openai':
    case 'openai-compatible': {
      const client = await openaiClient(config, timeoutMs);
      // OpenAI's reasoning models refuse `max_tokens` and take `max_completion_tokens`, which every
      // current OpenAI model accepts; OpenAI-compatible servers mostly know `max_tokens` only.
      const limit = type === 'openai' ? { max_completion_tokens: 1 } : { max_tokens: 1 };
      probe = async (signal) => (await client.chat.completions.create({ model, messages, ...limit, stream: false }, { signal })).model;
      break;
    }
    case 'anthropic': {
      const client = await anthropicClient(config, timeoutMs);
      probe = async (signal) => (await client.messages.create({ model, messages, max_tokens: 1 }, { signal })).model;
      break;
    }
    case 'gemini': {
      const path = geminiModelPath(model);
      if (!path) return { ok: false, status: null, error: `'${model}' is not a Gemini model name`, kind: 'http', latency_ms: 0, model };
      const { GoogleGenerativeAI } = await loadGoogle();
      const client = new GoogleGenerativeAI(config.api_key ?? '');
      const generative = client.getGenerativeModel({ model: path }, { baseUrl: geminiBase(config), customHeaders: config.headers });
      probe = async (signal) => {
        const { response } = await generative.generateContent(
          { contents: [{ role: 'user', parts: [{ text: PROBE_TEXT }] }], generationConfig: { maxOutputTokens: 1 } },
          // The SDK's own `timeout` leaves a timer running after the call; the deadline's signal does not.
          { signal },
        );
        return (response as { modelVersion?: unknown }).modelVersion as string | undefined;
      };
      break;
    }
    case 'mock': {
      if (!adapter) return { ok: false, status: null, error: 'the provider is not running', kind: 'network', latency_ms: 0, model };
      probe = async (signal) => (await adapter.chat({ model, messages, max_tokens: 1 }, signal)).model;
      break;
    }
    default:
      return assertNever(type);
  }
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const answered = await guarded(timeoutMs, probe);
    return { ok: true, latency_ms: elapsed(), model, ...(typeof answered === 'string' && answered !== model ? { upstream_model: answered } : {}) };
  } catch (err) {
    const { failure } = err as ProviderCallError;
    return { ok: false, status: failure.status, error: failure.message, kind: failure.kind, latency_ms: elapsed(), model };
  }
}
