/**
 * Gives every AI route's request its Call and makes sure the call settles exactly once
 * (docs/architecture.md, "3. The call"). A route opts in with `config: { call: { route } }`, as
 * `@fastify/rate-limit` reads its route options: the call is made when the request arrives, so
 * a refusal before the handler (bad input, no key, over a limit) is a call too and settles with
 * the status it got. Settlement comes from whichever end is first: a stream that drove itself,
 * the reply being sent (`onSend`, before the client sees it, so limits are corrected ahead of
 * the caller's next call), or the connection closing (a client that left, a hijacked reply).
 */
import type { FastifyInstance, FastifyRequest, onErrorHookHandler, onRequestHookHandler, onSendHookHandler, RouteOptions } from 'fastify';
import { UNKNOWN_NAME } from '../config/names.js';
import type { ConfigSnapshot } from '../control/config-snapshot.js';
import { isRecord } from '../core/is-record.js';
import { parseTags } from '../http/gateway-tags.js';
import { ClientClosedError } from '../pipeline/attempt-signal.js';
import { Call } from '../pipeline/call.js';
import { ClientLink } from '../pipeline/client-link.js';
import type { CallTracer } from '../pipeline/call-trace.js';
import type { LedgerRoute } from '../usage/ledger-record.js';
import { toGatewayError } from './error-handler.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Makes the route's requests AI calls, recorded under this ledger route (`chat`,
     * `responses`, `messages`, `completions`, `embeddings`), or the one the function names for a
     * request as it arrives (a prompt's). The route may change it once it knows more; it is never
     * the caller's text.
     */
    call?: { route: LedgerRoute | ((request: FastifyRequest) => LedgerRoute) };
  }
  interface FastifyRequest {
    /** The AI call this request is; null on routes that are not AI calls. */
    call: Call | null;
    /** The client's `x-request-id` when it is sane: a correlation id only, never a key. */
    clientRequestId: string | null;
  }
}

/**
 * The model a call refused before its route resolved one is recorded under: the group the body
 * names when the gateway serves it, `unknown` for any other name, null when the body names none
 * (or was never read). Never the caller's own text: records, ledger hashes and metric labels
 * keyed by it would grow with every name a client makes up.
 */
function modelOf(call: Call, body: unknown): string | null {
  const model = isRecord(body) ? body.model : undefined;
  if (model === undefined) return null;
  return (typeof model === 'string' ? call.services.registry.resolve(model)?.name : undefined) ?? UNKNOWN_NAME;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** `tracer`: present only when tracing is on; each call then gets its span (docs/telemetry.md). */
export function registerCallLifecycle(app: FastifyInstance, current: () => ConfigSnapshot, tracer?: CallTracer): void {
  app.decorateRequest('call', null);
  app.decorateRequest('clientRequestId', null);
  app.addHook('onRequest', (request, reply, done) => {
    const given = request.headers['x-request-id'];
    request.clientRequestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : null;
    // Every answer names its call for support: the client's id echoed, else the call's own. On
    // the raw response, so streams written after a hijack carry it too.
    reply.raw.setHeader('x-request-id', request.clientRequestId ?? request.id);
    done();
  });

  app.addHook('onRoute', (route: RouteOptions) => {
    const spec = route.config?.call;
    if (!spec) return;
    const begin: onRequestHookHandler = (request, reply, done) => {
      // One read of the current config: the call runs on this snapshot to its end.
      const snapshot = current();
      snapshot.enter();
      const client = new ClientLink();
      const route = typeof spec.route === 'function' ? spec.route(request) : spec.route;
      const call = new Call({
        id: request.id,
        clientRequestId: request.clientRequestId,
        route,
        tags: parseTags(request.headers['x-gateway-tags']),
        services: snapshot.pipeline,
        callerOf: () => request.caller,
        client,
        log: request.log,
        trace: tracer?.startCall({ callId: request.id, route, traceparent: headerOf(request, 'traceparent'), tracestate: headerOf(request, 'tracestate') }),
      });
      request.call = call;
      reply.raw.once('close', () => {
        snapshot.leave();
        const left = !reply.raw.writableFinished;
        if (left) client.leave(new ClientClosedError());
        if (call.model === null) call.model = modelOf(call, request.body);
        call.settleWhenIdle({ status: left ? 499 : reply.raw.statusCode, errorCode: left ? 'client_closed' : undefined });
      });
      done();
    };
    route.onRequest = [begin, ...listOf(route.onRequest)];
    route.onError = [...listOf(route.onError), noteError];
    route.onSend = [...listOf(route.onSend), settleOnSend];
  });
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function listOf<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}

const noteError: onErrorHookHandler = (request, _reply, error, done) => {
  request.call?.noteErrorCode(toGatewayError(error).code);
  done();
};

const settleOnSend: onSendHookHandler = (request, reply, payload, done) => {
  const call = request.call;
  if (call && !call.isSettled) {
    if (call.model === null) call.model = modelOf(call, request.body);
    call.settle({ status: reply.statusCode });
  }
  done(null, payload);
};
