/**
 * `<service prefix>` and `<service prefix>/*`: REST routing to the services in config.
 *
 * Everything lives in one encapsulated plugin so its choices stay here: request bodies of any
 * type pass through as the raw stream (no JSON parsing, no buffering).
 *
 * Services change at run time (the control plane), so there is one catch-all route that finds
 * the service by prefix in the current config snapshot, read once per request; the gateway's
 * own routes are more specific and always win. A path no service claims gets the usual 404.
 */
import type { FastifyInstance, onRequestHookHandler, preHandlerHookHandler } from 'fastify';
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
    scope.removeAllContentTypeParsers();
    // The body stays the client's stream; forward-call pulls from it as the upstream takes it.
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.decorateRequest('serviceCall', null);
    scope.decorateRequest('routedService', null);

    // The access stage as src/access/register-access.ts applies it to routes carrying `access`,
    // with the service known only once the path is matched: identify the caller, check the key
    // may use this service, apply rate limits and budgets before anything is sent upstream.
    // Callback hooks with a synchronous way through: an anonymous call (keys optional) to a
    // service without approval pays no promise and no tick for the access stage.
    const route: onRequestHookHandler = (request, _reply, done) => {
      // The router's wildcard is the decoded path, as the per-prefix routes used to match it.
      const service = currentServices().find(`/${(request.params as { '*': string })['*']}`) ?? null;
      request.routedService = service;
      if (!service || !access.needsIdentify(request)) return done();
      access.identify(request).then(() => done(), done);
    };
    const admit: preHandlerHookHandler = (request, reply, done) => {
      const service = request.routedService;
      const approval = service?.compiled.config.approval === 'required';
      if (!service || (!request.accessIdentity && !approval)) return done();
      const admitted = async () => {
        await access.admit(request, reply, { resource: { kind: 'services', name: service.name } });
        if (approval) await access.checkSubscription(request.caller, 'service', service.name);
      };
      admitted().then(() => done(), done);
    };
    scope.all('/*', { onRequest: route, preHandler: admit }, (request, reply) => {
      const service = request.routedService;
      if (!service) return reply.callNotFound();
      return service.handle(request, reply);
    });
  });
}
