import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ANONYMOUS, type Caller } from './core/caller.js';
import type { GatewayConfig } from './config/types.js';
import { ClientClosedError } from './pipeline/attempt-signal.js';
import type { CallContext, PipelineServices } from './pipeline/call-context.js';
import { ModelRegistry } from './pipeline/model-registry.js';
import { requireMasterKey } from './plugins/admin-auth.js';
import { createRedis } from './store/redis.js';
import { registerErrorHandling } from './plugins/error-handler.js';
import { createSimpleBalancer, type Balancer } from './routing/balancer.js';
import { registerChatCompletions } from './routes/chat-completions.js';
import { registerEmbeddings } from './routes/embeddings.js';
import { registerHealth } from './routes/health.js';
import { registerModels } from './routes/models.js';
import type { Ledger } from './usage/ledger.js';
import { createMemoryLedger } from './usage/memory-ledger.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth stage; anonymous until then. */
    caller: Caller;
  }
  interface FastifyInstance {
    gateway: PipelineServices & {
      config: GatewayConfig;
      /** The instance's Redis connection; undefined on the embedded in-memory store. */
      redis?: Redis;
      /** Guards `/admin/*` routes: `{ preHandler: app.gateway.requireAdmin }`. */
      requireAdmin: (request: FastifyRequest) => Promise<void>;
    };
  }
}

/** Parts a test or the server may supply instead of the defaults. */
export interface AppDeps {
  ledger?: Ledger;
  balancer?: Balancer;
  /** A Redis connection to use instead of one made from `store.redis_url`; the caller closes it. */
  redis?: Redis;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

function parseTags(header: string | string[] | undefined): string[] {
  if (!header) return [];
  const text = Array.isArray(header) ? header.join(',') : header;
  return text
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0 && tag.length <= 64)
    .slice(0, 16);
}

/** Builds the gateway: plugins, routes and services. Never listens; `server.ts` does. */
export async function buildApp(config: GatewayConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: config.server.log_level },
    bodyLimit: Math.round(config.server.body_limit_mb * 1024 * 1024),
    // A client-supplied id is kept when it is sane, so traces join up across services.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // One line per request from our onResponse hook instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
  });

  const ownsRedis = !deps.redis && config.store.redis_url !== '';
  const redis = deps.redis ?? (ownsRedis ? createRedis(config.store.redis_url) : undefined);
  // Redis errors are handled where commands are issued; this keeps ioredis from logging each reconnect as unhandled.
  redis?.on('error', (err: Error) => app.log.debug({ err: err.message }, 'redis connection error'));
  const registry = new ModelRegistry(config);
  const services: PipelineServices = {
    registry,
    balancer: deps.balancer ?? createSimpleBalancer(),
    ledger: deps.ledger ?? createMemoryLedger(),
  };
  app.decorate('gateway', { ...services, config, redis, requireAdmin: requireMasterKey(config.auth.master_key) });
  app.decorateRequest('caller', null as unknown as Caller);
  app.addHook('onRequest', async (request) => {
    request.caller = ANONYMOUS;
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request completed',
    );
  });
  app.addHook('onClose', async () => {
    await Promise.all([...registry.adapters.values()].map((adapter) => adapter.close?.()));
    await services.ledger.close();
    if (ownsRedis) await redis?.quit().catch(() => redis.disconnect());
  });
  if (registry.disabledProviders.length > 0) {
    app.log.info({ providers: registry.disabledProviders }, 'providers without an API key are off until one is set');
  }

  registerErrorHandling(app);

  const makeContext = (request: FastifyRequest, reply: FastifyReply, route: string): CallContext => {
    const controller = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) controller.abort(new ClientClosedError());
    });
    return {
      services,
      requestId: request.id,
      caller: request.caller,
      route,
      tags: parseTags(request.headers['x-gateway-tags']),
      clientSignal: controller.signal,
      startedAt: Date.now(),
      log: request.log,
    };
  };

  registerChatCompletions(app, makeContext);
  registerEmbeddings(app, makeContext);
  registerModels(app, registry, Date.now());
  registerHealth(app, registry, () => ({ type: 'memory', status: 'ok' }));
  return app;
}
