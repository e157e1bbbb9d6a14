/** `ledger:`: how usage records are batched, buffered and kept (docs/architecture.md, "6. The ledger"). */
import { Type } from '@sinclair/typebox';
import { closed } from './schema-builders.js';

export const ledgerSchema = Type.Object(
  {
    /** Records per store write. */
    batch_size: Type.Integer({ minimum: 1, maximum: 5000, default: 200 }),
    /** How often a partial batch is written, ms. */
    flush_interval_ms: Type.Integer({ minimum: 10, default: 250 }),
    /** Records held in memory while Redis is down; more go to the spool directory. */
    buffer_max: Type.Integer({ minimum: 1, default: 50000 }),
    /** A store write slower than this is retried (idempotently), ms. */
    write_timeout_ms: Type.Integer({ minimum: 100, default: 5000 }),
    /** Where unwritten records are saved at shutdown and replayed at the next start. */
    spool_dir: Type.String({ minLength: 1, default: '.ledger-spool' }),
    /** Request log length; default 100,000 in Redis (approximate), 10,000 in process memory. */
    log_max_records: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Request log entries older than this are trimmed, days; 0: only the length cap. */
    log_retention_days: Type.Number({ minimum: 0, default: 30 }),
    /** Hourly usage aggregates expire after this many days; 0: kept forever. */
    usage_retention_days: Type.Number({ minimum: 0, default: 400 }),
    /** How long a written batch id is remembered against double counting, s. */
    dedupe_ttl_s: Type.Integer({ minimum: 60, default: 604800 }),
  },
  { ...closed, default: {} },
);
