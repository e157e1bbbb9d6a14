/**
 * One call to a service as it moves through attempts, and its ledger record once the
 * response is over (finished, cut, or abandoned by the client).
 */
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseTags } from '../http/gateway-tags.js';
import { blankRecord, type Ledger } from '../usage/ledger.js';
import type { CompiledService } from './compile-service.js';
import type { Release } from './connection-gate.js';
import type { RequestBody } from './request-body.js';
import type { ServiceTarget } from './target-pool.js';

export interface ServiceCall {
  service: CompiledService;
  /** Epoch ms. */
  startedAt: number;
  /** The path after the target's base, with the client's query: `/users/7?full=1`. */
  upstreamPath: string;
  /** The client's body stream as Fastify handed it over; undefined without a body. */
  source: Readable | undefined;
  /** The current attempt's view of the body. */
  body: RequestBody | undefined;
  /** Targets tried so far, in order; the last is the current one. */
  tried: ServiceTarget[];
  /** The gate slot the current attempt holds; undefined between attempts and after the end. */
  release: Release | undefined;
  /** The current attempt, to stop when the client's connection closes first. */
  attempt: { abort(): void } | undefined;
  errorCode: string | undefined;
  /** The upstream's content-length, when it sent one. */
  declaredResponseBytes: number | undefined;
  /** Counted as the body streams, when no content-length was sent. */
  countedResponseBytes: number;
  /** The upstream's body failed after the headers went out. */
  upstreamCut: boolean;
}

export function startServiceCall(service: CompiledService, source: Readable | undefined): ServiceCall {
  return {
    service,
    startedAt: Date.now(),
    upstreamPath: '/',
    source,
    body: undefined,
    tried: [],
    release: undefined,
    attempt: undefined,
    errorCode: undefined,
    declaredResponseBytes: undefined,
    countedResponseBytes: 0,
    upstreamCut: false,
  };
}

/** The status the call ended with: what went out, 502 for a cut upstream body, 499 when the client left first. */
function finalStatus(call: ServiceCall, reply: FastifyReply): number {
  if (reply.raw.writableFinished) return reply.statusCode;
  return call.upstreamCut ? 502 : 499;
}

export function recordServiceCall(ledger: Ledger, call: ServiceCall, request: FastifyRequest, reply: FastifyReply): void {
  const status = finalStatus(call, reply);
  const finished = reply.raw.writableFinished;
  const origin = {
    id: request.id,
    client_request_id: request.clientRequestId,
    time: call.startedAt,
    key_id: request.caller.keyId,
    team: request.caller.team,
    route: call.service.route,
    tags: parseTags(request.headers['x-gateway-tags']),
    status,
  };
  const record = blankRecord(origin);
  record.attempts = call.tried.length;
  if (status >= 400) record.error_code = call.errorCode ?? (status === 499 ? 'client_closed' : undefined);
  record.request_bytes = call.body?.bytes ?? 0;
  record.response_bytes = finished && call.declaredResponseBytes !== undefined ? call.declaredResponseBytes : call.countedResponseBytes;
  ledger.record(record);
}
