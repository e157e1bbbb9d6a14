/**
 * The control plane of one instance: the file is the seed; model groups, services and
 * providers changed through the admin API form an overlay, stored in Redis with a version and
 * announced over pub/sub. Every instance follows it (the message, a version poll as fallback,
 * and a reload on reconnect) and swaps in a fully built snapshot: requests already running
 * finish on the one they started with. Without Redis, changes apply to this instance only
 * and may be written back to the file.
 */
import { dirname, join, resolve } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { ConfigError, parseConfig } from '../config/load-config.js';
import type { GatewayConfig } from '../config/types.js';
import { GatewayError } from '../core/errors.js';
import { withTimeout } from '../core/with-timeout.js';
import { serialized } from '../core/serialized.js';
import type { Balancer } from '../routing/balancer.js';
import type { Ledger } from '../usage/ledger.js';
import type { ServicePools } from '../services/service-pools.js';
import { buildSnapshot, type ConfigSnapshot, type ConfigSource, type SnapshotParts } from './config-snapshot.js';
import { ConfigState } from './config-state.js';
import { allowedEnv, createEnvAllowList, describeRefused, refusedReferences, type EnvAllowList } from './config-env.js';
import { createMemoryConfigStore, createRedisConfigStore, type ConfigStore, type StoredOverlay } from './config-store.js';
import { maskConfig, maskEntry } from './mask-secrets.js';
import { MissingKeys } from './missing-keys.js';
import { groupsReferring, listGroups } from './dependents.js';
import { applyOverlay, EMPTY_OVERLAY, entryOf, faultsByName, overlayField, parseOverlayField, type Overlay, type OverlayEntry, type Section } from './overlay.js';
import { readOverlayCache, writeOverlayCache } from './overlay-cache.js';
import { persistChange } from './persist-file.js';
import { checkServices } from './service-table.js';

export interface ControlPlaneOptions {
  /** The config file, validated: the base every overlay is applied to. */
  seed: GatewayConfig;
  redis?: Redis;
  balancer: Balancer;
  ledger: Ledger;
  servicePools: ServicePools;
  log: FastifyBaseLogger;
  /** Resolves `${VAR}` in stored entries, only the names `auth.config_env` allows; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** The config file, for `?persist=true` without Redis. */
  configPath?: string;
  /** Local copy of the last overlay seen in Redis; null: none. Default: `.konnect-config-cache/` beside `ledger.spool_dir`. */
  cachePath?: string | null;
  /** Version check in case a pub/sub message was missed, ms. */
  pollMs?: number;
  /** How long start-up waits for Redis before serving from the file (or the cache), ms. */
  startWaitMs?: number;
  /** How long calls on a replaced config may run before its providers are closed anyway, ms. */
  drainGraceMs?: number;
}

export interface ConfigChange {
  section: Section;
  name: string;
  /** The entry as given (without its name), or null to delete. */
  entry: OverlayEntry;
  /** Write the change to the config file too (no Redis only). */
  persist: boolean;
}

export interface ChangeOutcome {
  version: number;
  /** The entry before and after, as the effective config has it, secrets masked; null: absent. */
  before: unknown;
  after: unknown;
  persisted: boolean;
}

/** Why the running config is not the stored one: the stored version cannot be applied here. */
export interface ApplyFault {
  version: number;
  faults: string[];
  at: string;
}

const DEFAULT_POLL_MS = 1000;
const DEFAULT_START_WAIT_MS = 2000;
const MAX_COMMIT_TRIES = 5;

const SINGULAR: Record<Section, string> = { models: 'model group', services: 'service', providers: 'provider' };

function storeDown(err: unknown): GatewayError {
  return new GatewayError('service_unavailable', 'the config store (Redis) is unreachable; try again shortly', { cause: err, retryAfter: 1 });
}

function invalidChange(faults: string[]): GatewayError {
  const first = faults[0] ?? '/';
  return new GatewayError('invalid_request', `invalid config change: ${faults.join('; ')}`, { param: first.slice(0, first.indexOf(':')) || null });
}

/** 409 for a deletion that would leave model groups pointing at nothing; `raw` is the config without the entry. */
function refuseIfReferred(raw: Record<string, unknown>, section: Section, name: string): void {
  const groups = groupsReferring(raw, section, name);
  if (groups.length === 0) return;
  const how = section === 'providers' ? 'in their deployments' : 'as a fallback';
  const those = groups.length === 1 ? 'that group' : 'those groups';
  throw new GatewayError('entry_in_use', `${SINGULAR[section]} '${name}' is still used by ${listGroups(groups)} (${how}): change or delete ${those} first`, {
    param: 'name',
  });
}

export class ControlPlane {
  readonly state: ConfigState;
  /** Names the variable a switched-off provider's key would come from, for honest 503s. */
  readonly missingKeys: MissingKeys;
  private readonly store: ConfigStore & { channel?: string };
  private readonly env: NodeJS.ProcessEnv;
  private readonly allowsEnv: EnvAllowList;
  private readonly parts: SnapshotParts;
  private readonly cachePath: string | null;
  private subscriber?: Redis;
  private pollTimer?: NodeJS.Timeout;
  private polling = false;
  /** The last version read from the store; undefined until one was. */
  private lastSeen?: number;
  private lastFault?: ApplyFault;
  private changes: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Reads the store and applies what changed; concurrent calls coalesce. */
  readonly sync = serialized(() => this.load());

  constructor(private readonly options: ControlPlaneOptions) {
    const { seed, redis, log } = options;
    this.store = redis ? createRedisConfigStore(redis, seed.store.key_prefix) : createMemoryConfigStore();
    const env = options.env ?? process.env;
    this.missingKeys = new MissingKeys(options.configPath ?? null);
    this.allowsEnv = createEnvAllowList(seed.auth.config_env, seed.auth.master_key, env);
    // Only what changes may read (the seed's own references were resolved at load); PORT was
    // applied to the seed already, and the seed's server settings stand.
    this.env = { ...allowedEnv(env, this.allowsEnv), PORT: undefined };
    this.parts = { balancer: options.balancer, ledger: options.ledger, servicePools: options.servicePools, log };
    this.cachePath =
      options.cachePath !== undefined
        ? options.cachePath
        : redis
          ? join(dirname(resolve(seed.ledger.spool_dir)), '.konnect-config-cache', `overlay-${seed.store.key_prefix.replace(/[^\w-]/g, '_')}.json`)
          : null;
    const initial = buildSnapshot(seed, undefined, { version: 0, source: 'file', overlay: EMPTY_OVERLAY }, this.parts);
    this.state = new ConfigState(initial, log, options.drainGraceMs);
  }

  get current(): ConfigSnapshot {
    return this.state.current;
  }

  /** With Redis: loads the stored overlay (or the cached one while Redis is unreachable), then follows changes. */
  async start(): Promise<void> {
    const { redis, log } = this.options;
    if (!redis || this.store.kind !== 'redis') return;
    let stored: StoredOverlay | undefined;
    try {
      const waitMs = this.options.startWaitMs ?? DEFAULT_START_WAIT_MS;
      stored = await withTimeout(this.store.read(), waitMs, () => new Error(`no answer within ${waitMs} ms`));
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'config store unreachable at start: serving the config file until Redis answers');
    }
    if (stored) {
      this.lastSeen = stored.version;
      this.apply(stored, 'redis');
    } else if (this.cachePath) {
      const cached = await readOverlayCache(this.cachePath);
      if (cached && cached.overlay.size > 0 && this.apply(cached, 'cache')) {
        log.warn({ version: cached.version, file: this.cachePath }, 'serving the last config seen in Redis, from the local cache');
      }
    }
    this.follow(redis);
  }

  /** Validates a change against the file plus the stored overlay, stores it, and applies it here before answering. */
  change(change: ConfigChange): Promise<ChangeOutcome> {
    const run = this.changes.then(() => this.changeNow(change));
    this.changes = run.catch(() => undefined);
    return run;
  }

  /** `GET /admin/config`: the effective config and the overlay, secrets masked. */
  view() {
    const snapshot = this.state.current;
    return {
      ...this.status(),
      config_file: this.options.configPath ?? null,
      config: maskConfig(snapshot.config),
      overlay: this.describeOverlay(snapshot.info.overlay),
    };
  }

  /** The config line of `/health`. */
  status() {
    const { info, appliedAt } = this.state.current;
    return {
      source: info.source,
      version: info.version,
      applied_at: new Date(appliedAt).toISOString(),
      store: this.store.kind,
      error: this.lastFault ?? null,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pollTimer);
    this.subscriber?.disconnect();
    await this.state.close();
  }

  private describeOverlay(overlay: Overlay): Record<Section, Record<string, unknown>> {
    const out = { models: {}, services: {}, providers: {} } as Record<Section, Record<string, unknown>>;
    for (const [field, entry] of overlay) {
      const parsed = parseOverlayField(field);
      if (parsed) out[parsed.section][parsed.name] = entry === null ? null : maskEntry(parsed.section, entry);
    }
    return out;
  }

  private get source(): ConfigSource {
    return this.store.kind === 'redis' ? 'redis' : 'local';
  }

  /** The validated config for `overlay` on top of the file; throws ConfigError with every fault. */
  private configFor(overlay: Overlay): GatewayConfig {
    if (overlay.size === 0) return this.options.seed;
    // Entries stored before the allow-list, or written to Redis directly, are held to it too.
    const refused = [...overlay].flatMap(([field, entry]) => refusedReferences(entry, this.allowsEnv, `/${field}`));
    if (refused.length > 0) throw new ConfigError(describeRefused(refused, this.options.seed.auth.config_env));
    return this.check(applyOverlay(this.options.seed as unknown as Record<string, unknown>, overlay));
  }

  private check(raw: Record<string, unknown>): GatewayConfig {
    const config = parseConfig(raw, this.env);
    const faults = checkServices(config);
    if (faults.length > 0) throw new ConfigError(faults);
    return config;
  }

  /** Builds and swaps in the snapshot for `stored`; on a fault keeps the running one. */
  private apply(stored: StoredOverlay, source: ConfigSource): boolean {
    const { log } = this.options;
    const startedAt = performance.now();
    let next: ConfigSnapshot;
    try {
      const config = this.configFor(stored.overlay);
      const effective: ConfigSource = stored.overlay.size === 0 && source !== 'redis' ? 'file' : source;
      next = buildSnapshot(config, this.state.current, { version: stored.version, source: effective, overlay: stored.overlay }, this.parts);
    } catch (err) {
      const faults = err instanceof ConfigError ? err.faults : [(err as Error).message];
      this.lastFault = { version: stored.version, faults, at: new Date().toISOString() };
      log.error({ version: stored.version, faults }, 'the stored config cannot be applied on this instance; keeping the running config');
      return false;
    }
    this.state.swap(next);
    this.lastFault = undefined;
    log.info({ version: stored.version, source, build_ms: Math.round((performance.now() - startedAt) * 10) / 10 }, 'config applied');
    if (source === 'redis' && this.cachePath) {
      writeOverlayCache(this.cachePath, stored).catch((err: Error) => log.warn({ err: err.message }, 'cannot write the local config cache'));
    }
    return true;
  }

  private async load(): Promise<void> {
    if (this.closed) return;
    let stored: StoredOverlay;
    try {
      stored = await this.store.read();
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'cannot read the config from Redis; keeping the running config');
      return;
    }
    if (this.closed) return;
    this.lastSeen = stored.version;
    const { info } = this.state.current;
    if (info.version === stored.version && (info.source === this.source || (stored.version === 0 && info.source === 'file'))) return;
    if (this.lastFault?.version === stored.version) return;
    this.apply(stored, this.source);
  }

  /** Pub/sub for changes at once, a version poll for missed messages, a reload after a reconnect. */
  private follow(redis: Redis): void {
    const { log } = this.options;
    const channel = this.store.channel!;
    const subscriber = redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', (err: Error) => log.debug({ err: err.message }, 'config subscriber connection error'));
    subscriber.on('message', (from: string) => {
      if (from === channel) void this.sync();
    });
    subscriber.on('ready', () => void this.sync());
    subscriber.subscribe(channel).catch((err: Error) => log.warn({ err: err.message }, 'cannot subscribe to config changes; relying on polling'));
    this.pollTimer = setInterval(() => this.poll(), this.options.pollMs ?? DEFAULT_POLL_MS);
    this.pollTimer.unref();
  }

  private poll(): void {
    if (this.polling || this.closed) return;
    this.polling = true;
    this.store
      .version()
      .then(
        (version) => (version !== this.lastSeen ? this.sync() : undefined),
        () => undefined,
      )
      .finally(() => {
        this.polling = false;
      });
  }

  private async changeNow({ section, name, entry, persist }: ConfigChange): Promise<ChangeOutcome> {
    const { configPath } = this.options;
    if (persist && this.store.kind === 'redis') {
      throw new GatewayError('invalid_request', 'persist=true writes the file of a gateway without Redis; this one stores changes in Redis', { param: 'persist' });
    }
    if (persist && !configPath) {
      throw new GatewayError('invalid_request', 'this gateway does not know its config file, so it cannot write the change back', { param: 'persist' });
    }
    const field = overlayField(section, name);
    const refused = refusedReferences(entry, this.allowsEnv, `/${field}`);
    if (refused.length > 0) throw invalidChange(describeRefused(refused, this.options.seed.auth.config_env));
    for (let attempt = 0; attempt < MAX_COMMIT_TRIES; attempt++) {
      let stored: StoredOverlay;
      try {
        stored = await this.store.read();
      } catch (err) {
        throw storeDown(err);
      }
      const before = this.entryBefore(stored.overlay, section, name);
      if (entry === null && before === undefined) throw new GatewayError('not_found', `there is no ${SINGULAR[section]} '${name}'`);
      const raw = applyOverlay(this.options.seed as unknown as Record<string, unknown>, new Map(stored.overlay).set(field, entry));
      if (entry === null) refuseIfReferred(raw, section, name);
      let config: GatewayConfig;
      try {
        config = this.check(raw);
      } catch (err) {
        if (err instanceof ConfigError) throw invalidChange(faultsByName(err.faults, raw));
        throw err;
      }
      if (persist) {
        try {
          await persistChange(configPath!, section, name, entry);
        } catch (err) {
          throw new GatewayError('internal_error', `cannot write the change to ${configPath}`, { cause: err });
        }
      }
      let version: number | undefined;
      try {
        version = await this.store.commit(stored.version, field, entry);
      } catch (err) {
        throw storeDown(err);
      }
      if (version === undefined) continue;
      await this.store.announce(version);
      // Applied here before the answer, so the caller's next request sees it on this instance.
      await this.sync();
      const after = entryOf(config as unknown as Record<string, unknown>, section, name);
      return {
        version,
        before: before === undefined ? null : maskEntry(section, before),
        after: after === undefined ? null : maskEntry(section, after),
        persisted: persist,
      };
    }
    throw new GatewayError('service_unavailable', 'the config keeps changing under this request; try again', { retryAfter: 1 });
  }

  /** The entry as the config for `overlay` has it (raw when that config does not validate here). */
  private entryBefore(overlay: Overlay, section: Section, name: string): Record<string, unknown> | undefined {
    const current = this.state.current;
    if (current.info.overlay === overlay) return entryOf(current.config as unknown as Record<string, unknown>, section, name);
    try {
      return entryOf(this.configFor(overlay) as unknown as Record<string, unknown>, section, name);
    } catch {
      return entryOf(applyOverlay(this.options.seed as unknown as Record<string, unknown>, overlay), section, name);
    }
  }
}
