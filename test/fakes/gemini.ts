/**
 * A fake Gemini API (REST v1beta) speaking the real wire format:
 *   POST /v1beta/models/{model}:generateContent          → GenerateContentResponse JSON
 *   POST /v1beta/models/{model}:streamGenerateContent?alt=sse → `data: {json}\r\n\r\n` events,
 *        each a GenerateContentResponse with the new text, usageMetadata on the last
 *   POST /v1beta/models/{model}:embedContent / :batchEmbedContents
 * The key travels in `x-goog-api-key`; errors are `{ error: { code, message, status, details? } }`.
 * Like the real API it rejects unknown schema keys and empty or mis-roled turns, so a request
 * the adapter maps badly fails here as it would in production.
 */
import type { ServerResponse } from 'node:http';
import { sendJson, sendSseSplit, startFakeServer, type FakeHandler, type FakeServer, type RecordedRequest } from './fake-server.js';

export interface WirePart {
  text?: string;
  thought?: boolean;
  functionCall?: { name: string; args?: Record<string, unknown> };
}

export interface WireCandidate {
  index?: number;
  content?: { role: 'model'; parts: WirePart[] };
  finishReason?: string;
}

export interface WireResponse {
  candidates?: WireCandidate[];
  promptFeedback?: { blockReason: string; blockReasonMessage?: string };
  usageMetadata?: {
    promptTokenCount: number;
    candidatesTokenCount?: number;
    totalTokenCount: number;
    cachedContentTokenCount?: number;
    thoughtsTokenCount?: number;
  };
  modelVersion?: string;
  responseId?: string;
}

export const DEFAULT_REPLY = 'Hello from Gemini: héllo wörld 🌍, streamed in pieces.';
export const MODEL_VERSION = 'gemini-2.0-flash-001';

/** A one-candidate answer in the wire shape, with the fake's usage and ids. */
export function textResponse(text: string, overrides: Partial<WireResponse> = {}): WireResponse {
  return {
    candidates: [{ index: 0, content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP' }],
    usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 9, totalTokenCount: 21 },
    modelVersion: MODEL_VERSION,
    responseId: 'resp-gemini-1',
    ...overrides,
  };
}

/** Deterministic embedding values, exact in float32 so a base64 round trip keeps them equal. */
export function fakeEmbedding(text: string, dimensions = 4): number[] {
  return Array.from({ length: dimensions }, (_, k) => (((text.length + k) % 5) - 2) / 4);
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export function sendGoogleError(res: ServerResponse, status: number, message: string, details?: unknown[]): void {
  sendJson(res, status, { error: { code: status, message, status: STATUS_NAMES[status] ?? 'UNKNOWN', ...(details ? { details } : {}) } });
}

/** Splits each candidate's text into small events, function calls in one event, the finish and usage last. */
export function toStreamEvents(response: WireResponse): WireResponse[] {
  const meta = { modelVersion: response.modelVersion, responseId: response.responseId };
  if (!response.candidates || response.candidates.length === 0) return [response];
  const events: WireResponse[] = [];
  response.candidates.forEach((candidate, position) => {
    const index = candidate.index ?? position;
    const own: WireCandidate[] = [];
    for (const part of candidate.content?.parts ?? []) {
      if (part.text !== undefined) {
        const chars = Array.from(part.text); // whole code points: never half an emoji in a JSON string
        for (let i = 0; i < chars.length; i += 6) {
          own.push({ index, content: { role: 'model', parts: [{ ...part, text: chars.slice(i, i + 6).join('') }] } });
        }
      }
    }
    const calls = (candidate.content?.parts ?? []).filter((part) => part.functionCall);
    if (calls.length > 0) own.push({ index, content: { role: 'model', parts: calls } });
    if (own.length === 0) own.push({ index });
    own[own.length - 1]!.finishReason = candidate.finishReason;
    events.push(...own.map((c) => ({ candidates: [c], ...meta })));
  });
  events[events.length - 1]!.usageMetadata = response.usageMetadata;
  return events;
}

export function toSseBody(events: WireResponse[]): string {
  return events.map((event) => `data: ${JSON.stringify(event)}\r\n\r\n`).join('');
}

// ---- request validation, as strict as the real API where the adapter could go wrong ----
const SCHEMA_KEYS = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties', 'required',
  'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf', 'propertyOrdering',
  'default', 'items', 'minimum', 'maximum',
]);

/** Gemini rejects keys outside its OpenAPI subset, type arrays, non-string enums, and a top-level object without properties. */
function schemaFault(schema: unknown, at: string, isRoot = true): string | undefined {
  if (schema === null || typeof schema !== 'object') return `Invalid value at '${at}'`;
  const record = schema as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!SCHEMA_KEYS.has(key)) return `Invalid JSON payload received. Unknown name "${key}" at '${at}': Cannot find field.`;
  }
  if (Array.isArray(record.type)) return `Invalid value at '${at}.type'`;
  // enum is a repeated string in the proto: null or a number fails JSON → proto parsing.
  const odd = Array.isArray(record.enum) ? record.enum.find((value) => typeof value !== 'string') : undefined;
  if (odd !== undefined) return `Invalid value at '${at}.enum' (TYPE_STRING), ${JSON.stringify(odd)}`;
  const properties = (record.properties ?? {}) as Record<string, unknown>;
  if (isRoot && record.type === 'object' && Object.keys(properties).length === 0) {
    return `* GenerateContentRequest.${at}.properties: should be non-empty for OBJECT type`;
  }
  for (const [name, value] of Object.entries(properties)) {
    const fault = schemaFault(value, `${at}.properties[${name}]`, false);
    if (fault) return fault;
  }
  return record.items === undefined ? undefined : schemaFault(record.items, `${at}.items`, false);
}

export interface GenerateBody {
  contents?: Array<{ role?: string; parts?: unknown[] }>;
  tools?: Array<{ functionDeclarations?: Array<{ name?: string; parameters?: unknown }> }>;
  generationConfig?: { responseSchema?: unknown };
}

/** What the real API would answer 400 to in a generate request, or undefined. */
export function findRequestFault(body: GenerateBody): string | undefined {
  if (!Array.isArray(body.contents) || body.contents.length === 0) return '* GenerateContentRequest.contents: contents is not specified';
  for (const [i, content] of body.contents.entries()) {
    if (content.role !== 'user' && content.role !== 'model') return 'Please use a valid role: user, model.';
    if (!Array.isArray(content.parts) || content.parts.length === 0) return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`;
  }
  for (const [t, tool] of (body.tools ?? []).entries()) {
    for (const [d, declaration] of (tool.functionDeclarations ?? []).entries()) {
      if (declaration.parameters === undefined) continue;
      const fault = schemaFault(declaration.parameters, `tools[${t}].function_declarations[${d}].parameters`);
      if (fault) return fault;
    }
  }
  const schema = body.generationConfig?.responseSchema;
  return schema === undefined ? undefined : schemaFault(schema, 'generation_config.response_schema');
}

// ---- the server ----
const ROUTE = /^\/v1beta\/(models\/[^:/?]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)(\?.*)?$/;

export interface FakeGemini extends FakeServer {
  readonly apiKey: string;
  /** Answers the next generate call with `response`: JSON, or SSE events for a stream call. */
  answer(response: WireResponse): void;
  /** Answers the next request with a Google-style error body. */
  fail(status: number, message: string, details?: unknown[]): void;
  /** Streams the next answer, then destroys the socket after `bytes` bytes. */
  cutStream(bytes: number, response?: WireResponse): void;
  /** Streams the first event of the next answer, then holds the connection; `closed` settles when the caller goes away. */
  stall(): { closed: Promise<void> };
  /** The requests to a model route, with the model path (`models/…`) and the task (`generateContent`…). */
  calls(): Array<RecordedRequest & { model: string; task: string }>;
}

export async function startFakeGemini(options: { apiKey?: string; reply?: string } = {}): Promise<FakeGemini> {
  const apiKey = options.apiKey ?? 'test-key';
  const reply = options.reply ?? DEFAULT_REPLY;

  /** The real API checks the key and the route before anything else. */
  const guarded = (handler: FakeHandler): FakeHandler => async (req, res) => {
    const key = req.headers['x-goog-api-key'];
    if (!key) return sendGoogleError(res, 403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
    if (key !== apiKey) {
      return sendGoogleError(res, 400, 'API key not valid. Please pass a valid API key.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
      ]);
    }
    if (req.method !== 'POST' || !ROUTE.test(req.url)) return sendGoogleError(res, 404, `Path ${req.url} was not found.`);
    return handler(req, res);
  };

  const respond = async (req: RecordedRequest, res: ServerResponse, response: WireResponse): Promise<void> => {
    const [, model, method, query] = ROUTE.exec(req.url)!;
    if (method === 'generateContent' || method === 'streamGenerateContent') {
      const fault = findRequestFault((req.body ?? {}) as GenerateBody);
      if (fault) return sendGoogleError(res, 400, fault);
      if (method === 'generateContent') return sendJson(res, 200, response);
      // Without alt=sse the real API streams a JSON array instead; the SDK always asks for SSE.
      if (query !== '?alt=sse') return sendGoogleError(res, 400, 'the fake only streams SSE (alt=sse)');
      return sendSseSplit(res, toSseBody(toStreamEvents(response)));
    }
    if (method === 'embedContent') {
      const body = req.body as { content?: { parts?: Array<{ text?: string }> }; outputDimensionality?: number };
      return sendJson(res, 200, { embedding: { values: fakeEmbedding(body.content?.parts?.[0]?.text ?? '', body.outputDimensionality) } });
    }
    const body = req.body as { requests?: Array<{ model?: string; content?: { parts?: Array<{ text?: string }> }; outputDimensionality?: number }> };
    const requests = body.requests ?? [];
    if (requests.some((r) => r.model !== model)) return sendGoogleError(res, 400, `Model in batch request must match the model in the URL: ${model}`);
    return sendJson(res, 200, { embeddings: requests.map((r) => ({ values: fakeEmbedding(r.content?.parts?.[0]?.text ?? '', r.outputDimensionality) })) });
  };

  const server = await startFakeServer(guarded((req, res) => respond(req, res, textResponse(reply))));

  return {
    ...server,
    apiKey,
    answer: (response) => server.enqueue(guarded((req, res) => respond(req, res, response))),
    fail: (status, message, details) => server.enqueue(guarded((_req, res) => sendGoogleError(res, status, message, details))),
    cutStream: (bytes, response = textResponse(reply)) =>
      server.enqueue(guarded((_req, res) => sendSseSplit(res, toSseBody(toStreamEvents(response)), { stopAfterBytes: bytes }))),
    stall: () => {
      let resolveClosed!: () => void;
      const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
      server.enqueue(
        guarded(async (_req, res) => {
          res.on('close', () => resolveClosed());
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(toSseBody(toStreamEvents(textResponse(reply)).slice(0, 1)));
          await closed;
        }),
      );
      return { closed };
    },
    calls: () =>
      server.requests.flatMap((req) => {
        const match = ROUTE.exec(req.url);
        return match ? [{ ...req, model: match[1]!, task: match[2]! }] : [];
      }),
  };
}
