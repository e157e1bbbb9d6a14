/**
 * The gateway's errors in Anthropic's wire shape, for the Messages routes: `{"type":"error",
 * "error":{type,message}}` with the status unchanged. The Anthropic SDKs pick their error class
 * from the status and read `error.type`, so the type follows the status as the API's own table
 * does. https://docs.anthropic.com/en/api/errors
 */
import type { GatewayError } from '../core/errors.js';

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: AnthropicErrorType; message: string };
  /** The gateway's call id, where the API sends its own request id. */
  request_id?: string;
}

export function anthropicErrorType(status: number): AnthropicErrorType {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
      // The gateway or every deployment is out of room: what Anthropic calls overloaded (its 529).
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

export function toAnthropicErrorBody(err: GatewayError, requestId?: string): AnthropicErrorBody {
  const body: AnthropicErrorBody = { type: 'error', error: { type: anthropicErrorType(err.status), message: err.message } };
  if (requestId) body.request_id = requestId;
  return body;
}
