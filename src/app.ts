import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import { newCallId } from './core/call-id.js';
import { registerCallLifecycle } from './plugins/call-lifecycle.js';
import { registerJsonBodyParser } from './http/json-body.js';
import { replyToClientError } from './http/client-error-reply.js';
import { ANONYMOUS, type Caller } from './core/caller.js';
import type { GatewayConfig } from './config/types.js';
import type { PipelineServices } from './pipeline/call.js';
import { registerAdminAuth, requireMasterKey } from './plugins/admin-auth.js';
import { redactUrl, serializeRequest } from './http/redact-url.js';
import { deferredChildLogger } from './http/deferred-logger.js';
import { createStoreRedis, hasRedis } from './store/redis.js';
import { ControlPlane } from './control/control-plane.js';
import { registerAdminConfig } from './routes/admin-config.js';
import { registerErrorHandling, sendError, toGatewayError } from './plugins/error-handler.js';
import { createBalancer, type Balancer } from './routing/balancer.js';
import { registerAdminDeployments } from './routes/admin-deployments.js';
import { registerChatCompletions } from './routes/chat-completions.js';
import { registerEmbeddings } from './routes/embeddings.js';
import { registerMessages } from './routes/messages.js';
import { registerResponses } from './routes/responses.js';
import { registerCompletions } from './routes/completions.js';
import { registerHealth } from './routes/health.js';
import { registerModels } from './routes/models.js';
import { registerServices } from './routes/services.js';
import { ServicePools } from './services/service-pools.js';
import { registerPrompts } from './routes/prompts.js';
import { registerAdminLogs } from './routes/admin-logs.js';
import { registerAdminUsage } from './routes/admin-usage.js';
import { registerMetrics } from './routes/metrics.js';
import type { AccessControl } from './access/access-control.js';
import { createAccess, registerAccess } from './access/register-access.js';
import { registerAdminAudit } from './routes/admin-audit.js';
import { registerAdminModels } from './routes/admin-models.js';
import { registerAdminProviders } from './routes/admin-providers.js';
import { registerUi } from './routes/ui.js';
import { registerAdminKeys } from './routes/admin-keys.js';
import { registerAdminSubscriptions } from './routes/admin-subscriptions.js';
import { registerAdminTeams } from './routes/admin-teams.js';
import { createGatewayLedger, describeStore } from './usage/create-ledger.js';
import type { Ledger } from './usage/ledger.js';
import { PolicyResolver } from './cache/call-policies.js';
import { createResponseCache } from './cache/create-cache.js';
import type { ResponseCache } from './cache/response-cache.js';
import { startTracing } from './telemetry/start-tracing.js';

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
      /** Keys, teams, limits, budgets and subscriptions (src/access). */
      access: AccessControl;
      /**
       * Config changed at run time (src/control). `config` and `registry` read its current
       * snapshot; a request that needs both reads `control.current` once instead.
       */
      control: ControlPlane;
      /** Exact-match response cache with request coalescing (src/cache). */
      cache: ResponseCache;
      /** Guardrails and cache settings of model groups and prompts. */
      policies: PolicyResolver;
    };
  }
}

/** Parts a test or the server may supply instead of the defaults. */
export interface AppDeps {
  ledger?: Ledger;
  balancer?: Balancer;
  /** A Redis connection to use instead of one made from `store.redis_url`; the caller closes it. */
  redis?: Redis;
  /** Where log lines go instead of stdout (tests read them). */
  logStream?: { write(line: string): void };
  /** The config file, so admin config changes can be written back (`?persist=true`, no Redis). */
  configPath?: string;
  /** Resolves `${VAR}` in config changes made through the admin API, and holds the OTEL_* tracing variables; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Local copy of the last config overlay seen in Redis; null for none (default: `.konnect-config-cache/` beside `ledger.spool_dir`). */
  configCachePath?: string | null;
  /** How often the control plane checks the stored config version, ms (pub/sub is the fast path). */
  configPollMs?: number;
  /** The clock of time-based state kept in process (the memory cache's TTLs); Date.now by default. */
  now?: () => number;
}

/** Builds the gateway: plugins, routes and services. Never listens; `server.ts` does. */
export async function buildApp(config: GatewayConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // Fastify's own `req` serializer logs the URL too: secret-looking query values are redacted there as well.
    logger: { level: config.server.log_level, serializers: { req: serializeRequest }, ...(deps.logStream ? { stream: deps.logStream } : {}) },
    bodyLimit: Math.round(config.server.body_limit_mb * 1024 * 1024),
    http: { maxHeaderSize: 16 * 1024 }, // request line + headers, pinned whatever node's flags say: past it Node answers 431
    // Every request gets the gateway's own unguessable id; the client's x-request-id is only a correlation id.
    genReqId: () => newCallId(),
    // One line per request from our onResponse hook instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // A request's logger binds its id only when it writes a line (src/http/deferred-logger.ts).
    childLoggerFactory: deferredChildLogger,
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
    // The router refuses malformed URLs (bad percent-encoding) before any route: same error shape.
    frameworkErrors: (error, _request, reply) => {
      sendError(reply, toGatewayError(error));
    },
    clientErrorHandler: replyToClientError,
  });

  const ownsRedis = !deps.redis && hasRedis(config.store);
  const redis = deps.redis ?? (ownsRedis ? createStoreRedis(config.store) : undefined);
  // Redis errors are handled where commands are issued; this keeps ioredis from logging each reconnect as unhandled.
  redis?.on('error', (err: Error) => app.log.debug({ err: err.message }, 'redis connection error'));
  const services: Pick<PipelineServices, 'balancer' | 'ledger'> = {
    balancer:
      deps.balancer ??
      createBalancer({
        redis,
        keyPrefix: config.store.key_prefix,
        onError: (err) => app.log.warn({ err }, 'balancer: Redis trouble, limits and cooldowns are not shared until it is back'),
      }),
    ledger: deps.ledger ?? createGatewayLedger(config, redis, app.log),
  };
  const servicePools = new ServicePools();
  const control = new ControlPlane({
    ...services,
    servicePools,
    seed: config,
    redis,
    log: app.log.child({ module: 'control' }),
    env: deps.env,
    configPath: deps.configPath,
    cachePath: deps.configCachePath,
    pollMs: deps.configPollMs,
  });
  // The current snapshot (config, registry, services), replaced whole when the config changes.
  const configState = control.state;
  const access = createAccess(config, redis, app.log, services.ledger.store?.scope ?? 'memory');
  const cache = createResponseCache(redis, config.store.key_prefix, app.log, deps.now);
  // Undefined unless the config or OTEL_* variables turn tracing on: then, and only then, the SDK loads.
  const tracing = await startTracing(config, deps.env ?? process.env, () => configState.current.config.providers);
  if (tracing) app.log.info({ endpoint: tracing.settings.url, capture_content: tracing.settings.captureContent }, 'tracing: exporting call spans over OTLP/HTTP');
  app.decorate('gateway', {
    ...services,
    get registry() {
      return configState.current.registry;
    },
    get config() {
      return configState.current.config;
    },
    control,
    redis,
    requireAdmin: requireMasterKey(config.auth.master_key),
    access,
    cache,
    policies: new PolicyResolver(() => app.gateway.config),
  });
  app.decorateRequest('caller', null as unknown as Caller);
  // Callback hooks, not async ones: each async hook costs every request a promise and a tick.
  app.addHook('onRequest', (request, _reply, done) => {
    request.caller = ANONYMOUS;
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    // The level is asked first: at `warn` the line's fields (a redacted URL) would be built for nothing.
    if ((request.log as unknown as Logger).isLevelEnabled('info')) {
      request.log.info(
        { method: request.method, url: redactUrl(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        'request completed',
      );
    }
    done();
  });
  app.addHook('onClose', async () => {
    await control.close();
    await servicePools.close();
    await services.ledger.close();
    // After the ledger: its last records settle through the access outbox, which spools what it cannot write.
    await access.close();
    await cache.close();
    if (!deps.balancer) await services.balancer.close();
    if (ownsRedis) await redis?.quit().catch(() => redis.disconnect());
    // Last: every call has settled, so every span has ended and this exports them all.
    await tracing?.tracer.close().catch((err: unknown) => app.log.warn({ err }, 'tracing: the last spans could not be exported'));
  });
  const { disabledProviders } = configState.current.registry;
  if (disabledProviders.length > 0) {
    app.log.info({ providers: disabledProviders }, 'providers without an API key are off until one is set');
  }

  registerErrorHandling(app);
  registerJsonBodyParser(app);
  // Before any route: the access stage attaches its hooks to /v1 and /prompts routes as they register.
  registerAccess(app, access, services.ledger, config.budgets);
  registerAdminAuth(app, config.auth.master_key);
  registerCallLifecycle(app, () => configState.current, tracing?.tracer);

  registerChatCompletions(app);
  registerEmbeddings(app);
  registerMessages(app);
  registerResponses(app, { now: deps.now });
  registerCompletions(app);
  registerModels(app, () => configState.current.registry, Date.now());
  await registerPrompts(app, {
    checkApproval: (caller, prompt) => access.checkSubscription(caller, 'prompt', prompt.spec.name),
  });
  registerAdminDeployments(app);
  registerHealth(app, () => configState.current.registry, () => describeStore(services.ledger, redis), () => control.status());
  registerAdminUsage(app);
  registerAdminLogs(app);
  registerMetrics(app);
  registerAdminTeams(app);
  registerAdminKeys(app);
  registerAdminSubscriptions(app);
  registerAdminAudit(app);
  registerAdminModels(app);
  registerAdminProviders(app);
  registerUi(app);
  registerAdminConfig(app, control);
  await registerServices(app, () => configState.current.services);
  // Last, with every route in place: the instance comes up on the newest stored config.
  await control.start();
  return app;
}
