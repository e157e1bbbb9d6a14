/**
 * `store:`: where shared state lives: one Redis node (`redis_url`), a Sentinel set, or a
 * Cluster; none of them: process memory.
 */
import { Type } from '@sinclair/typebox';
import { closed } from './schema-builders.js';

export const redisNodeSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'Host name or address.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'TCP port.' }),
  },
  closed,
);

export const storeSchema = Type.Object(
  {
    redis_url: Type.String({
      default: '',
      description: `\`redis://[user:password@]host:port[/db]\` (\`rediss://\` for TLS); with Sentinel or Cluster only its
        credentials, db and TLS are used. Empty, with no sentinels or cluster nodes: process memory.`,
    }),
    key_prefix: Type.String({ default: 'konnect:', description: 'Start of every Redis key the gateway writes; instances with the same prefix on one Redis share their state.' }),
    sentinels: Type.Optional(Type.Array(redisNodeSchema, { description: 'Redis Sentinel addresses; set `sentinel_name` with them.' })),
    sentinel_name: Type.Optional(Type.String({ minLength: 1, description: "The master's name as the sentinels know it." })),
    sentinel_password: Type.Optional(
      Type.String({ description: "Password of the sentinels themselves (the master's comes from `redis_url`)." }),
    ),
    cluster_nodes: Type.Optional(Type.Array(redisNodeSchema, { description: 'Redis Cluster seed nodes; not with `sentinels`.' })),
  },
  {
    ...closed,
    default: {},
    description: 'Where shared state (keys, counters, the ledger, health) lives: one Redis node, a Sentinel set or a Cluster; none of them: process memory ([cluster.md](cluster.md)).',
  },
);
