import type { CallContext } from '../pipeline/call-context.js';

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

/** Response headers every AI answer carries (DESIGN.md, HTTP surface). */
export function gatewayHeaders(ctx: CallContext, provider: string, model: string, attempts: number): Record<string, string> {
  return {
    'x-request-id': ctx.requestId,
    'x-gateway-provider': toHeaderValue(provider),
    'x-gateway-model': toHeaderValue(model),
    'x-gateway-attempts': String(attempts),
  };
}
