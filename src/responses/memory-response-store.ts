/**
 * Stored responses in process memory (no Redis): bounded by bytes, least recently used first out,
 * each record expiring after its TTL by the injected clock.
 */
import type { ResponseStore } from './response-store.js';

interface Entry {
  owner: string;
  json: string;
  bytes: number;
  /** Epoch ms. */
  expiresAt: number;
}

export class MemoryResponseStore implements ResponseStore {
  readonly kind = 'memory';
  /** A Map iterates in insertion order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  async put(id: string, owner: string, json: string, ttlMs: number): Promise<void> {
    this.remove(id);
    const bytes = Buffer.byteLength(json) + id.length + owner.length;
    if (bytes > this.maxBytes) return;
    this.entries.set(id, { owner, json, bytes, expiresAt: this.now() + ttlMs });
    this.bytes += bytes;
    while (this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.remove(oldest.value);
    }
  }

  async get(id: string): Promise<{ owner: string; json: string } | undefined> {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    if (entry.expiresAt <= this.now()) {
      this.bytes -= entry.bytes;
      return undefined;
    }
    // Re-inserted at the end: most recently used.
    this.entries.set(id, entry);
    return { owner: entry.owner, json: entry.json };
  }

  async delete(id: string, owner: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (!entry || entry.owner !== owner || entry.expiresAt <= this.now()) return false;
    this.remove(id);
    return true;
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
  }

  private remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.bytes -= entry.bytes;
  }
}
