/**
 * Where the overlay lives: Redis (shared by every instance, with a version counter and a
 * pub/sub channel) or this process (no Redis: changes reach this instance only).
 */
import type { Redis } from 'ioredis';
import type { Overlay, OverlayEntry } from './overlay.js';

/** The overlay as stored, with the version that names it. */
export interface StoredOverlay {
  /** Bumped by every change; 0 before the first. */
  version: number;
  overlay: Overlay;
}

export interface ConfigStore {
  readonly kind: 'redis' | 'memory';
  read(): Promise<StoredOverlay>;
  version(): Promise<number>;
  /** Writes one entry if the stored version is still `expected`: the new version, or undefined when another change came first. */
  commit(expected: number, field: string, entry: OverlayEntry): Promise<number | undefined>;
  /** Tells the other instances that `version` is out (best effort: they also poll). */
  announce(version: number): Promise<void>;
}

export function createMemoryConfigStore(): ConfigStore {
  let version = 0;
  let overlay = new Map<string, OverlayEntry>();
  return {
    kind: 'memory',
    read: async () => ({ version, overlay }),
    version: async () => version,
    async commit(expected, field, entry) {
      if (expected !== version) return undefined;
      overlay = new Map(overlay).set(field, entry);
      return ++version;
    },
    announce: async () => undefined,
  };
}

// Compare-and-set: the entry is written and the version bumped only if nobody changed it since it was read.
const COMMIT = `
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if current ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return redis.call('INCR', KEYS[2])
`;

/** Keys of the control plane under the prefix; the hash tag keeps the script's keys in one Cluster slot. */
export function configKeys(prefix: string) {
  return {
    overlay: `${prefix}{config}:overlay`,
    version: `${prefix}{config}:version`,
    channel: `${prefix}config:changed`,
  };
}

function parseEntry(field: string, text: string): OverlayEntry {
  const value: unknown = JSON.parse(text);
  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) throw new Error(`stored config entry ${field} is not an object`);
  return value as OverlayEntry;
}

export function createRedisConfigStore(redis: Redis, prefix: string): ConfigStore & { channel: string } {
  const keys = configKeys(prefix);
  return {
    kind: 'redis',
    channel: keys.channel,
    async read() {
      // One transaction: the version and the entries it names, never a mix of two versions.
      const results = await redis.multi().get(keys.version).hgetall(keys.overlay).exec();
      if (!results) throw new Error('config read was aborted');
      for (const [err] of results) if (err) throw err;
      const version = Number(results[0]![1] ?? 0);
      const fields = results[1]![1] as Record<string, string>;
      const overlay = new Map<string, OverlayEntry>();
      for (const field of Object.keys(fields).sort()) overlay.set(field, parseEntry(field, fields[field]!));
      return { version, overlay };
    },
    async version() {
      return Number((await redis.get(keys.version)) ?? 0);
    },
    async commit(expected, field, entry) {
      const result = Number(await redis.eval(COMMIT, 2, keys.overlay, keys.version, String(expected), field, JSON.stringify(entry)));
      return result < 0 ? undefined : result;
    },
    async announce(version) {
      await redis.publish(keys.channel, String(version)).catch(() => undefined);
    },
  };
}
