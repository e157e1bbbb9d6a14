/**
 * Google Gemini through `@google/generative-ai`. The SDK stays in this file and errors.ts (a
 * swap to `@google/genai` should touch nothing else): the mapping modules speak the REST wire
 * format, and the adapter casts at the SDK boundary.
 * Wire reference: https://ai.google.dev/api/generate-content
 */
import {
  GoogleGenerativeAI,
  type BatchEmbedContentsRequest,
  type EmbedContentRequest,
  type GenerateContentRequest,
} from '@google/generative-ai';
import type { ProviderAdapter } from '../../src/core/adapter.js';
import { protocolError } from '../../src/core/upstream-error.js';
import type { ChatChunk, EmbeddingRequest, EmbeddingResponse } from '../../src/core/types.js';
import type { GeminiProviderConfig } from '../../src/config/types.js';
import { settleGeminiError } from './errors.js';
import { fromGeminiResponse } from './from-response.js';
import { toGeminiModelPath } from './model-path.js';
import { createGeminiStreamMapper } from './map-stream.js';
import { toGeminiRequest } from './to-request.js';
import { geminiWarnings } from './warnings.js';
import type { GeminiResponse } from './wire-types.js';

function toEmbedRequest(text: string, req: EmbeddingRequest): EmbedContentRequest {
  const request: Record<string, unknown> = { content: { role: 'user', parts: [{ text }] } };
  if (req.dimensions !== undefined) request.outputDimensionality = req.dimensions;
  return request as unknown as EmbedContentRequest;
}

export function createGeminiAdapter(name: string, config: GeminiProviderConfig): ProviderAdapter {
  const client = new GoogleGenerativeAI(config.api_key ?? '');
  // The SDK appends `/v1beta/models/...` itself; a trailing slash would double it.
  const requestOptions = { baseUrl: config.base_url?.replace(/\/+$/, '') || undefined, customHeaders: config.headers };
  // Always `models/…` or `tunedModels/…`: with a `/` in it the SDK takes the path as given.
  const modelFor = (model: string) => client.getGenerativeModel({ model: toGeminiModelPath(model) }, requestOptions);

  return {
    kind: 'gemini',
    name,
    warnings: geminiWarnings,
    async chat(req, signal) {
      try {
        const body = toGeminiRequest(req) as unknown as GenerateContentRequest;
        const { response } = await modelFor(req.model).generateContent(body, { signal });
        return fromGeminiResponse(response as GeminiResponse, req.model);
      } catch (err) {
        throw settleGeminiError(name, err, signal);
      }
    },
    async *stream(req, signal) {
      // The SDK tees the body and keeps reading one branch for its aggregate `response` even
      // when we stop iterating; our own controller lets an early return close the upstream.
      const upstream = new AbortController();
      const onAbort = (): void => upstream.abort(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      const mapper = createGeminiStreamMapper();
      const out: ChatChunk[] = [];
      let completed = false;
      try {
        const body = toGeminiRequest(req) as unknown as GenerateContentRequest;
        const result = await modelFor(req.model).generateContentStream(body, { signal: upstream.signal });
        // That aggregate rejects with every stream error; nobody else awaits it.
        result.response.catch(() => undefined);
        // Nothing is yielded before the first response is mapped, so a refused prompt or a
        // stream that dies at once still throws before the first chunk (retry stays possible).
        for await (const res of result.stream) {
          mapper.push(res as GeminiResponse, out);
          for (const chunk of out) yield chunk;
          out.length = 0;
        }
        // The SDK ends cleanly when the connection closes between two events: without a
        // finish reason the answer is cut, and the client must not see a clean finish.
        if (!mapper.finished) throw protocolError(name, `${name} ended the stream before the answer finished`);
        if (mapper.usage) yield { type: 'usage', usage: mapper.usage };
        completed = true;
      } catch (err) {
        throw settleGeminiError(name, err, signal);
      } finally {
        signal.removeEventListener('abort', onAbort);
        if (!completed) upstream.abort();
      }
    },
    async embed(req, signal): Promise<EmbeddingResponse> {
      try {
        const model = modelFor(req.model);
        if (typeof req.input === 'string') {
          const res = await model.embedContent(toEmbedRequest(req.input, req), { signal });
          return { model: req.model, embeddings: [res.embedding.values] };
        }
        const batch: BatchEmbedContentsRequest = { requests: req.input.map((text) => toEmbedRequest(text, req)) };
        const res = await model.batchEmbedContents(batch, { signal });
        // Gemini reports no token counts for embeddings; the gateway estimates them.
        return { model: req.model, embeddings: res.embeddings.map((e) => e.values) };
      } catch (err) {
        throw settleGeminiError(name, err, signal);
      }
    },
  };
}
