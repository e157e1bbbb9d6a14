/** `services:`: REST services proxied under a path prefix, balanced over their targets. */
import { Type } from '@sinclair/typebox';
import { NOT_RESERVED } from './names.js';
import { closed, StringEnum, StringMap } from './schema-builders.js';

export const serviceMethodSchema = StringEnum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'QUERY']);

/** Headers to set (overwriting) and remove, names case-insensitive. */
export const headerChangesSchema = Type.Object(
  {
    set: Type.Optional(StringMap(Type.String())),
    remove: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  closed,
);

export const serviceHealthSchema = Type.Object(
  {
    /** Consecutive 5xx answers or timeouts that eject a target; a refused connection ejects at once. */
    max_fails: Type.Integer({ minimum: 1, default: 3 }),
    /** How long an ejected target gets no traffic, ms. */
    cooldown_ms: Type.Integer({ minimum: 1, default: 10000 }),
    /** Active check: GET `path` on every target; a non-2xx/3xx answer or no answer marks it down until one passes. */
    check: Type.Optional(
      Type.Object(
        {
          path: Type.String({ pattern: '^/' }),
          /** ms. */
          interval_ms: Type.Integer({ minimum: 100, default: 5000 }),
          /** ms. */
          timeout_ms: Type.Integer({ minimum: 1, default: 2000 }),
        },
        closed,
      ),
    ),
  },
  { ...closed, default: {} },
);

export const serviceTargetSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://' }),
    weight: Type.Number({ exclusiveMinimum: 0, default: 1 }),
  },
  closed,
);

export const serviceSchema = Type.Object(
  {
    /** The ledger route is `service:<name>`; subscriptions and permissions name it too. */
    name: Type.String({ minLength: 1, maxLength: 256, ...NOT_RESERVED }),
    prefix: Type.String({ pattern: '^/' }),
    /** Drop the prefix before forwarding; ignored when `rewrite` is set. */
    strip_prefix: Type.Boolean({ default: true }),
    /**
     * Wait for response headers, longest silence between body chunks, longest wait for a free
     * connection (`connections`), and longest time a client may stop reading the answer before
     * it is cut, ms.
     */
    timeout_ms: Type.Integer({ minimum: 1, default: 10000 }),
    /** Allowed methods; absent: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS. */
    methods: Type.Optional(Type.Array(serviceMethodSchema, { minItems: 1 })),
    /** Replaces the prefix with this path before forwarding. */
    rewrite: Type.Optional(Type.String({ pattern: '^/' })),
    /** Send the client's Host header upstream instead of the target's. */
    preserve_host: Type.Boolean({ default: false }),
    /** `required`: callers need an approved subscription of their team (POST /admin/subscriptions). */
    approval: StringEnum(['none', 'required'], { default: 'none' }),
    /** Further attempts on other targets, idempotent methods only, on connection errors or 503. */
    retries: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
    /**
     * Requests in flight at once per target, each on its own connection. One more waits up to
     * `timeout_ms` for a free one, then gets 503 `gateway_busy`, which does not count against
     * the target's health. At most 128: the services' shared pool (src/routes/services.ts)
     * opens no more than that per origin, and a wait in there would have no bound.
     */
    connections: Type.Integer({ minimum: 1, maximum: 128, default: 128 }),
    /** Request body limit, MB; `server.body_limit_mb` when absent. */
    body_limit_mb: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    request_headers: Type.Optional(headerChangesSchema),
    response_headers: Type.Optional(headerChangesSchema),
    health: serviceHealthSchema,
    targets: Type.Array(serviceTargetSchema, { minItems: 1 }),
  },
  closed,
);
