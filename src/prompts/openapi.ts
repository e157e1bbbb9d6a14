/**
 * The OpenAPI 3.1 document of the prompt APIs, built from the registry so it follows hot
 * reloads: one operation per prompt route (older versions at `<route>@<version>`, marked
 * deprecated), request bodies from each prompt's `input` schema, answers typed by `output`.
 */
import type { PromptRegistry } from './prompt-registry.js';
import type { Prompt } from './prompt-types.js';

export interface OpenApiInfo {
  title: string;
  version: string;
  /** True when callers must send a gateway key. */
  requireKeys: boolean;
}

type Json = Record<string, unknown>;

const errorBody = (description: string): Json => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function operationId(prompt: Prompt, older: boolean): string {
  const base = `prompt_${prompt.spec.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  return older ? `${base}_v${prompt.spec.version}` : base;
}

function answerSchema(prompt: Prompt): Json {
  const output = prompt.spec.output.type === 'json' ? prompt.spec.output.schema : { type: 'string' };
  return {
    type: 'object',
    required: ['id', 'prompt', 'version', 'model', 'provider', 'output', 'usage', 'cost_usd'],
    properties: {
      id: { type: 'string' },
      prompt: { type: 'string', const: prompt.spec.name },
      version: { type: 'integer', const: prompt.spec.version },
      model: { type: 'string', description: 'The upstream model that answered.' },
      provider: { type: 'string' },
      output,
      usage: { $ref: '#/components/schemas/Usage' },
      cost_usd: { type: 'number' },
    },
  };
}

function operation(prompt: Prompt, older: boolean): Json {
  const { spec } = prompt;
  const isText = spec.output.type === 'text';
  const content: Json = { 'application/json': { schema: answerSchema(prompt) } };
  if (isText) {
    // A Media Type Object has no `description` (OpenAPI 3.1 §4.8.14): the schema carries it.
    content['text/event-stream'] = {
      schema: {
        type: 'string',
        description: 'With ?stream=true or Accept: text/event-stream: `chat.completion.chunk` events as in /v1/chat/completions, a final usage chunk, then `data: [DONE]`.',
      },
    };
  }
  const responses: Json = {
    200: { description: isText ? 'The answer text.' : 'The answer, parsed and validated against the output schema.', content },
    400: errorBody('The body does not match the input schema; `error.param` names the field.'),
    401: errorBody('No or bad gateway key.'),
    403: errorBody(spec.approval === 'required' ? 'Not allowed, or no approved subscription.' : 'Not allowed.'),
    404: errorBody('No such prompt or version.'),
    429: errorBody('Rate limit or budget reached (see `retry-after`).'),
    502: errorBody(isText ? 'The provider failed.' : 'The provider failed, or its answer did not match the output schema after one repair attempt.'),
    503: errorBody("The prompt's model is not available (`model_unavailable`: configured, but its providers have no API key)."),
    504: errorBody('The provider did not answer in time.'),
  };
  const notes = [`Version ${spec.version}, model \`${spec.model}\`.`];
  if (spec.approval === 'required') notes.push('Needs an approved subscription of the calling team.');
  return {
    operationId: operationId(prompt, older),
    summary: spec.description ?? spec.name,
    description: notes.join(' '),
    tags: ['prompts'],
    ...(older ? { deprecated: true } : {}),
    ...(isText
      ? { parameters: [{ name: 'stream', in: 'query', required: false, schema: { type: 'boolean' }, description: 'Stream the answer as server-sent events.' }] }
      : {}),
    requestBody: { required: true, content: { 'application/json': { schema: spec.input } } },
    responses,
  };
}

export function buildOpenApi(registry: PromptRegistry, info: OpenApiInfo): Json {
  const paths: Json = {
    '/prompts': {
      get: {
        operationId: 'listPrompts',
        summary: 'The published prompt APIs with their input schemas',
        tags: ['prompts'],
        responses: { 200: { description: 'Every prompt, newest version first in `versions`.', content: { 'application/json': { schema: { $ref: '#/components/schemas/PromptList' } } } } },
      },
    },
  };
  for (const entry of registry.list()) {
    const route = registry.routeOf(entry);
    paths[route] = { post: operation(entry.latest, false) };
    for (const older of entry.versions.slice(1)) paths[`${route}@${older.spec.version}`] = { post: operation(older, true) };
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, description: 'Prompt templates published as REST APIs by the Konnect gateway.' },
    tags: [{ name: 'prompts', description: 'Prompt APIs' }],
    paths,
    components: {
      securitySchemes: { gatewayKey: { type: 'http', scheme: 'bearer', description: 'A gateway key (also accepted as `x-api-key`).' } },
      schemas: {
        Usage: {
          type: 'object',
          required: ['prompt_tokens', 'completion_tokens', 'total_tokens'],
          properties: { prompt_tokens: { type: 'integer' }, completion_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } },
        },
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['message', 'type', 'param', 'code'],
              properties: { message: { type: 'string' }, type: { type: 'string' }, param: { type: ['string', 'null'] }, code: { type: 'string' } },
            },
          },
        },
        PromptList: {
          type: 'object',
          required: ['prompts'],
          properties: {
            prompts: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  version: { type: 'integer' },
                  versions: { type: 'array', items: { type: 'integer' } },
                  description: { type: 'string' },
                  route: { type: 'string' },
                  model: { type: 'string' },
                  input: { type: 'object' },
                  output: { type: 'object' },
                  approval: { enum: ['none', 'required'] },
                },
              },
            },
          },
        },
      },
    },
    // Without required keys an anonymous call is served too: `{}` makes the key optional.
    security: info.requireKeys ? [{ gatewayKey: [] }] : [{ gatewayKey: [] }, {}],
  };
}
