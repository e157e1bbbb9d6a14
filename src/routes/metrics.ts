import type { FastifyInstance } from 'fastify';
import { GatewayMetrics } from '../plugins/metrics.js';

/**
 * `GET /metrics`: Prometheus text. Open like `/health` (scrapers carry no key); labels name
 * routes, model groups and providers, never keys or teams.
 */
export function registerMetrics(app: FastifyInstance): GatewayMetrics {
  const ledger = app.gateway.ledger;
  const metrics = new GatewayMetrics(() => ledger.stats?.());
  ledger.onRecord((record) => metrics.observe(record));
  app.get('/metrics', async (_request, reply) => {
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render());
  });
  return metrics;
}
