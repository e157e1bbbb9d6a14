import type { FastifyReply } from 'fastify';
import type { Call } from '../pipeline/call.js';

/**
 * A header value that Node will write: model and provider names come from clients
 * (`provider/model`) and upstreams, and a character HTTP headers cannot carry (non-Latin-1,
 * control characters) makes `writeHead` throw, a 500 for a plain answer and a stream that
 * never starts. Such characters are percent-encoded as UTF-8.
 */
export function toHeaderValue(value: string): string {
  return value.replace(/[^\t\x20-\x7e]/gu, (char) =>
    Array.from(Buffer.from(char, 'utf8'), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/** Response headers every AI answer carries (README.md, Quick start); `x-request-id` is set when the request arrives. */
export function gatewayHeaders(call: Call, provider: string, model: string, attempts: number): Record<string, string> {
  const headers: Record<string, string> = {
    'x-gateway-call-id': call.id,
    'x-gateway-provider': toHeaderValue(provider),
    'x-gateway-model': toHeaderValue(model),
    'x-gateway-attempts': String(attempts),
  };
  const { warnings } = call;
  if (warnings.length > 0) headers['x-gateway-warnings'] = toHeaderValue(warnings.join('; '));
  if (call.isDowngraded) headers['x-gateway-budget'] = 'downgraded';
  return headers;
}

/** On a failed call: how many attempts it made and where the last went, then the error goes out. */
export function setFailureHeaders(reply: FastifyReply, call: Call): void {
  reply.header('x-gateway-call-id', call.id);
  reply.header('x-gateway-attempts', String(call.attempts));
  const deployment = call.lastDeployment;
  if (deployment) {
    reply.header('x-gateway-provider', toHeaderValue(deployment.provider));
    reply.header('x-gateway-model', toHeaderValue(deployment.model));
  }
}
