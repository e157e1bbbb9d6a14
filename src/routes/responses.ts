/**
 * OpenAI's Responses API over every provider: `POST /v1/responses` translates the body into a
 * canonical chat request and runs it through the one chat flow (serveChat: balancing, retries,
 * fallbacks, budgets, guardrails, cache, ledger route `responses`), rendered as `response`
 * objects and semantic stream events. Answers are stored by default (`store`), so
 * `previous_response_id`, `item_reference` and the GET/DELETE routes find them.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { admitChat } from '../access/register-access.js';
import { GatewayError } from '../core/errors.js';
import { createStoredResponses } from '../responses/create-response-store.js';
import { isResponseId, responseHex, responseIdOf } from '../responses/ids.js';
import { pageOfItems } from '../responses/list-input-items.js';
import { normalizeInput } from '../responses/normalize-input.js';
import { inputItemsQuerySchema, responseParamsSchema, responsesBodySchema, retrieveQuerySchema } from '../responses/request-schema.js';
import { toEcho } from '../responses/response-object.js';
import { responsesFormat } from '../responses/responses-format.js';
import { ownerOf, type StoredResponses } from '../responses/stored-responses.js';
import { toChatRequest } from '../responses/to-chat-request.js';
import { refuseUnsupported, warningsFor } from '../responses/unsupported.js';
import { callOf } from './call-of.js';
import { serveChat } from './serve-chat.js';

function notFound(id: string): GatewayError {
  return new GatewayError('not_found', `Response with id '${id}' not found.`, { param: 'id' });
}

export function registerResponses(app: FastifyInstance, options: { now?: () => number } = {}): void {
  const stored = createStoredResponses(app.gateway.redis, app.gateway.config.store.key_prefix, () => app.gateway.config.responses, options.now);
  app.addHook('onClose', () => stored.close());
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();

  routes.post('/v1/responses', { schema: { body: responsesBodySchema }, config: { call: { route: 'responses' } } }, async (request, reply) => {
    const { body } = request;
    const call = callOf(request);
    refuseUnsupported(body);
    call.warn(warningsFor(body));
    const owner = ownerOf(request.caller);
    const responseId = responseIdOf(call.id);
    const hex = responseHex(responseId);
    const store = body.store ?? true;
    const previous = body.previous_response_id ? await stored.previous(body.previous_response_id, owner) : undefined;
    const { items, warnings } = await normalizeInput(body.input, hex, stored.lookup(owner));
    call.warn(warnings);
    // Instructions are not carried over from the previous response: each request sends its own.
    const history = previous ? [...previous.history, ...previous.input, ...previous.response.output] : [];
    const req = toChatRequest(body, [...history, ...items]);
    if (req.messages.length === 0) throw new GatewayError('missing_field', "'input' is required", { param: 'input' });
    if (store) stored.checkSize(history, items);
    await admitChat(app.gateway.access, request, reply, req, app.gateway.config.budgets);
    const format = responsesFormat({
      responseId,
      hex,
      createdAt: Math.floor(call.startedAt / 1000),
      echo: toEcho(body, store),
      persist: store ? stored.persister(owner, items, history, call.log) : undefined,
    });
    return serveChat(request, reply, req, format);
  });

  routes.get('/v1/responses/:id', { schema: { params: responseParamsSchema, querystring: retrieveQuerySchema } }, async (request) => {
    if (request.query.stream === 'true') {
      throw new GatewayError('invalid_request', 'streaming a stored response again is not supported by the gateway; retrieve it without stream', { param: 'stream' });
    }
    const record = await find(stored, request.params.id, ownerOf(request.caller));
    return record.response;
  });

  routes.delete('/v1/responses/:id', { schema: { params: responseParamsSchema } }, async (request) => {
    const { id } = request.params;
    if (!isResponseId(id) || !(await stored.delete(id, ownerOf(request.caller)))) throw notFound(id);
    return { id, object: 'response', deleted: true };
  });

  routes.get('/v1/responses/:id/input_items', { schema: { params: responseParamsSchema, querystring: inputItemsQuerySchema } }, async (request) => {
    const { order, limit, after, before } = request.query;
    const record = await find(stored, request.params.id, ownerOf(request.caller));
    return pageOfItems(record.input, { order, limit: limit === undefined ? undefined : Number(limit), after, before });
  });
}

async function find(stored: StoredResponses, id: string, owner: string) {
  const record = isResponseId(id) ? await stored.find(id, owner) : undefined;
  if (!record) throw notFound(id);
  return record;
}
