import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config/types.js';
import { GatewayMetrics, type KnownNames } from '../plugins/metrics.js';
import { API_ROUTES } from '../usage/ledger-record.js';

/** Routes every gateway serves whatever its config; prompts and services are looked up. */
const FIXED_ROUTES: ReadonlySet<string> = new Set([...API_ROUTES, 'prompt:unknown']);

interface ConfigNames {
  config: GatewayConfig;
  groups: ReadonlySet<string>;
  providers: ReadonlySet<string>;
  services: ReadonlySet<string>;
}

function namesOf(config: GatewayConfig): ConfigNames {
  return {
    config,
    groups: new Set(config.models.map((group) => group.name)),
    providers: new Set(Object.keys(config.providers)),
    services: new Set(config.services.map((service) => service.name)),
  };
}

/**
 * The label values `/metrics` may show: names from the current config (read again after a
 * config change), prompts the prompt route serves, and the fixed routes.
 */
function knownNames(app: FastifyInstance): KnownNames {
  let names: ConfigNames | undefined;
  const current = (): ConfigNames => {
    const config = app.gateway.config;
    if (names?.config !== config) names = namesOf(config);
    return names;
  };
  const hasPrompt = (name: string): boolean => app.hasDecorator('hasPrompt') && app.hasPrompt(name);
  return {
    isGroup: (name) => current().groups.has(name),
    isProvider: (name) => current().providers.has(name),
    isRoute: (route) => {
      if (FIXED_ROUTES.has(route)) return true;
      if (route.startsWith('prompt:')) return hasPrompt(route.slice('prompt:'.length));
      if (route.startsWith('service:')) return current().services.has(route.slice('service:'.length));
      return false;
    },
  };
}

/**
 * `GET /metrics`: Prometheus text. Open like `/health` (scrapers carry no key); labels name
 * routes, model groups and providers the config defines, never keys, teams or a caller's text.
 */
export function registerMetrics(app: FastifyInstance): GatewayMetrics {
  const ledger = app.gateway.ledger;
  const cache = app.gateway.cache;
  const metrics = new GatewayMetrics(knownNames(app), () => ledger.stats?.(), () => cache.waiting);
  ledger.onRecord((record) => metrics.observe(record));
  app.get('/metrics', async (_request, reply) => {
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render());
  });
  return metrics;
}
