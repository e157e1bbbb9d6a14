/**
 * The service route's handler: checks the method and path, then forwards with reply-from over
 * undici's keep-alive pools, streaming both bodies. Target choice, retries and health are
 * ours, not reply-from's: a retry goes to another target, and only for an idempotent request
 * whose body was not sent yet, after a connection error or a 503. So are the pool's bounds:
 * each attempt holds a slot of its target's gate until it ends (a bounded wait for one, else
 * 503 `gateway_busy`), and a client that stops reading the answer is cut after `timeout_ms`,
 * which frees its upstream connection.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyReplyFromHooks } from '@fastify/reply-from';
import { GatewayError } from '../core/errors.js';
import { watchWriteProgress } from '../http/write-watchdog.js';
import type { Ledger } from '../usage/ledger.js';
import type { CompiledService } from './compile-service.js';
import type { Release } from './connection-gate.js';
import { toClientHeaders, toUpstreamHeaders } from './forward-headers.js';
import { RequestBody } from './request-body.js';
import { recordServiceCall, startServiceCall, type ServiceCall } from './service-call.js';
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

/** What reply-from hands `onResponse` (its type declarations describe a different object). */
interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  stream: Readable;
}

/** reply-from's hooks as it calls them, with the app's request and reply types. */
interface ForwardHooks {
  timeout: number;
  retryDelay: () => null;
  rewriteRequestHeaders(request: FastifyRequest, headers: IncomingHttpHeaders): IncomingHttpHeaders;
  rewriteHeaders(headers: IncomingHttpHeaders, request: FastifyRequest): IncomingHttpHeaders;
  onError(reply: FastifyReply, failure: { error: Error }): void;
  onResponse(request: FastifyRequest, reply: FastifyReply, res: UpstreamResponse): void;
}

const noRetry = () => null;

function callOf(request: FastifyRequest): ServiceCall {
  // Set by the handler before reply.from runs, which is the only caller of the hooks below.
  return request.serviceCall!;
}

/** The client's connection is gone: nothing can be answered, and the target is not to blame. */
function clientGone(request: FastifyRequest): boolean {
  const socket = request.raw.socket as Socket | null;
  return !socket || socket.destroyed;
}

export function createServiceHandler(service: CompiledService, ledger: Ledger): Handler {
  const { pool } = service;
  /** The gate slot each call's current attempt holds. */
  const slots = new WeakMap<ServiceCall, Release>();
  const releaseSlot = (call: ServiceCall) => {
    slots.get(call)?.();
    slots.delete(call);
  };

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
    callOf(request).errorCode = error.code;
    // The client may still be sending a body nobody will read: do not keep the connection.
    if (!request.raw.complete) reply.header('connection', 'close');
    reply.send(error);
  };

  const hooks: ForwardHooks = {
    timeout: service.timeoutMs,
    // reply-from's own retries would hit the same target (and by default retry GET 503s ten times).
    retryDelay: noRetry,
    rewriteRequestHeaders: (request, headers) => toUpstreamHeaders(service.headers, request, headers, callOf(request).body !== undefined),
    rewriteHeaders: (headers, request) => toClientHeaders(service.headers, request, headers),
    onError: (reply, { error }) => {
      const request = reply.request;
      const call = callOf(request);
      const target = call.tried[call.tried.length - 1]!;
      const failure = classifyUpstreamError(error, service.name);
      releaseSlot(call);
      if (clientGone(request)) {
        abandon(request, reply, call);
        return;
      }
      if (failure.outcome) pool.report(target, failure.outcome);
      const next = failure.isConnectionError ? nextTarget(request, call) : undefined;
      if (next) {
        request.log.warn({ service: service.name, target: target.origin, code: failure.error.code }, 'service attempt failed, trying another target');
        attempt(request, reply, call, next);
        return;
      }
      fail(request, reply, failure.error);
    },
    onResponse: (request, reply, res) => {
      const call = callOf(request);
      const target = call.tried[call.tried.length - 1]!;
      const status = res.statusCode;
      pool.report(target, status >= 500 ? 'failed' : 'ok');
      const { stream } = res;
      if (status === 503) {
        const next = nextTarget(request, call);
        if (next) {
          // Drop this answer; its headers were already copied onto the reply.
          stream.resume();
          releaseSlot(call);
          for (const name of Object.keys(res.headers)) reply.removeHeader(name);
          attempt(request, reply, call, next);
          return;
        }
      }
      const length = res.headers['content-length'];
      if (request.method === 'HEAD') call.declaredResponseBytes = 0;
      else if (typeof length === 'string') call.declaredResponseBytes = Number(length);
      else stream.on('data', (chunk: Buffer) => (call.countedResponseBytes += chunk.length));
      stream.once('error', () => (call.upstreamCut = true));
      // Cutting a client that stopped reading ends the piped body too, which frees the connection.
      watchWriteProgress(reply.raw, service.writeIdleMs);
      reply.send(stream);
    },
  };

  const options = hooks as unknown as FastifyReplyFromHooks;

  /** Takes a slot of the target's gate, waiting for one if need be, then sends. */
  const attempt = (request: FastifyRequest, reply: FastifyReply, call: ServiceCall, target: ServiceTarget) => {
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
    slots.set(call, release);
    call.tried.push(target);
    if (call.source) {
      call.body = new RequestBody(call.source, service.bodyLimit);
      request.body = call.body;
    }
    try {
      reply.from(target.base + call.upstreamPath, options);
    } catch (err) {
      releaseSlot(call);
      // reply-from refuses some URLs synchronously (its own traversal check).
      fail(request, reply, new GatewayError('invalid_request', 'the request path is not allowed', { param: 'path', cause: err }));
    }
  };

  return function handleServiceCall(request, reply) {
    // The service scope's content-type parser hands over the raw stream; GET and HEAD have no body.
    const source = request.body instanceof Readable ? request.body : undefined;
    const call = startServiceCall(service, source);
    request.serviceCall = call;
    reply.raw.once('close', () => {
      releaseSlot(call);
      recordServiceCall(ledger, call, request, reply);
    });
    try {
      if (!service.methods.has(request.method)) {
        throw new GatewayError('method_not_allowed', `${request.method} is not allowed on service ${service.name}`, {
          headers: { allow: service.allowHeader },
        });
      }
      const query = request.url.indexOf('?');
      call.upstreamPath = toUpstreamPath(query === -1 ? request.url : request.url.slice(0, query), service.path);
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
    attempt(request, reply, call, target);
    return reply;
  };
}
