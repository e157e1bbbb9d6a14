import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';
import type { EmbeddingRequest } from '../core/types.js';
import type { Deployment } from '../core/deployment.js';
import { gatewayHeaders } from '../http/gateway-headers.js';
import { withFailureHeaders } from '../http/render-chat.js';
import { embed } from '../pipeline/run-chat.js';
import { nanoToUsd } from '../usage/pricing.js';
import { callOf } from './call-of.js';
import { modelNotServed } from './model-not-served.js';
import { embeddingsBodySchema } from './embeddings-schema.js';

/** Little-endian float32, base64: what OpenAI sends for `encoding_format: base64` and its SDK decodes. */
function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

export function registerEmbeddings(app: FastifyInstance): void {
  // Typed by the schema: `request.body` is its Static, so the schema is the body's one source.
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  routes.post('/v1/embeddings', { schema: { body: embeddingsBodySchema }, config: { call: { route: 'embeddings' } } }, async (request, reply) => {
    const body = request.body;
    const call = callOf(request);
    const group = call.services.registry.resolve(body.model);
    // Set once resolved: a refusal is recorded as `unknown` (call-lifecycle), never as the caller's text.
    if (!group) throw await modelNotServed(request, call.services.registry, body.model);
    call.model = group.name;
    const req: EmbeddingRequest = { model: body.model, input: body.input, dimensions: body.dimensions, user: body.user };
    const unsupported = (deployment: Deployment) => new GatewayError('invalid_request', `provider '${deployment.provider}' offers no embeddings`, { param: 'model' });
    const done = await withFailureHeaders(reply, call, () => embed(call, group, req, unsupported));
    const { leg } = done;
    reply.headers(gatewayHeaders(call, leg.deployment.provider, leg.upstreamModel, call.attempts));
    reply.header('x-gateway-cost-usd', nanoToUsd(leg.costNanoUsd).toFixed(9));
    const base64 = body.encoding_format === 'base64';
    return {
      object: 'list',
      data: done.embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding: base64 ? toBase64(embedding) : embedding })),
      model: leg.upstreamModel,
      usage: { prompt_tokens: leg.usage.promptTokens, total_tokens: leg.usage.promptTokens },
    };
  });
}
