/**
 * The embedded cache store: an LRU per namespace, bounded by entry count (the namespace's
 * `max_entries`) and by bytes, with a TTL checked on read.
 */
import { MAX_ENTRY_BYTES, type CacheStore, type EntryLimits } from './cache-store.js';

/** Byte bound of one namespace, so a namespace of large answers cannot take the process down. */
const MAX_NAMESPACE_BYTES = 64 * 1024 * 1024;

interface Entry {
  value: string;
  bytes: number;
  /** Epoch ms. */
  expiresAt: number;
}

/** One namespace's entries; a Map iterates in insertion order, so the first entry is the least recently used. */
class Space {
  readonly entries = new Map<string, Entry>();
  bytes = 0;

  delete(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  evictOldest(): void {
    const oldest = this.entries.entries().next().value;
    if (oldest) this.delete(oldest[0], oldest[1]);
  }
}

export class MemoryCacheStore implements CacheStore {
  readonly kind = 'memory';
  private readonly spaces = new Map<string, Space>();

  constructor(private readonly now: () => number = Date.now) {}

  async get(namespace: string, key: string): Promise<string | undefined> {
    const space = this.spaces.get(namespace);
    const entry = space?.entries.get(key);
    if (!space || !entry) return undefined;
    space.delete(key, entry);
    if (entry.expiresAt <= this.now()) return undefined;
    // Re-inserted at the end: most recently used.
    space.entries.set(key, entry);
    space.bytes += entry.bytes;
    return entry.value;
  }

  async set(namespace: string, key: string, value: string, limits: EntryLimits): Promise<void> {
    const bytes = Buffer.byteLength(value);
    if (bytes > MAX_ENTRY_BYTES) return;
    let space = this.spaces.get(namespace);
    if (!space) {
      space = new Space();
      this.spaces.set(namespace, space);
    }
    const old = space.entries.get(key);
    if (old) space.delete(key, old);
    space.entries.set(key, { value, bytes, expiresAt: this.now() + limits.ttlMs });
    space.bytes += bytes;
    while (space.entries.size > limits.maxEntries || space.bytes > MAX_NAMESPACE_BYTES) space.evictOldest();
  }

  async close(): Promise<void> {
    this.spaces.clear();
  }
}
