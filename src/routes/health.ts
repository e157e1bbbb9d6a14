import type { FastifyInstance } from 'fastify';
import type { ModelRegistry } from '../pipeline/model-registry.js';

export interface StoreStatus {
  type: 'memory' | 'redis';
  status: 'ok' | 'degraded' | 'down';
}

/** `GET /health`: 200 while the gateway can serve, with the store's state and providers waiting for keys. */
export function registerHealth(app: FastifyInstance, registry: ModelRegistry, storeStatus: () => StoreStatus): void {
  app.get('/health', async () => ({
    status: 'ok',
    store: storeStatus(),
    model_groups: registry.listGroups().length,
    providers: { enabled: [...registry.adapters.keys()], disabled_no_key: registry.disabledProviders },
  }));
}
