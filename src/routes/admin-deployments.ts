import type { FastifyInstance } from 'fastify';

/** Rounds to what an operator reads; undefined (never measured) becomes null. */
function ms(value: number | undefined): number | null {
  return value === undefined ? null : Math.round(value);
}

/**
 * `GET /admin/deployments`: every configured deployment with its health (healthy or cooling
 * down, until when), requests in flight, recent latency and TTFT, and error rate over its last
 * outcomes, as this instance sees them (cooldowns are shared; load and latency are per instance).
 */
export function registerAdminDeployments(app: FastifyInstance): void {
  app.get('/admin/deployments', { preHandler: app.gateway.requireAdmin }, async () => {
    const { registry, balancer } = app.gateway;
    const rows = registry.listGroups().flatMap((group) => group.deployments.map((d) => ({ group, d })));
    // Remaining limits live in Redis when shared: read once per deployment, side by side.
    const remaining = await Promise.all(rows.map(({ d }) => balancer.remaining(d).catch(() => null)));
    const deployments = rows.map(({ group, d }, i) => {
        const status = balancer.status(d);
        const left = remaining[i];
        return {
          id: d.id,
          group: group.name,
          strategy: group.strategy,
          provider: d.provider,
          model: d.model,
          weight: d.weight,
          state: status.state,
          cooldown_until: status.cooldownUntil === undefined ? null : new Date(status.cooldownUntil).toISOString(),
          probing: status.probing,
          in_flight: status.inFlight,
          latency_ms: ms(status.latencyMs),
          ttft_ms: ms(status.ttftMs),
          error_rate: Math.round(status.errorRate * 1000) / 1000,
          requests: status.requests,
          failures: status.failures,
          limits: d.limits ?? null,
          limits_remaining: left ? { rpm: left.requests, tpm: left.tokens } : null,
        };
      });
    return { deployments };
  });
}
