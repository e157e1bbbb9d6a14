import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';
import type { EmbeddingRequest } from '../core/types.js';
import { failCall, writeLedger } from '../pipeline/chat-call.js';
import { runAttempts } from '../pipeline/run-attempts.js';
import { costNanoUsd, nanoToUsd } from '../usage/pricing.js';
import { countTextTokens } from '../usage/count-tokens.js';
import { gatewayHeaders, rethrowFailure, type ContextFactory } from './chat-completions.js';

const embeddingsBodySchema = {
  type: 'object',
  required: ['model', 'input'],
  properties: {
    model: { type: 'string', minLength: 1 },
    input: {
      anyOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', minItems: 1, maxItems: 2048, items: { type: 'string', minLength: 1 } },
      ],
    },
    encoding_format: { enum: ['float', 'base64'] },
    dimensions: { type: 'integer', minimum: 1 },
    user: { type: 'string' },
  },
} as const;

interface EmbeddingsBody {
  model: string;
  input: string | string[];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}

/** Little-endian float32, base64: what OpenAI sends for `encoding_format: base64` and its SDK decodes. */
function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

export function registerEmbeddings(app: FastifyInstance, makeContext: ContextFactory): void {
  app.post('/v1/embeddings', { schema: { body: embeddingsBodySchema } }, async (request, reply) => {
    const body = request.body as EmbeddingsBody;
    const ctx = makeContext(request, reply, 'embeddings');
    const group = ctx.services.registry.resolve(body.model);
    if (!group) {
      throw new GatewayError('model_not_found', `The model '${body.model}' does not exist or is not configured on this gateway`, { param: 'model' });
    }
    const req: EmbeddingRequest = { model: body.model, input: body.input, dimensions: body.dimensions, user: body.user };
    let success;
    try {
      success = await runAttempts(
        { group, registry: ctx.services.registry, balancer: ctx.services.balancer, clientSignal: ctx.clientSignal },
        async (deployment, signal) => {
          if (!deployment.adapter.embed) {
            throw new GatewayError('invalid_request', `provider '${deployment.provider}' offers no embeddings`, { param: 'model' });
          }
          return deployment.adapter.embed({ ...req, model: deployment.model }, signal.signal);
        },
      );
    } catch (err) {
      rethrowFailure(reply, failCall(ctx, group, err));
    }
    success.signal.dispose();
    const { deployment, value } = success;
    ctx.services.balancer.finished({ deployment, ok: true, latencyMs: Date.now() - success.startedAt });
    const inputs = typeof req.input === 'string' ? [req.input] : req.input;
    const reported = value.usage?.promptTokens;
    const promptTokens = reported ?? inputs.reduce((sum, text) => sum + countTextTokens(text), 0);
    const usage = { promptTokens, completionTokens: 0, cachedTokens: 0 };
    const cost = costNanoUsd(usage, deployment.pricing.price);
    writeLedger(ctx, group.name, {
      status: 200,
      provider: deployment.provider,
      upstream_model: value.model || deployment.model,
      prompt_tokens: promptTokens,
      usage_source: reported === undefined ? 'estimated' : 'reported',
      cost_nano_usd: cost,
      price_known: deployment.pricing.known,
      attempts: success.attempts,
    });
    reply.headers(gatewayHeaders(ctx, deployment.provider, value.model || deployment.model, success.attempts));
    reply.header('x-gateway-cost-usd', nanoToUsd(cost).toFixed(9));
    const base64 = body.encoding_format === 'base64';
    return {
      object: 'list',
      data: value.embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding: base64 ? toBase64(embedding) : embedding })),
      model: value.model || deployment.model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  });
}
