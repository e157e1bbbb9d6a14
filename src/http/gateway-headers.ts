import type { CallContext } from '../pipeline/call-context.js';

/** Response headers every AI answer carries (DESIGN.md, HTTP surface). */
export function gatewayHeaders(ctx: CallContext, provider: string, model: string, attempts: number): Record<string, string> {
  return {
    'x-request-id': ctx.requestId,
    'x-gateway-provider': provider,
    'x-gateway-model': model,
    'x-gateway-attempts': String(attempts),
  };
}
