/**
 * `telemetry:`: OpenTelemetry traces of AI calls (docs/telemetry.md). Absent `enabled` defers
 * to the standard OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT variables, so operators who already set
 * them for every service get traces without a config change and can still switch them off here.
 */
import { Type } from '@sinclair/typebox';
import { closed, StringMap } from './schema-builders.js';

export const telemetrySchema = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({
        description:
          'true: export traces; false: never, whatever the environment says; absent: only when `endpoint` or `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set.',
      }),
    ),
    endpoint: Type.String({
      default: '',
      pattern: '^(https?://.*)?$',
      description: 'OTLP/HTTP traces URL (`http://collector:4318/v1/traces`); empty: the `OTEL_*` variables, else `http://localhost:4318/v1/traces`.',
    }),
    service_name: Type.String({ minLength: 1, default: 'konnect-gateway', description: '`service.name` of the exported spans; `OTEL_SERVICE_NAME` wins when set.' }),
    capture_content: Type.Boolean({
      default: false,
      description: 'Message text on the call span (`gen_ai.input.messages`, `gen_ai.output.messages`). Prompts and answers are user data: off unless the operator turns it on.',
    }),
    headers: StringMap(Type.String(), { default: {}, description: "Headers sent with every export (a collector's API key), added to `OTEL_EXPORTER_OTLP_HEADERS`." }),
  },
  {
    ...closed,
    default: {},
    description: 'OpenTelemetry traces of AI calls and their upstream attempts, exported over OTLP/HTTP ([telemetry.md](telemetry.md)).',
  },
);
