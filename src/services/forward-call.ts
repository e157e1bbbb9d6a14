/**
 * The service route's handler: checks the method and path, then forwards over undici's
 * keep-alive pools (service-attempt.ts), streaming both bodies. Target choice, retries and
 * health are ours: a retry goes to another target, and only for an idempotent request whose
 * body was not sent yet, after a connection error or a 503. So are the pool's bounds: each
 * attempt holds a slot of its target's gate until it ends (a bounded wait for one, else 503
 * `gateway_busy`), and a client that stops reading the answer is cut after `timeout_ms`, which
 * frees its upstream connection.
 */
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../core/errors.js';
import { watchWriteProgress } from '../http/write-watchdog.js';
import type { Ledger } from '../usage/ledger.js';
import type { CompiledService } from './compile-service.js';
import type { Release } from './connection-gate.js';
import { toClientHeaders, toUpstreamHeaders } from './forward-headers.js';
import { RequestBody } from './request-body.js';
import { ServiceAttempt, type AttemptEvents } from './service-attempt.js';
import { recordServiceCall, startServiceCall, type ServiceCall } from './service-call.js';
import type { ServicePools } from './service-pools.js';
import type { ServiceTarget } from './target-pool.js';
import { classifyUpstreamError } from './upstream-failure.js';
import { toUpstreamPath } from './upstream-path.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on service routes by the handler. */
    serviceCall: ServiceCall | null;
  }
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => FastifyReply;

/** The client's connection is gone: nothing can be answered, and the target is not to blame. */
function clientGone(request: FastifyRequest): boolean {
  const socket = request.raw.socket as Socket | null;
  return !socket || socket.destroyed;
}

function releaseSlot(call: ServiceCall): void {
  const release = call.release;
  call.release = undefined;
  release?.();
}

/** undici refuses what it cannot send (a header value it rejects): the request's fault, not the target's. */
function isInvalidArgument(err: Error): boolean {
  return (err as { code?: unknown }).code === 'UND_ERR_INVALID_ARG';
}

export function createServiceHandler(service: CompiledService, ledger: Ledger, pools: ServicePools): Handler {
  const { pool } = service;
  /** A target in service, preferring one with a free connection over waiting for a full one. */
  const pickTarget = (tried: readonly ServiceTarget[]): ServiceTarget | undefined => {
    const first = pool.pick(tried);
    if (!first || !service.gateOf(first).isFull) return first;
    const skipped = [...tried, first];
    for (let other = pool.pick(skipped); other; other = pool.pick(skipped)) {
      if (!service.gateOf(other).isFull) return other;
      skipped.push(other);
    }
    return first;
  };

  /** Another target for this call, when a retry is allowed; undefined otherwise. */
  const nextTarget = (request: FastifyRequest, call: ServiceCall): ServiceTarget | undefined => {
    if (call.tried.length > service.retries) return undefined;
    if (!service.isIdempotent(request.method)) return undefined;
    if (call.body?.started) return undefined;
    if (clientGone(request)) return undefined;
    return pickTarget(call.tried);
  };

  /** Nothing can be written to a departed client; the ledger record comes from the response's close event. */
  const abandon = (request: FastifyRequest, reply: FastifyReply, call: ServiceCall) => {
    call.errorCode = 'client_closed';
    request.log.info({ service: service.name }, 'client left before the service answered');
    reply.hijack();
    reply.raw.destroy();
  };

  const fail = (request: FastifyRequest, reply: FastifyReply, error: GatewayError) => {
    request.serviceCall!.errorCode = error.code;
    // The client may still be sending a body nobody will read: do not keep the connection.
    if (!request.raw.complete) reply.header('connection', 'close');
    reply.send(error);
  };

  const events: AttemptEvents = {
    answer: (attempt, status, headers) => {
      const { call, target, request, reply } = attempt;
      pool.report(target, status >= 500 ? 'failed' : 'ok');
      if (status === 503) {
        const next = nextTarget(request, call);
        if (next) {
          releaseSlot(call);
          begin(request, reply, call, next);
          return false;
        }
      }
      const length = headers['content-length'];
      if (request.method === 'HEAD') call.declaredResponseBytes = 0;
      else if (typeof length === 'string') call.declaredResponseBytes = Number(length);
      try {
        // Merged with what the gateway set on the raw response (x-request-id, the access stage's
        // x-ratelimit-*); the upstream's win where both name one.
        reply.raw.writeHead(status, toClientHeaders(service.headers, headers));
      } catch (err) {
        // Node refuses a header it cannot send (a control character in a value): the upstream's answer is bad.
        fail(request, reply, new GatewayError('upstream_error', `service ${service.name}: the upstream answered with headers that cannot be sent`, { cause: err }));
        return false;
      }
      reply.hijack();
      // Cutting a client that stopped reading closes the response, which aborts the attempt and frees the connection.
      watchWriteProgress(reply.raw, service.writeIdleMs);
      return true;
    },
    failed: (attempt, err) => {
      const { call, target, request, reply } = attempt;
      if (attempt.streaming) {
        // The head went out: all the client can be told is that the body stopped.
        if (!clientGone(request)) call.upstreamCut = true;
        reply.raw.destroy();
        return;
      }
      releaseSlot(call);
      if (clientGone(request)) {
        abandon(request, reply, call);
        return;
      }
      if (isInvalidArgument(err)) {
        fail(request, reply, new GatewayError('invalid_request', 'the request cannot be forwarded as sent', { cause: err }));
        return;
      }
      const failure = classifyUpstreamError(err, service.name);
      if (failure.outcome) pool.report(target, failure.outcome);
      const next = failure.isConnectionError ? nextTarget(request, call) : undefined;
      if (next) {
        request.log.warn({ service: service.name, target: target.origin, code: failure.error.code }, 'service attempt failed, trying another target');
        begin(request, reply, call, next);
        return;
      }
      fail(request, reply, failure.error);
    },
  };

  /** Takes a slot of the target's gate, waiting for one if need be, then sends. */
  const begin = (request: FastifyRequest, reply: FastifyReply, call: ServiceCall, target: ServiceTarget) => {
    const gate = service.gateOf(target);
    const release = gate.tryAcquire();
    if (release) {
      send(request, reply, call, target, release);
      return;
    }
    void gate.acquire().then((granted) => {
      if (clientGone(request)) {
        granted?.();
        abandon(request, reply, call);
      } else if (granted) {
        send(request, reply, call, target, granted);
      } else {
        // The gateway's own bound, not the target failing: its health is left alone.
        fail(
          request,
          reply,
          new GatewayError('gateway_busy', `service ${service.name}: every connection to the upstream is in use; try again shortly`, { retryAfter: 1 }),
        );
      }
    });
  };

  const send = (request: FastifyRequest, reply: FastifyReply, call: ServiceCall, target: ServiceTarget, release: Release) => {
    call.release = release;
    call.tried.push(target);
    if (call.source) call.body = new RequestBody(call.source, service.bodyLimit);
    const attempt = new ServiceAttempt(events, call, target, request, reply);
    call.attempt = attempt;
    pools.of(target.origin).dispatch(
      {
        path: target.basePath + call.upstreamPath,
        method: request.method as Dispatcher.HttpMethod,
        headers: toUpstreamHeaders(service.headers, request, target.host, call.body !== undefined),
        body: call.body ?? null,
        headersTimeout: service.timeoutMs,
        bodyTimeout: service.timeoutMs,
      },
      attempt,
    );
  };

  return function handleServiceCall(request, reply) {
    // The service scope's content-type parser hands over the raw stream; GET and HEAD have no body.
    const source = request.body instanceof Readable ? request.body : undefined;
    const call = startServiceCall(service, source);
    request.serviceCall = call;
    reply.raw.once('close', () => {
      releaseSlot(call);
      // A client that left (or was cut for not reading) must not keep the upstream busy.
      call.attempt?.abort();
      recordServiceCall(ledger, call, request, reply);
    });
    try {
      if (!service.methods.has(request.method)) {
        throw new GatewayError('method_not_allowed', `${request.method} is not allowed on service ${service.name}`, {
          headers: { allow: service.allowHeader },
        });
      }
      const query = request.url.indexOf('?');
      // The query goes as the client sent it.
      call.upstreamPath = query === -1 ? toUpstreamPath(request.url, service.path) : toUpstreamPath(request.url.slice(0, query), service.path) + request.url.slice(query);
      const declared = request.headers['content-length'];
      if (declared !== undefined && Number(declared) > service.bodyLimit) {
        throw new GatewayError('body_too_large', 'the request body is larger than the service accepts');
      }
    } catch (err) {
      if (err instanceof GatewayError) call.errorCode = err.code;
      // A refused call's body is never read: close rather than drain it for keep-alive.
      if (!request.raw.complete) reply.header('connection', 'close');
      throw err;
    }
    const target = pickTarget([]);
    if (!target) {
      fail(
        request,
        reply,
        new GatewayError('service_unavailable', `service ${service.name}: every target is out of service`, {
          retryAfter: pool.secondsUntilRecovery(),
        }),
      );
      return reply;
    }
    begin(request, reply, call, target);
    return reply;
  };
}
