/**
 * Prompts published through the admin API, shared by every instance on one Redis: a hash of
 * `<name>@<version>` → the prompt as JSON, a revision counter bumped in the same transaction,
 * and a pub/sub channel that tells the other instances to re-read. Instances also poll the
 * revision, so one that missed a message (reconnecting) still catches up.
 */
import type { Redis } from 'ioredis';
import type { PromptSpec } from './prompt-types.js';

/** One stored prompt as written: its `<name>@<version>` field and JSON text. */
export interface StoredPromptText {
  id: string;
  text: string;
}

// Deletes every `<name>@*` field and bumps the revision in one step, so no instance reads a half-done delete.
const DELETE_NAME = `
local n = 0
local prefix = ARGV[1] .. '@'
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, string.len(prefix)) == prefix then
    redis.call('HDEL', KEYS[1], field)
    n = n + 1
  end
end
if n > 0 then redis.call('INCR', KEYS[2]) end
return n
`;

export class RedisPromptStore {
  // The hash tag keeps both keys in one slot on Redis Cluster, as the script needs.
  private readonly hashKey: string;
  private readonly revisionKey: string;
  readonly channel: string;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
  ) {
    this.hashKey = `${keyPrefix}{prompts}`;
    this.revisionKey = `${keyPrefix}{prompts}:rev`;
    this.channel = `${keyPrefix}prompts:changed`;
  }

  async put(spec: PromptSpec): Promise<void> {
    const id = `${spec.name}@${spec.version}`;
    await this.redis.multi().hset(this.hashKey, id, JSON.stringify(spec)).incr(this.revisionKey).exec();
    await this.announce(id);
  }

  /** Removes one version, or every version when `version` is undefined; answers how many. */
  async remove(name: string, version?: number): Promise<number> {
    let removed: number;
    if (version === undefined) {
      removed = Number(await this.redis.eval(DELETE_NAME, 2, this.hashKey, this.revisionKey, name));
    } else {
      const result = await this.redis.multi().hdel(this.hashKey, `${name}@${version}`).incr(this.revisionKey).exec();
      removed = Number(result?.[0]?.[1] ?? 0);
    }
    if (removed > 0) await this.announce(name);
    return removed;
  }

  async readAll(): Promise<StoredPromptText[]> {
    const all = await this.redis.hgetall(this.hashKey);
    return Object.entries(all).map(([id, text]) => ({ id, text }));
  }

  /** The revision counter; changes whenever a prompt is stored or removed. */
  async revision(): Promise<string> {
    return (await this.redis.get(this.revisionKey)) ?? '0';
  }

  private async announce(id: string): Promise<void> {
    // Best effort: an instance that misses the message sees the revision change when it polls.
    await this.redis.publish(this.channel, id).catch(() => undefined);
  }
}
