/**
 * Stored responses in Redis, shared by every instance: one hash per response,
 * `<prefix>responses:<id>` with fields `owner` and `body`, expiring with the record's TTL. Writes
 * are one MULTI; a delete checks the owner and deletes in one script.
 */
import type { Redis } from 'ioredis';
import type { ResponseStore } from './response-store.js';

// KEYS: the record. ARGV: the owner asking.
const DELETE_OWNED = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class RedisResponseStore implements ResponseStore {
  readonly kind = 'redis';

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(id: string): string {
    return `${this.prefix}responses:${id}`;
  }

  async put(id: string, owner: string, json: string, ttlMs: number): Promise<void> {
    const key = this.key(id);
    const results = await this.redis.multi().hset(key, 'owner', owner, 'body', json).pexpire(key, Math.round(ttlMs)).exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('redis: the stored response was not written');
  }

  async get(id: string): Promise<{ owner: string; json: string } | undefined> {
    const [owner, json] = await this.redis.hmget(this.key(id), 'owner', 'body');
    return owner != null && json != null ? { owner, json } : undefined;
  }

  async delete(id: string, owner: string): Promise<boolean> {
    return Number(await this.redis.eval(DELETE_OWNED, 1, this.key(id), owner)) === 1;
  }

  async close(): Promise<void> {
    // The connection is the app's; it closes it.
  }
}
