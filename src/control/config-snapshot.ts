/**
 * One config as the request path uses it: the validated config, the model registry and the
 * REST services built from it. A request reads the current snapshot once and keeps it to the
 * end, so a swap never changes a call half-way; `enter`/`leave` count the calls still on a
 * snapshot, so the adapters it alone uses are closed only once they are done.
 */
import type { GatewayConfig } from '../config/types.js';
import type { PipelineServices } from '../pipeline/call.js';
import { ModelRegistry } from '../pipeline/model-registry.js';
import type { Balancer } from '../routing/balancer.js';
import type { Ledger } from '../usage/ledger.js';
import type { Overlay } from './overlay.js';
import { ServiceTable, type ServiceTableOptions } from './service-table.js';

/** Where the running config came from. */
export type ConfigSource =
  /** The file alone: no Redis, or Redis unreachable since start and nothing cached. */
  | 'file'
  /** The file plus the overlay stored in Redis. */
  | 'redis'
  /** The file plus the overlay last seen in Redis, from the local cache (Redis unreachable at start). */
  | 'cache'
  /** The file plus changes made through this instance's admin API (no Redis). */
  | 'local';

export interface SnapshotInfo {
  /** Overlay version applied; 0: none yet. */
  version: number;
  source: ConfigSource;
  overlay: Overlay;
}

export class ConfigSnapshot {
  /** Calls that started on this snapshot and have not ended. */
  private inFlight = 0;
  private onIdle?: () => void;
  readonly appliedAt = Date.now();

  constructor(
    readonly config: GatewayConfig,
    readonly registry: ModelRegistry,
    /** What a call context carries: this snapshot's registry with the app's balancer and ledger. */
    readonly pipeline: PipelineServices,
    readonly services: ServiceTable,
    readonly info: SnapshotInfo,
  ) {}

  enter(): void {
    this.inFlight++;
  }

  leave(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.onIdle) this.onIdle();
  }

  /** Calls `done` once no call is on this snapshot (at once if none is). */
  whenIdle(done: () => void): void {
    if (this.inFlight <= 0) done();
    else this.onIdle = done;
  }
}

export interface SnapshotParts extends ServiceTableOptions {
  balancer: Balancer;
  ledger: Ledger;
}

/**
 * Builds everything a config needs before anything is swapped; reuses what `previous` built
 * for unchanged providers, deployments and services. Throws ConfigError for a service that
 * cannot be compiled, having started nothing.
 */
export function buildSnapshot(config: GatewayConfig, previous: ConfigSnapshot | undefined, info: SnapshotInfo, parts: SnapshotParts): ConfigSnapshot {
  const services = ServiceTable.build(config, previous?.services, parts);
  const registry = new ModelRegistry(config, previous?.registry);
  return new ConfigSnapshot(config, registry, { registry, balancer: parts.balancer, ledger: parts.ledger }, services, info);
}
