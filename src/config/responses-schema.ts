/** `responses:`: how `POST /v1/responses` keeps answers for `previous_response_id` and `GET /v1/responses/{id}`. */
import { Type } from '@sinclair/typebox';
import { closed } from './schema-builders.js';

export const responsesSchema = Type.Object(
  {
    store_ttl_s: Type.Integer({
      minimum: 60,
      default: 2592000,
      description: 'How long a stored response (and its input items) can be read or continued, s. OpenAI keeps them 30 days.',
    }),
    max_stored_bytes: Type.Integer({
      minimum: 1024,
      maximum: 64 * 1024 * 1024,
      default: 4 * 1024 * 1024,
      description: `The largest stored response, bytes: its input, the conversation before it and its output.
        A request that would store more is refused up front (or sent with \`store: false\`).`,
    }),
    memory_max_bytes: Type.Integer({
      minimum: 1024 * 1024,
      default: 64 * 1024 * 1024,
      description: "Without Redis: what the instance's own store may hold in all, bytes; the least recently used go first past it.",
    }),
  },
  {
    ...closed,
    default: {},
    description: 'How `POST /v1/responses` keeps answers for `previous_response_id` and `GET /v1/responses/{id}` ([responses-api.md](responses-api.md)).',
  },
);
