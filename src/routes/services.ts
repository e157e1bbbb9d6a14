/**
 * `<service prefix>` and `<service prefix>/*`: REST routing to the services in config.
 *
 * Everything lives in one encapsulated plugin so its choices stay here: request bodies of any
 * type pass through as the raw stream (no JSON parsing, no buffering), and reply-from's pool
 * is only used by these routes.
 */
import replyFrom from '@fastify/reply-from';
import type { FastifyInstance, RouteShorthandOptions } from 'fastify';
import { compileService } from '../services/compile-service.js';
import { startHealthChecks, type HealthChecker } from '../services/active-health.js';
import { createServiceHandler } from '../services/forward-call.js';

export async function registerServices(app: FastifyInstance): Promise<void> {
  const { config, ledger } = app.gateway;
  if (config.services.length === 0) return;
  const services = config.services.map((service, i) => compileService(service, i, { defaultBodyLimitMb: config.server.body_limit_mb }));

  await app.register(async (scope) => {
    await scope.register(replyFrom, {
      disableRequestLogging: true,
      // Close the pools with the app, or keep-alive sockets outlive it.
      destroyAgent: true,
      undici: {
        connections: 128,
        pipelining: 1,
        // reply-from turns TLS verification off unless told otherwise.
        connect: { rejectUnauthorized: true },
      },
    });
    scope.removeAllContentTypeParsers();
    // The body stays the client's stream; forward-call pulls from it as the upstream takes it.
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.decorateRequest('serviceCall', null);

    const checkers: HealthChecker[] = [];
    for (const service of services) {
      const handler = createServiceHandler(service, ledger);
      // The access stage (src/access/register-access.ts) hooks every route carrying `access`:
      // it identifies the caller, checks the key may use this service, and applies rate limits
      // and budgets before anything is sent upstream.
      const routeOptions: RouteShorthandOptions = { config: { access: { service: service.name } } };
      scope.all(service.path.prefix || '/', routeOptions, handler);
      scope.all(`${service.path.prefix}/*`, routeOptions, handler);
      const check = service.config.health.check;
      if (check) checkers.push(startHealthChecks(service.name, service.pool, check, app.log));
    }
    scope.addHook('onClose', async () => {
      for (const checker of checkers) checker.stop();
    });
  });
}
