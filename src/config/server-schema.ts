/** `server:`, `auth:` and `prompts:`: how the gateway listens, who may call it, where prompt files are. */
import { Type } from '@sinclair/typebox';
import { closed, StringEnum } from './schema-builders.js';

export const serverSchema = Type.Object(
  {
    host: Type.String({
      default: '127.0.0.1',
      description: `The address to listen on. Loopback unless set, so a gateway that spends provider
        keys is not exposed by accident; \`0.0.0.0\` serves others ([security.md](security.md)).`,
    }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8787, description: '`PORT` in the environment overrides it.' }),
    body_limit_mb: Type.Number({ exclusiveMinimum: 0, default: 10, description: 'Request body limit, MB.' }),
    shutdown_grace_ms: Type.Integer({
      minimum: 0,
      default: 10000,
      description: 'How long SIGTERM waits for in-flight requests and streams, ms.',
    }),
    // A reader that never drains would otherwise hold the stream and its upstream connection forever.
    write_idle_ms: Type.Integer({
      minimum: 1,
      default: 30000,
      description: `How long a response may sit with bytes waiting for a client that stopped reading
        before the connection is cut, ms. AI streams use their model group's \`timeout_ms\` where it
        is known, service routes their service's \`timeout_ms\`; this is the fallback (cached replays).`,
    }),
    log_level: StringEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      default: 'info',
      description: 'Lowest level of the JSON log lines written to stdout.',
    }),
  },
  { ...closed, default: {}, description: 'How the gateway listens.' },
);

export const authSchema = Type.Object(
  {
    master_key: Type.String({
      default: '',
      description: `The admin secret, sent as a Bearer token or \`x-api-key\`: it guards \`/admin\`, and so the
        console at \`/ui\` that signs in with it. Empty: the admin API and the console are off (403).`,
    }),
    require_keys: Type.Boolean({
      default: false,
      description: `true: calls to \`/v1\`, \`/prompts\` and services need a gateway key (\`POST /admin/keys\`); false:
        calls without a key, or with one the gateway does not know, are served anonymously.`,
    }),
    budget_alert_webhook: Type.String({
      default: '',
      pattern: '^(https?://.*)?$',
      description: 'URL that receives budget alerts (80% and 100%) as a JSON POST; empty: log line only.',
    }),
    config_env: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_*?]+$' }), {
      default: ['OPENAI_*', 'ANTHROPIC_*', 'GEMINI_*', '*_API_KEY'],
      description: `Environment variables a config change made through the admin API may name as \`\${VAR}\`:
        glob patterns (\`*\`, \`?\`). GATEWAY_MASTER_KEY is never resolved there, whatever matches.
        The config file's own \`\${VAR}\`s are not limited.`,
    }),
  },
  { ...closed, default: {}, description: 'Who may call the gateway and its admin API ([access-control.md](access-control.md)).' },
);

export const promptsSchema = Type.Object(
  {
    dir: Type.String({ default: 'prompts', description: 'Directory of prompt files (`*.yaml`, `*.yml`), watched for changes.' }),
  },
  { ...closed, default: {}, description: 'Prompt templates served as REST routes ([prompt-apis.md](prompt-apis.md)).' },
);
