/** `services:`: REST services proxied under a path prefix, balanced over their targets. */
import { Type } from '@sinclair/typebox';
import { NOT_RESERVED } from './names.js';
import { closed, StringEnum, StringMap } from './schema-builders.js';

export const serviceMethodSchema = StringEnum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'QUERY']);

/** Headers to set (overwriting) and remove, names case-insensitive. */
export const headerChangesSchema = Type.Object(
  {
    set: Type.Optional(StringMap(Type.String(), { description: 'Headers set, overwriting any the message had.' })),
    remove: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Names of headers removed.' })),
  },
  { ...closed, description: 'Headers to set and remove; names are case-insensitive.' },
);

export const serviceHealthSchema = Type.Object(
  {
    max_fails: Type.Integer({
      minimum: 1,
      default: 3,
      description: 'Consecutive 5xx answers or timeouts that eject a target; a refused connection ejects at once.',
    }),
    cooldown_ms: Type.Integer({ minimum: 1, default: 10000, description: 'How long an ejected target gets no traffic, ms.' }),
    check: Type.Optional(
      Type.Object(
        {
          path: Type.String({ pattern: '^/', description: 'The path checked on every target.' }),
          interval_ms: Type.Integer({ minimum: 100, default: 5000, description: 'Time between checks, ms.' }),
          timeout_ms: Type.Integer({ minimum: 1, default: 2000, description: 'A check without an answer by then fails, ms.' }),
        },
        {
          ...closed,
          description: 'Active check: GET `path` on every target; a non-2xx/3xx answer or no answer marks it down until one passes.',
        },
      ),
    ),
  },
  { ...closed, default: {}, description: 'When a target is taken out of rotation, and for how long.' },
);

export const serviceTargetSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', description: 'The upstream origin (and optional base path) requests are forwarded to.' }),
    weight: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'Share of traffic, relative to the other targets.' }),
  },
  closed,
);

export const serviceSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 256,
      ...NOT_RESERVED,
      description: 'The ledger route is `service:<name>`; subscriptions and permissions name it too.',
    }),
    prefix: Type.String({ pattern: '^/', description: 'Requests whose path starts with this go to the service.' }),
    strip_prefix: Type.Boolean({ default: true, description: 'Drop the prefix before forwarding; ignored when `rewrite` is set.' }),
    timeout_ms: Type.Integer({
      minimum: 1,
      default: 10000,
      description: `Wait for response headers, longest silence between body chunks, longest wait for a free
        connection (\`connections\`), and longest time a client may stop reading the answer before it is cut, ms.`,
    }),
    methods: Type.Optional(
      Type.Array(serviceMethodSchema, { minItems: 1, description: 'Allowed methods; absent: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS.' }),
    ),
    rewrite: Type.Optional(Type.String({ pattern: '^/', description: 'Replaces the prefix with this path before forwarding.' })),
    preserve_host: Type.Boolean({ default: false, description: "Send the client's Host header upstream instead of the target's." }),
    approval: StringEnum(['none', 'required'], {
      default: 'none',
      description: '`required`: callers need an approved subscription of their team (`POST /admin/subscriptions`).',
    }),
    retries: Type.Integer({
      minimum: 0,
      maximum: 10,
      default: 2,
      description: 'Further attempts on other targets, idempotent methods only, on connection errors or 503.',
    }),
    // At most 128: the services' shared pool (src/routes/services.ts) opens no more than that per
    // origin, and a wait in there would have no bound.
    connections: Type.Integer({
      minimum: 1,
      maximum: 128,
      default: 128,
      description: `Requests in flight at once per target, each on its own connection. One more waits up to
        \`timeout_ms\` for a free one, then gets 503 \`gateway_busy\`, which does not count against the target's health.`,
    }),
    body_limit_mb: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Request body limit, MB; `server.body_limit_mb` when absent.' })),
    request_headers: Type.Optional(headerChangesSchema),
    response_headers: Type.Optional(headerChangesSchema),
    health: serviceHealthSchema,
    targets: Type.Array(serviceTargetSchema, { minItems: 1, description: 'Where requests go, balanced by `weight`.' }),
  },
  { ...closed, description: 'A REST service proxied under a path prefix ([rest-services.md](rest-services.md)).' },
);
