/** `ledger:`: how usage records are batched, buffered and kept (docs/architecture.md, "6. The ledger"). */
import { Type } from '@sinclair/typebox';
import { closed } from './schema-builders.js';

export const ledgerSchema = Type.Object(
  {
    batch_size: Type.Integer({ minimum: 1, maximum: 5000, default: 200, description: 'Records per store write.' }),
    flush_interval_ms: Type.Integer({ minimum: 10, default: 250, description: 'How often a partial batch is written, ms.' }),
    buffer_max: Type.Integer({
      minimum: 1,
      default: 50000,
      description: 'Records held in memory while Redis is down; more go to the spool directory.',
    }),
    write_timeout_ms: Type.Integer({
      minimum: 100,
      default: 5000,
      description: 'A store write slower than this is retried (idempotently), ms.',
    }),
    spool_dir: Type.String({
      minLength: 1,
      default: '.ledger-spool',
      description: 'Where unwritten records are saved at shutdown and replayed at the next start.',
    }),
    log_max_records: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Request log length; default 100,000 in Redis (approximate), 10,000 in process memory.' }),
    ),
    log_retention_days: Type.Number({
      minimum: 0,
      default: 30,
      description: 'Request log entries older than this are trimmed, days; 0: only the length cap.',
    }),
    usage_retention_days: Type.Number({
      minimum: 0,
      default: 400,
      description: 'Hourly usage aggregates expire after this many days; 0: kept forever.',
    }),
    tags_per_hour: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 100,
      description: 'Distinct tags the usage aggregates keep per hour; calls with further tags are counted under `(other)` that hour.',
    }),
    dedupe_ttl_s: Type.Integer({
      minimum: 60,
      default: 604800,
      description: 'How long a written batch id is remembered against double counting, s.',
    }),
  },
  {
    ...closed,
    default: {},
    description: 'How usage records are batched, buffered and kept ([cost-reports.md](cost-reports.md), [architecture.md](architecture.md), "6. The ledger").',
  },
);
