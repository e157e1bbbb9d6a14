import type { FastifyInstance } from 'fastify';
import type { ModelRegistry } from '../pipeline/model-registry.js';

export interface StoreStatus {
  type: 'memory' | 'redis';
  status: 'ok' | 'degraded' | 'down';
}

/**
 * `GET /health`: 200 while the gateway can serve, with the store's state, where the running
 * config came from (file, Redis, local cache) and providers waiting for keys.
 */
export function registerHealth(
  app: FastifyInstance,
  registryOf: () => ModelRegistry,
  storeStatus: () => StoreStatus,
  configStatus?: () => unknown,
): void {
  app.get('/health', async () => {
    const registry = registryOf();
    return {
      status: 'ok',
      store: storeStatus(),
      ...(configStatus ? { config: configStatus() } : {}),
      model_groups: registry.listGroups().length,
      providers: { enabled: [...registry.adapters.keys()], disabled_no_key: registry.disabledProviders },
    };
  });
}
