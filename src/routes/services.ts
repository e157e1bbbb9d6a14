/**
 * `<service prefix>` and `<service prefix>/*`: REST routing to the services in config.
 *
 * Everything lives in one encapsulated plugin so its choices stay here: request bodies of any
 * type pass through as the raw stream (no JSON parsing, no buffering), and reply-from's pool
 * is only used by these routes.
 *
 * Services change at run time (the control plane), so there is one catch-all route that finds
 * the service by prefix in the current config snapshot, read once per request; the gateway's
 * own routes are more specific and always win. A path no service claims gets the usual 404.
 */
import replyFrom from '@fastify/reply-from';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceEntry, ServiceTable } from '../control/service-table.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The service a catch-all request was routed to; null when none claims its path. */
    routedService: ServiceEntry | null;
  }
}

export async function registerServices(app: FastifyInstance, currentServices: () => ServiceTable): Promise<void> {
  const { access } = app.gateway;

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
    scope.decorateRequest('routedService', null);

    // The access stage as src/access/register-access.ts applies it to routes carrying `access`,
    // with the service known only once the path is matched: identify the caller, check the key
    // may use this service, apply rate limits and budgets before anything is sent upstream.
    const route = async (request: FastifyRequest) => {
      // The router's wildcard is the decoded path, as the per-prefix routes used to match it.
      const service = currentServices().find(`/${(request.params as { '*': string })['*']}`) ?? null;
      request.routedService = service;
      if (service) await access.identify(request);
    };
    const admit = async (request: FastifyRequest, reply: FastifyReply) => {
      const service = request.routedService;
      if (!service) return;
      await access.admit(request, reply, { resource: { kind: 'services', name: service.name } });
      if (service.compiled.config.approval === 'required') await access.checkSubscription(request.caller, 'service', service.name);
    };
    scope.all('/*', { onRequest: route, preHandler: admit }, (request, reply) => {
      const service = request.routedService;
      if (!service) return reply.callNotFound();
      return service.handle(request, reply);
    });
  });
}
