import type { FastifyRequest } from 'fastify';
import type { Call } from '../pipeline/call.js';

/** The request's Call; only routes registered with `config: { call }` have one (src/plugins/call-lifecycle.ts). */
export function callOf(request: FastifyRequest): Call {
  const { call } = request;
  if (!call) throw new Error(`route ${request.routeOptions.url} is not registered as an AI call`);
  return call;
}
