/**
 * The current config snapshot and the ones it replaced while calls still run on them. A swap
 * is one reference assignment; afterwards, an adapter no live snapshot uses any more is
 * closed, once the calls on its snapshot ended or after a grace period.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ProviderAdapter } from '../core/adapter.js';
import type { ConfigSnapshot } from './config-snapshot.js';

/** How long a replaced snapshot's calls may run before its adapters are closed anyway, ms. */
const DEFAULT_DRAIN_GRACE_MS = 5 * 60_000;

export class ConfigState {
  private readonly retiring = new Map<ConfigSnapshot, NodeJS.Timeout>();

  constructor(
    /** Read once per request; replaced whole by `swap`. */
    public current: ConfigSnapshot,
    private readonly log: FastifyBaseLogger,
    private readonly drainGraceMs = DEFAULT_DRAIN_GRACE_MS,
  ) {}

  swap(next: ConfigSnapshot): void {
    const old = this.current;
    this.current = next;
    old.services.retire(next.services);
    const timer = setTimeout(() => {
      this.log.warn('calls on a replaced config are still running after the grace period; closing its providers anyway');
      this.release(old);
    }, this.drainGraceMs);
    timer.unref();
    this.retiring.set(old, timer);
    old.whenIdle(() => this.release(old));
  }

  private release(old: ConfigSnapshot): void {
    const timer = this.retiring.get(old);
    if (!timer) return;
    clearTimeout(timer);
    this.retiring.delete(old);
    const inUse = this.adaptersInUse();
    for (const adapter of old.registry.adapters.values()) {
      if (!inUse.has(adapter)) void adapter.close?.().catch((err: unknown) => this.log.warn({ err }, 'closing a replaced provider failed'));
    }
  }

  private adaptersInUse(): Set<ProviderAdapter> {
    const used = new Set<ProviderAdapter>(this.current.registry.adapters.values());
    for (const snapshot of this.retiring.keys()) for (const adapter of snapshot.registry.adapters.values()) used.add(adapter);
    return used;
  }

  /** At shutdown (calls drained): every adapter and service check of every snapshot. */
  async close(): Promise<void> {
    const adapters = this.adaptersInUse();
    for (const timer of this.retiring.values()) clearTimeout(timer);
    this.retiring.clear();
    this.current.services.retire(undefined);
    await Promise.all([...adapters].map((adapter) => adapter.close?.()));
  }
}
