import { GatewayError } from '../../src/core/errors.js';

/** A fault of the caller's own request, found while mapping it: a 400 that is never retried. */
export function invalidRequest(message: string, param = 'messages'): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}
