/** `server:`, `auth:` and `prompts:`: how the gateway listens, who may call it, where prompt files are. */
import { Type } from '@sinclair/typebox';
import { closed, StringEnum } from './schema-builders.js';

export const serverSchema = Type.Object(
  {
    host: Type.String({ default: '0.0.0.0' }),
    /** `PORT` in the environment overrides it. */
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8787 }),
    /** Request body limit, MB. */
    body_limit_mb: Type.Number({ exclusiveMinimum: 0, default: 10 }),
    /** How long SIGTERM waits for in-flight requests and streams, ms. */
    shutdown_grace_ms: Type.Integer({ minimum: 0, default: 10000 }),
    log_level: StringEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  },
  { ...closed, default: {} },
);

export const authSchema = Type.Object(
  {
    master_key: Type.String({ default: '' }),
    require_keys: Type.Boolean({ default: false }),
    /** URL that receives budget alerts (80% and 100%) as a JSON POST; empty: log line only. */
    budget_alert_webhook: Type.String({ default: '', pattern: '^(https?://.*)?$' }),
  },
  { ...closed, default: {} },
);

export const promptsSchema = Type.Object(
  {
    /** Directory of prompt files (`*.yaml`, `*.yml`), watched for changes. */
    dir: Type.String({ default: 'prompts' }),
  },
  { ...closed, default: {} },
);
