import type { FastifyInstance } from 'fastify';

/**
 * `GET /admin/models`: the model groups this gateway serves, with their strategy, retry and
 * timeout settings and deployments (provider, provider type, upstream model, weight, price in
 * USD per 1M tokens, limits). Nothing secret: no API keys, base URLs or provider headers.
 * Reads the registry on every call, so a registry replaced at run time is what it shows.
 */
export function registerAdminModels(app: FastifyInstance): void {
  app.get('/admin/models', { preHandler: app.gateway.requireAdmin }, async () => ({
    models: app.gateway.registry.listGroups().map((group) => ({
      name: group.name,
      strategy: group.strategy,
      retries: group.retries,
      timeout_ms: group.timeoutMs,
      deadline_ms: group.deadlineMs ?? null,
      fallbacks: [...group.fallbacks],
      deployments: group.deployments.map((d) => ({
        id: d.id,
        provider: d.provider,
        type: d.adapter.kind,
        model: d.model,
        weight: d.weight,
        price: d.pricing.known ? d.pricing.price : null,
        timeout_ms: d.timeoutMs,
        limits: d.limits ?? null,
      })),
    })),
  }));
}
