/**
 * Google Gemini over its REST wire format (v1beta), through the shared wire client: one undici
 * pool for the provider, the body serialized once, each answer and each SSE event parsed once.
 * `@google/generative-ai` is not on this path; its published types describe the embeddings wire.
 * Wire reference: https://ai.google.dev/api/generate-content, https://ai.google.dev/api/embeddings
 *
 * URL: `<base_url>/v1beta/<models/id | tunedModels/id>:<task>`, `?alt=sse` for a stream, the key
 * in `x-goog-api-key`. The model path always comes from `toGeminiModelPath` (the caller's 400
 * for a name that would leave `/v1beta/models/`), before anything is sent.
 */
import type { BatchEmbedContentsResponse, EmbedContentResponse } from '@google/generative-ai';
import type { ProviderAdapter } from '../../src/core/adapter.js';
import { isGatewayError } from '../../src/core/errors.js';
import { isUpstreamError, protocolError } from '../../src/core/upstream-error.js';
import type { ChatChunk, EmbeddingRequest, EmbeddingResponse } from '../../src/core/types.js';
import type { GeminiProviderConfig } from '../../src/config/types.js';
import { createWireClient, wireOptionsOf } from '../shared/wire-client.js';
import { fromHttpFacts } from '../upstream-errors.js';
import { settleGeminiError } from './errors.js';
import { fromGeminiResponse } from './from-response.js';
import { toGeminiModelPath } from './model-path.js';
import { createGeminiStreamMapper } from './map-stream.js';
import { toGeminiRequest } from './to-request.js';
import { geminiWarnings } from './warnings.js';
import type { GeminiEmbedContentRequest, GeminiErrorBody, GeminiResponse } from './wire-types.js';

const DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';
const API_VERSION = 'v1beta';

/** How much of an unreadable answer goes with the protocol error, for the logs. */
const PREVIEW_CHARS = 2000;

type Task = 'generateContent' | 'streamGenerateContent' | 'embedContent' | 'batchEmbedContents';

function preview(value: unknown): string {
  return (typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))).slice(0, PREVIEW_CHARS);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Built once per adapter: configured headers (names lower-cased), then ours, which win. */
function requestHeaders(config: GeminiProviderConfig): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(config.headers ?? {})) headers[key.toLowerCase()] = value;
  headers['content-type'] = 'application/json';
  headers['x-goog-api-key'] = config.api_key ?? '';
  return headers;
}

/**
 * Maps a 2xx body with `map`. A body that is not an object, or whose fields have the wrong
 * types (a mapping that throws anything but the gateway's own errors), is not Gemini's success
 * shape: a protocol error, named after the configured provider, with the body for the logs.
 */
function mapAnswer<T>(provider: string, value: unknown, map: (res: GeminiResponse) => T): T {
  if (!isRecord(value)) throw protocolError(provider, `${provider} answered 200 with something other than a JSON object`, undefined, preview(value));
  try {
    return map(value as GeminiResponse);
  } catch (err) {
    if (isGatewayError(err)) throw err;
    const message = isUpstreamError(err) ? err.message : `${provider} answered 200 with a body that is not a GenerateContentResponse`;
    throw protocolError(provider, message, err, preview(value));
  }
}

/** An error object where a stream event should be (Gemini reports a failure mid-stream so). */
function inStreamError(provider: string, value: Record<string, unknown>): Error | undefined {
  if (!isRecord(value.error)) return undefined;
  const code = (value as unknown as GeminiErrorBody).error.code;
  const status = typeof code === 'number' && code >= 400 && code <= 599 ? code : 500;
  return fromHttpFacts(provider, { status, body: value }, undefined);
}

function parseEvent(provider: string, data: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (err) {
    throw protocolError(provider, `${provider} sent a stream event the gateway could not read`, err, data.slice(0, PREVIEW_CHARS));
  }
  if (!isRecord(value)) throw protocolError(provider, `${provider} sent a stream event that is not a JSON object`, undefined, data.slice(0, PREVIEW_CHARS));
  return value;
}

function isVector(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((n) => typeof n === 'number');
}

function toEmbedRequest(text: string, req: EmbeddingRequest): GeminiEmbedContentRequest {
  const request: GeminiEmbedContentRequest = { content: { role: 'user', parts: [{ text }] } };
  if (req.dimensions !== undefined) request.outputDimensionality = req.dimensions;
  return request;
}

export function createGeminiAdapter(name: string, config: GeminiProviderConfig): ProviderAdapter {
  const client = createWireClient(wireOptionsOf(name, config));
  const headers = requestHeaders(config);
  // The path is appended here; a trailing slash on the configured base would double it.
  const base = `${config.base_url?.replace(/\/+$/, '') || DEFAULT_BASE_URL}/${API_VERSION}/`;
  /** `modelPath` is always `toGeminiModelPath`'s answer: validated and encoded. */
  const urlOf = (modelPath: string, task: Task) => `${base}${modelPath}:${task}`;

  return {
    kind: 'gemini',
    name,
    warnings: geminiWarnings,

    async chat(req, signal) {
      try {
        const url = urlOf(toGeminiModelPath(req.model), 'generateContent');
        const answer = await client.postJson({ url, headers, body: JSON.stringify(toGeminiRequest(req)), signal });
        // A blocked prompt is the caller's 400 content_filter; no candidate at all, a protocol error.
        return mapAnswer(name, answer, (res) => fromGeminiResponse(res, req.model));
      } catch (err) {
        throw settleGeminiError(name, err, signal);
      }
    },

    async *stream(req, signal) {
      const mapper = createGeminiStreamMapper();
      try {
        const url = `${urlOf(toGeminiModelPath(req.model), 'streamGenerateContent')}?alt=sse`;
        // Nothing is yielded before the first event is mapped, so a refused prompt, an error status
        // or a stream that dies at once still throws before the first chunk (retry stays possible).
        // Leaving this loop early (the consumer stopped) ends the wire client's generator, which
        // destroys the response body and with it the upstream request.
        for await (const events of client.postSse({ url, headers, body: JSON.stringify(toGeminiRequest(req)), signal })) {
          const out: ChatChunk[] = [];
          try {
            for (const event of events) {
              if (event.data === '') continue;
              const res = parseEvent(name, event.data);
              const failed = inStreamError(name, res);
              if (failed) throw failed;
              mapAnswer(name, res, (r) => mapper.push(r, out));
            }
          } catch (err) {
            // What came before the bad event reaches the client first, as it would have unbatched.
            if (out.length > 0) yield out;
            throw err;
          }
          if (out.length > 0) yield out;
        }
        // A connection closed between two events ends the event stream cleanly: without a finish
        // reason the answer is cut, and the client must not see a clean finish.
        if (!mapper.finished) throw protocolError(name, `${name} ended the stream before the answer finished`);
        if (mapper.usage) yield [{ type: 'usage', usage: mapper.usage }];
      } catch (err) {
        throw settleGeminiError(name, err, signal);
      }
    },

    async embed(req, signal): Promise<EmbeddingResponse> {
      try {
        const model = toGeminiModelPath(req.model);
        // Gemini reports no token counts for embeddings; the gateway estimates them.
        if (typeof req.input === 'string') {
          const body = JSON.stringify(toEmbedRequest(req.input, req));
          const answer = (await client.postJson({ url: urlOf(model, 'embedContent'), headers, body, signal })) as Partial<EmbedContentResponse> | null;
          const values = isRecord(answer?.embedding) ? answer.embedding.values : undefined;
          if (!isVector(values)) throw protocolError(name, `${name} answered embedContent without an embedding`, undefined, preview(answer));
          return { model: req.model, embeddings: [values] };
        }
        // Each request of a batch names the model of the URL, or Gemini refuses the batch.
        const body = JSON.stringify({ requests: req.input.map((text) => ({ ...toEmbedRequest(text, req), model })) });
        const answer = (await client.postJson({ url: urlOf(model, 'batchEmbedContents'), headers, body, signal })) as Partial<BatchEmbedContentsResponse> | null;
        const embeddings = Array.isArray(answer?.embeddings) ? answer.embeddings.map((e) => (isRecord(e) ? e.values : undefined)) : [];
        if (embeddings.length !== req.input.length || !embeddings.every(isVector)) {
          throw protocolError(name, `${name} answered batchEmbedContents without one embedding per input`, undefined, preview(answer));
        }
        return { model: req.model, embeddings };
      } catch (err) {
        throw settleGeminiError(name, err, signal);
      }
    },

    close: () => client.close(),
  };
}
