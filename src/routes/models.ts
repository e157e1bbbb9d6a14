import type { FastifyInstance, FastifyRequest } from 'fastify';
import { mayUse } from '../access/permissions.js';
import { GatewayError } from '../core/errors.js';
import type { ModelRegistry } from '../pipeline/model-registry.js';

interface ListedModel {
  id: string;
  owned_by: string;
}

function anthropicModel(model: ListedModel, createdAt: string): Record<string, unknown> {
  return { type: 'model', id: model.id, display_name: model.id, created_at: createdAt };
}

/**
 * The list in Anthropic's shape (one page holding every model), for clients of `/v1/messages`
 * built on the Anthropic SDK: they send `anthropic-version` on every call and read `type`,
 * `display_name`, `created_at` and the page fields. https://docs.anthropic.com/en/api/models-list
 */
function anthropicList(models: readonly ListedModel[], createdAt: string): Record<string, unknown> {
  return {
    data: models.map((model) => anthropicModel(model, createdAt)),
    has_more: false,
    first_id: models[0]?.id ?? null,
    last_id: models.at(-1)?.id ?? null,
  };
}

/** The models `request`'s caller may use: the groups, then each provider's models reachable as `provider/model`. */
function modelsFor(request: FastifyRequest, registry: ModelRegistry): ListedModel[] {
  const seen = new Set<string>();
  const listed: ListedModel[] = [];
  for (const group of registry.listGroups()) {
    listed.push({ id: group.name, owned_by: 'konnect-gateway' });
    seen.add(group.name);
  }
  for (const group of registry.listGroups()) {
    for (const d of group.deployments) {
      const id = `${d.provider}/${d.model}`;
      // Listed only where the provider lets clients name its models directly.
      if (seen.has(id) || !registry.allowsDirect(d.provider, d.model)) continue;
      seen.add(id);
      listed.push({ id, owned_by: d.provider });
    }
  }
  return listed.filter((model) => mayUse(request.caller, 'models', model.id));
}

/**
 * `GET /v1/models` and `GET /v1/models/{model}`: the models the caller may use. The same names
 * serve every client API (chat completions, responses, messages, completions, embeddings), so
 * there is one list, in OpenAI's shape, or in Anthropic's for a caller that sends `anthropic-version`.
 */
export function registerModels(app: FastifyInstance, registryOf: () => ModelRegistry, startedAt: number): void {
  const created = Math.floor(startedAt / 1000);
  const createdAt = new Date(startedAt).toISOString();
  const isAnthropic = (request: FastifyRequest) => request.headers['anthropic-version'] !== undefined;
  const openAIModel = (model: ListedModel) => ({ id: model.id, object: 'model', created, owned_by: model.owned_by });

  app.get('/v1/models', async (request) => {
    const models = modelsFor(request, registryOf());
    if (isAnthropic(request)) return anthropicList(models, createdAt);
    return { object: 'list', data: models.map(openAIModel) };
  });

  // A wildcard: direct names hold a slash (`anthropic/claude-…`), sent raw or as %2F (the SDKs escape it; the router decodes both).
  app.get('/v1/models/*', async (request) => {
    const id = (request.params as { '*': string })['*'];
    const model = modelsFor(request, registryOf()).find((listed) => listed.id === id);
    if (!model) throw new GatewayError('model_not_found', `The model '${id}' does not exist or is not configured on this gateway`, { param: 'model' });
    return isAnthropic(request) ? anthropicModel(model, createdAt) : openAIModel(model);
  });
}
