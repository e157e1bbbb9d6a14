import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CallContext } from '../pipeline/call-context.js';
import { toGatewayError } from '../plugins/error-handler.js';
import { parseTags } from '../http/gateway-tags.js';
import { blankRecord, type Ledger } from './ledger.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The pipeline's context once the call got that far; its ledger record is then the pipeline's to write. */
    callContext: CallContext | null;
    /** The error code the request failed with, for the refusal record. */
    refusalCode: string | null;
  }
}

/** The ledger route of an AI call, or undefined for routes that are not calls (listings, admin, services). */
function aiRouteOf(request: FastifyRequest): string | undefined {
  if (request.method !== 'POST') return undefined;
  const url = request.routeOptions.url;
  if (url === '/v1/chat/completions') return 'chat';
  if (url === '/v1/embeddings') return 'embeddings';
  if (url?.startsWith('/prompts/')) {
    const name = request.url.slice('/prompts/'.length).split('?')[0]!.split('@')[0]!;
    return `prompt:${decodeURIComponent(name)}`;
  }
  return undefined;
}

/**
 * Calls refused before they reached the pipeline (bad input, no key, over a limit, no such
 * model) are still calls: each leaves one record, with its status and error code, so
 * `requests`, `errors` and `/admin/logs?status=429` tell the whole story. A call the pipeline
 * saw records itself.
 */
export function registerRefusalRecording(app: FastifyInstance, ledger: Ledger): void {
  app.decorateRequest('callContext', null);
  app.decorateRequest('refusalCode', null);
  app.addHook('onError', async (request, _reply, error) => {
    request.refusalCode = toGatewayError(error).code;
  });
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode < 400 || request.callContext?.recorded) return;
    const route = aiRouteOf(request);
    if (!route) return;
    const body = request.body as { model?: unknown } | undefined;
    const time = Date.now() - Math.round(reply.elapsedTime);
    const record = blankRecord({
      request_id: request.id,
      time,
      key_id: request.caller.keyId,
      team: request.caller.team,
      route,
      tags: parseTags(request.headers['x-gateway-tags']),
      status: reply.statusCode,
    });
    record.model = typeof body?.model === 'string' ? body.model.slice(0, 200) : null;
    if (request.refusalCode) record.error_code = request.refusalCode;
    ledger.record(record);
  });
}
