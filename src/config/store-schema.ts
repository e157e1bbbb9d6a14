/**
 * `store:`: where shared state lives: one Redis node (`redis_url`), a Sentinel set, or a
 * Cluster; none of them: process memory.
 */
import { Type } from '@sinclair/typebox';
import { closed } from './schema-builders.js';

export const redisNodeSchema = Type.Object(
  {
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
  },
  closed,
);

export const storeSchema = Type.Object(
  {
    /** `redis://[user:password@]host:port[/db]` (`rediss://` for TLS); with Sentinel or Cluster only its credentials, db and TLS are used. */
    redis_url: Type.String({ default: '' }),
    key_prefix: Type.String({ default: 'konnect:' }),
    sentinels: Type.Optional(Type.Array(redisNodeSchema)),
    /** The master's name as the sentinels know it. */
    sentinel_name: Type.Optional(Type.String({ minLength: 1 })),
    /** Password of the sentinels themselves (the master's comes from `redis_url`). */
    sentinel_password: Type.Optional(Type.String()),
    cluster_nodes: Type.Optional(Type.Array(redisNodeSchema)),
  },
  { ...closed, default: {} },
);
