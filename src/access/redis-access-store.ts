import type { Redis } from 'ioredis';
import { approvalMember, AUDIT_CAPACITY, type AccessStore } from './access-store.js';
import type { AuditEntry, KeyRecord, Subscription, TeamRecord } from './types.js';

/**
 * Compare-and-set of one record. Versions live apart from the JSON, in one hash, and survive a
 * delete as a tombstone: a team deleted and created again gets a higher version, so no
 * instance can mistake its cached copy of the old team for the new one.
 * KEYS: records hash, versions hash. ARGV: id, version field, expected version ('' = must not
 * exist), JSON ('' = delete). Answers the new version, or -1 when the expectation failed.
 */
const PUT_RECORD = `
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
local current = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
if ARGV[3] == '' then
  if exists then return -1 end
elseif (not exists) or current ~= tonumber(ARGV[3]) then
  return -1
end
if ARGV[4] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[4]) end
redis.call('HSET', KEYS[2], ARGV[2], current + 1)
return current + 1
`;

type Versioned = { version: number };

/** The JSON kept in Redis: the record without its version, which lives in the versions hash. */
function toJson<T extends Versioned>(record: T): string {
  const { version: _version, ...rest } = record;
  return JSON.stringify(rest);
}

function fromJson<T extends Versioned>(json: string | null | undefined, version: string | null | undefined): T | undefined {
  if (!json) return undefined;
  return { ...(JSON.parse(json) as Omit<T, 'version'>), version: Number(version ?? 0) } as T;
}

/** Version fields of the shared versions hash; the admission script reads the same fields. */
export const teamVersionField = (id: string): string => `t:${id}`;
export const keyVersionField = (id: string): string => `k:${id}`;

/** Keys of the access layer under the configured prefix. */
export function accessKeys(prefix: string) {
  const base = `${prefix}access:`;
  return {
    teams: `${base}teams`,
    keys: `${base}keys`,
    keyHash: `${base}key_hash`,
    versions: `${base}ver`,
    subs: `${base}subs`,
    subIds: `${base}sub_ids`,
    approved: `${base}approved`,
    audit: `${base}audit`,
  };
}

/** Records in Redis hashes under `<prefix>access:`, shared by every instance. */
export function createRedisAccessStore(redis: Redis, prefix: string): AccessStore {
  const k = accessKeys(prefix);

  async function put(hash: string, id: string, field: string, expected: number | null, json: string): Promise<number> {
    const answer = await redis.eval(PUT_RECORD, 2, hash, k.versions, id, field, expected === null ? '' : String(expected), json);
    return Number(answer);
  }

  async function getRecord<T extends Versioned>(hash: string, id: string, field: string): Promise<T | undefined> {
    const [json, version] = await redis.pipeline().hget(hash, id).hget(k.versions, field).exec().then(results);
    return fromJson<T>(json, version);
  }

  async function listRecords<T extends Versioned>(hash: string, field: (id: string) => string): Promise<T[]> {
    const [all, versions] = (await redis.pipeline().hgetall(hash).hgetall(k.versions).exec().then(results)) as unknown as [
      Record<string, string>,
      Record<string, string>,
    ];
    return Object.entries(all).map(([id, json]) => fromJson<T>(json, versions[field(id)])!);
  }

  async function getSubscription(id: string): Promise<Subscription | undefined> {
    const json = await redis.hget(k.subs, id);
    return json === null ? undefined : (JSON.parse(json) as Subscription);
  }

  return {
    shared: true,
    async createTeam(team) {
      const version = await put(k.teams, team.id, teamVersionField(team.id), null, toJson(team));
      return version < 0 ? undefined : { ...team, version };
    },
    getTeam: (id) => getRecord<TeamRecord>(k.teams, id, teamVersionField(id)),
    listTeams: () => listRecords<TeamRecord>(k.teams, teamVersionField),
    async replaceTeam(next) {
      return (await put(k.teams, next.id, teamVersionField(next.id), next.version - 1, toJson(next))) === next.version;
    },
    async deleteTeam(id, version) {
      return (await put(k.teams, id, teamVersionField(id), version, '')) > 0;
    },
    async createKey(key) {
      // The hash index first: a key found by hash but not yet by id reads as unknown, never half-made.
      await redis.hset(k.keyHash, key.hash, key.id);
      const version = await put(k.keys, key.id, keyVersionField(key.id), null, toJson(key));
      if (version < 0) throw new Error(`key id ${key.id} already exists`);
      return { ...key, version };
    },
    getKey: (id) => getRecord<KeyRecord>(k.keys, id, keyVersionField(id)),
    async findKeyByHash(hash) {
      const id = await redis.hget(k.keyHash, hash);
      return id === null ? undefined : getRecord<KeyRecord>(k.keys, id, keyVersionField(id));
    },
    listKeys: () => listRecords<KeyRecord>(k.keys, keyVersionField),
    async replaceKey(next) {
      return (await put(k.keys, next.id, keyVersionField(next.id), next.version - 1, toJson(next))) === next.version;
    },
    async putSubscription(sub) {
      const member = approvalMember(sub.team, sub.kind, sub.name);
      const tx = redis.multi().hset(k.subs, sub.id, JSON.stringify(sub)).hset(k.subIds, member, sub.id);
      if (sub.status === 'approved') tx.sadd(k.approved, member);
      else tx.srem(k.approved, member);
      await tx.exec().then(results);
    },
    getSubscription,
    async findSubscription(team, kind, name) {
      const id = await redis.hget(k.subIds, approvalMember(team, kind, name));
      return id === null ? undefined : getSubscription(id);
    },
    async listSubscriptions() {
      return Object.values(await redis.hgetall(k.subs)).map((json) => JSON.parse(json) as Subscription);
    },
    async isApproved(team, kind, name) {
      return (await redis.sismember(k.approved, approvalMember(team, kind, name))) === 1;
    },
    async appendAudit(entry: AuditEntry) {
      await redis.multi().lpush(k.audit, JSON.stringify(entry)).ltrim(k.audit, 0, AUDIT_CAPACITY - 1).exec().then(results);
    },
    async listAudit(limit) {
      return (await redis.lrange(k.audit, 0, limit - 1)).map((json) => JSON.parse(json) as AuditEntry);
    },
  };
}

/** The values of a pipeline/multi, throwing its first error. */
function results(replies: Array<[Error | null, unknown]> | null): Array<string | null> {
  if (!replies) throw new Error('redis transaction aborted');
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value as string | null;
  });
}
