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
import type { ConfigSnapshot } from '../control/config-snapshot.js';
import { parseTags } from '../http/gateway-tags.js';
import { ClientClosedError } from '../pipeline/attempt-signal.js';
import { Call } from '../pipeline/call.js';
import { toGatewayError } from './error-handler.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Makes the route's requests AI calls, recorded under this ledger route (`chat`, `embeddings`, `prompt`). */
    call?: { route: string };
  }
  interface FastifyRequest {
    /** The AI call this request is; null on routes that are not AI calls. */
    call: Call | null;
    /** The client's `x-request-id` when it is sane: a correlation id only, never a key. */
    clientRequestId: string | null;
  }
}

/** The ledger route of a prompt call refused before its prompt was resolved: its name from the URL. */
function promptRouteOf(request: FastifyRequest): string {
  const name = request.url.slice('/prompts/'.length).split('?')[0]!.split('@')[0]!;
  try {
    return `prompt:${decodeURIComponent(name).slice(0, 200)}`;
  } catch {
    return 'prompt:';
  }
}

function modelOf(body: unknown): string | null {
  const model = (body as { model?: unknown } | null | undefined)?.model;
  return typeof model === 'string' ? model.slice(0, 200) : null;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function registerCallLifecycle(app: FastifyInstance, current: () => ConfigSnapshot): void {
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
      const controller = new AbortController();
      const call = new Call({
        id: request.id,
        clientRequestId: request.clientRequestId,
        route: spec.route === 'prompt' ? promptRouteOf(request) : spec.route,
        tags: parseTags(request.headers['x-gateway-tags']),
        services: snapshot.pipeline,
        callerOf: () => request.caller,
        clientSignal: controller.signal,
        log: request.log,
      });
      request.call = call;
      reply.raw.once('close', () => {
        snapshot.leave();
        const left = !reply.raw.writableFinished;
        if (left) controller.abort(new ClientClosedError());
        if (call.model === null) call.model = modelOf(request.body);
        call.settleWhenIdle({ status: left ? 499 : reply.raw.statusCode, errorCode: left ? 'client_closed' : undefined });
      });
      done();
    };
    route.onRequest = [begin, ...listOf(route.onRequest)];
    route.onError = [...listOf(route.onError), noteError];
    route.onSend = [...listOf(route.onSend), settleOnSend];
  });
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
    if (call.model === null) call.model = modelOf(request.body);
    call.settle({ status: reply.statusCode });
  }
  done(null, payload);
};
