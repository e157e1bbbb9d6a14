import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { GatewayError, isGatewayError, toErrorBody } from '../core/errors.js';
import { toAnthropicErrorBody } from '../http/anthropic-error.js';
import { ClientClosedError } from '../pipeline/attempt-signal.js';

/** The wire shape of a route's error bodies: OpenAI's everywhere, unless the route speaks another API. */
export type ErrorFormat = 'openai' | 'anthropic';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Writes this route's errors (validation, auth, limits, upstream failures, body parsing) in
     * the shape its clients' SDKs read; `openai` when unset.
     */
    errorFormat?: ErrorFormat;
  }
}

/** `/messages/0/role` → `messages[0].role`, the way OpenAI names params. */
export function toParamPath(instancePath: string, missing?: string): string | null {
  const parts = instancePath.split('/').filter(Boolean);
  if (missing) parts.push(missing);
  if (parts.length === 0) return null;
  return parts.reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function fromValidation(issues: ValidationIssue[]): GatewayError {
  // anyOf/if-then noise comes after the concrete fault; the first specific issue says most.
  const issue = issues.find((i) => !['anyOf', 'if', 'oneOf'].includes(i.keyword)) ?? issues[0]!;
  const missing = issue.keyword === 'required' ? String(issue.params.missingProperty) : undefined;
  const param = toParamPath(issue.instancePath, missing);
  if (missing) return new GatewayError('missing_field', `'${param}' is required`, { param });
  let detail = issue.message ?? 'is invalid';
  if (issue.keyword === 'enum') detail = `must be one of: ${(issue.params.allowedValues as unknown[]).join(', ')}`;
  if (issue.keyword === 'anyOf' || issue.keyword === 'type') detail = detail.replace(/^must be /, 'must be of type ');
  return new GatewayError('invalid_request', `'${param ?? 'body'}' ${detail}`, { param });
}

const STORE_DOWN = /Connection is closed|Command timed out|enableOfflineQueue|ECONNREFUSED|ECONNRESET|ETIMEDOUT/;

/** An error from the Redis client: the store is unreachable, which is a 503, not a gateway bug. */
function isStoreUnreachable(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | null;
  if (!e || typeof e.message !== 'string') return false;
  return e.name === 'MaxRetriesPerRequestError' || STORE_DOWN.test(e.message);
}

/** Turns anything thrown in a route into the gateway's error; unknown errors become a 500 with no details. */
export function toGatewayError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  if (isStoreUnreachable(err)) {
    return new GatewayError('service_unavailable', "the gateway's store (Redis) is unreachable; try again shortly", { cause: err, retryAfter: 1 });
  }
  const e = err as FastifyError & { validation?: ValidationIssue[] };
  if (e.validation && e.validation.length > 0) return fromValidation(e.validation);
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('invalid_json', 'the request body is not valid JSON', { cause: err });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError('body_too_large', 'the request body is larger than the gateway accepts', { cause: err });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError('invalid_request', 'send the body as application/json', { cause: err });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatewayError('invalid_request', 'the content-length does not match the body', { cause: err });
  }
  if (err instanceof SyntaxError && e.statusCode === 400) {
    return new GatewayError('invalid_json', 'the request body is not valid JSON', { cause: err });
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new GatewayError(e.statusCode === 404 ? 'not_found' : 'invalid_request', e.message, { cause: err });
  }
  return new GatewayError('internal_error', 'the gateway failed to handle the request', { cause: err });
}

/** The format the matched route asks for; `openai` where no route matched (the router's own errors). */
function errorFormatOf(reply: FastifyReply): ErrorFormat {
  try {
    return reply.request.routeOptions.config?.errorFormat ?? 'openai';
  } catch {
    // A request the router refused before it had a route has no route context to read.
    return 'openai';
  }
}

export function sendError(reply: FastifyReply, err: GatewayError): FastifyReply {
  if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
  if (err.headers) reply.headers(err.headers);
  const body = errorFormatOf(reply) === 'anthropic' ? toAnthropicErrorBody(err, reply.request.id) : toErrorBody(err);
  return reply.code(err.status).type('application/json').send(body);
}

/** The one place that writes error bodies, for routes, validation, parsing and unknown paths. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ClientClosedError) {
      // Nobody is left to read an answer; 499 (nginx's "client closed") keeps the access log true.
      request.log.info({ status: 499 }, error.message);
      return reply.code(499).send();
    }
    const err = toGatewayError(error);
    if (err.status >= 500) request.log.error({ err: error, code: err.code }, err.message);
    else request.log.info({ code: err.code, status: err.status }, err.message);
    return sendError(reply, err);
  });
  app.setNotFoundHandler((request, reply) => {
    return sendError(reply, new GatewayError('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`));
  });
}
