import type { FastifyInstance } from 'fastify';
import { mayUse } from '../access/permissions.js';
import type { ModelRegistry } from '../pipeline/model-registry.js';

/** `GET /v1/models`: the model groups, then each provider's models reachable as `provider/model`; only those the caller may use. */
export function registerModels(app: FastifyInstance, registryOf: () => ModelRegistry, startedAt: number): void {
  app.get('/v1/models', async (request) => {
    const registry = registryOf();
    const created = Math.floor(startedAt / 1000);
    const seen = new Set<string>();
    const data: Array<{ id: string; object: 'model'; created: number; owned_by: string }> = [];
    for (const group of registry.listGroups()) {
      data.push({ id: group.name, object: 'model', created, owned_by: 'konnect-gateway' });
      seen.add(group.name);
    }
    for (const group of registry.listGroups()) {
      for (const d of group.deployments) {
        const id = `${d.provider}/${d.model}`;
        // Listed only where the provider lets clients name its models directly.
        if (seen.has(id) || !registry.allowsDirect(d.provider, d.model)) continue;
        seen.add(id);
        data.push({ id, object: 'model', created, owned_by: d.provider });
      }
    }
    return { object: 'list', data: data.filter((model) => mayUse(request.caller, 'models', model.id)) };
  });
}
