/**
 * The REST services of one config snapshot, found by path prefix at request time. A service
 * whose settings did not change keeps its compiled form across a swap (target health, active
 * checks); a removed or changed one stops its checks when the swap happens.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError } from '../config/load-config.js';
import type { GatewayConfig } from '../config/types.js';
import { startHealthChecks, type HealthChecker } from '../services/active-health.js';
import { compileService, type CompiledService } from '../services/compile-service.js';
import { createServiceHandler } from '../services/forward-call.js';
import type { ServicePools } from '../services/service-pools.js';
import type { Ledger } from '../usage/ledger.js';

export interface ServiceEntry {
  name: string;
  compiled: CompiledService;
  handle: (request: FastifyRequest, reply: FastifyReply) => FastifyReply;
  checker?: HealthChecker;
  /** The settings it was compiled from, to tell whether a new config changed it. */
  signature: string;
}

export interface ServiceTableOptions {
  ledger: Ledger;
  log: FastifyBaseLogger;
  /** The app's connections to service targets. */
  servicePools: ServicePools;
}

function signatureOf(config: GatewayConfig, index: number): string {
  return JSON.stringify([config.services[index], config.server.body_limit_mb]);
}

/** Compiles every service without starting anything: the faults of all of them, or none. */
export function checkServices(config: GatewayConfig): string[] {
  const faults: string[] = [];
  config.services.forEach((service, i) => {
    try {
      compileService(service, i, { defaultBodyLimitMb: config.server.body_limit_mb });
    } catch (err) {
      if (err instanceof ConfigError) faults.push(...err.faults);
      else throw err;
    }
  });
  return faults;
}

export class ServiceTable {
  private readonly byPrefix = new Map<string, ServiceEntry>();

  private constructor(readonly entries: readonly ServiceEntry[]) {
    for (const entry of entries) this.byPrefix.set(entry.compiled.path.prefix, entry);
  }

  static readonly empty = new ServiceTable([]);

  /** Throws ConfigError (and starts nothing) when a service cannot be compiled. */
  static build(config: GatewayConfig, previous: ServiceTable | undefined, options: ServiceTableOptions): ServiceTable {
    const reused = new Map(previous?.entries.map((entry) => [entry.name, entry]));
    const fresh: Array<{ index: number; compiled: CompiledService }> = [];
    const entries: Array<ServiceEntry | undefined> = config.services.map((service, index) => {
      const prior = reused.get(service.name);
      if (prior && prior.signature === signatureOf(config, index)) return prior;
      fresh.push({ index, compiled: compileService(service, index, { defaultBodyLimitMb: config.server.body_limit_mb }) });
      return undefined;
    });
    for (const { index, compiled } of fresh) {
      const check = compiled.config.health.check;
      entries[index] = {
        name: compiled.name,
        compiled,
        handle: createServiceHandler(compiled, options.ledger, options.servicePools),
        checker: check ? startHealthChecks(compiled.name, compiled.pool, check, options.log) : undefined,
        signature: signatureOf(config, index),
      };
    }
    return new ServiceTable(entries as ServiceEntry[]);
  }

  /** The service whose prefix is the longest one `path` starts with (at a segment boundary). */
  find(path: string): ServiceEntry | undefined {
    if (this.byPrefix.size === 0) return undefined;
    let candidate = path;
    for (;;) {
      const entry = this.byPrefix.get(candidate);
      if (entry) return entry;
      if (candidate === '') return undefined;
      candidate = candidate.slice(0, candidate.lastIndexOf('/'));
    }
  }

  /** Stops the active checks of services `next` does not keep. */
  retire(next: ServiceTable | undefined): void {
    const kept = new Set(next?.entries);
    for (const entry of this.entries) if (!kept.has(entry)) entry.checker?.stop();
  }
}
