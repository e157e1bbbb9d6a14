/** `server:`, `auth:` and `prompts:`: how the gateway listens, who may call it, where prompt files are. */
import { Type } from '@sinclair/typebox';
import { closed, StringEnum } from './schema-builders.js';

export const serverSchema = Type.Object(
  {
    /** Loopback unless set: a gateway that spends provider keys is not exposed by accident. */
    host: Type.String({ default: '127.0.0.1' }),
    /** `PORT` in the environment overrides it. */
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8787 }),
    /** Request body limit, MB. */
    body_limit_mb: Type.Number({ exclusiveMinimum: 0, default: 10 }),
    /** How long SIGTERM waits for in-flight requests and streams, ms. */
    shutdown_grace_ms: Type.Integer({ minimum: 0, default: 10000 }),
    /**
     * How long a response may sit with bytes waiting for a client that stopped reading before
     * the connection is cut, ms. A reader that never drains would otherwise hold the stream and
     * its upstream connection forever. AI streams use their model group's `timeout_ms` where it
     * is known, service routes their service's `timeout_ms`; this is the fallback (cached replays).
     */
    write_idle_ms: Type.Integer({ minimum: 1, default: 30000 }),
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
    /**
     * Environment variables a config change made through the admin API may name as `${VAR}`:
     * glob patterns (`*`, `?`). GATEWAY_MASTER_KEY is never resolved there, whatever matches.
     * The config file's own `${VAR}`s are not limited.
     */
    config_env: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_*?]+$' }), { default: ['OPENAI_*', 'ANTHROPIC_*', 'GEMINI_*', '*_API_KEY'] }),
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
