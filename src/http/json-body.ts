/**
 * The JSON body parser for every route: Fastify's own (prototype-poisoning checks included),
 * behind a nesting limit. A body nested thousands of levels deep parses fine but overflows the
 * stack of whatever walks it later (serializers, token counters, provider mappings); refusing
 * it here makes it the caller's 400, never an upstream failure or a deployment's cooldown.
 */
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';

/** Deeper than any real request: OpenAI's own JSON-schema limits stop at 5 levels of nesting. */
export const MAX_JSON_DEPTH = 64;

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** True when `text` nests objects and arrays deeper than `limit` (strings are skipped). */
export function isNestedDeeper(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return false;
}

export function registerJsonBodyParser(app: FastifyInstance, maxDepth = MAX_JSON_DEPTH): void {
  const parse = app.getDefaultJsonParser('error', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (isNestedDeeper(text, maxDepth)) {
      done(new GatewayError('invalid_request', `the request body nests deeper than ${maxDepth} levels`), undefined);
      return;
    }
    parse(request, text, done);
  });
}
