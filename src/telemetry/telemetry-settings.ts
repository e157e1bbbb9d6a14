/**
 * Whether the gateway traces, and where it sends the spans: the `telemetry:` section read
 * together with the standard OpenTelemetry variables, so an operator who already sets
 * OTEL_EXPORTER_OTLP_ENDPOINT for every service gets traces without touching the config.
 * No OpenTelemetry module is needed to decide this.
 */
import type { TelemetryConfig } from '../config/types.js';

export interface TelemetrySettings {
  /** OTLP/HTTP traces URL. */
  url: string;
  headers: Record<string, string>;
  serviceName: string;
  captureContent: boolean;
}

/** The OTLP/HTTP default, where a local collector listens. */
export const DEFAULT_TRACES_URL = 'http://localhost:4318/v1/traces';

/** The traces URL the OTEL_* variables name; the general endpoint takes the signal's path, as the spec says. */
function urlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/**
 * Null when tracing is off: `enabled: false`, OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none
 * switch it off; `enabled: true`, an `endpoint`, or an OTLP endpoint variable switch it on.
 */
export function telemetrySettings(config: TelemetryConfig, env: NodeJS.ProcessEnv): TelemetrySettings | null {
  if (config.enabled === false) return null;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return null;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') return null;
  const url = config.endpoint || urlFromEnv(env);
  if (config.enabled !== true && url === undefined) return null;
  return {
    url: url ?? DEFAULT_TRACES_URL,
    headers: { ...config.headers },
    serviceName: env.OTEL_SERVICE_NAME?.trim() || config.service_name,
    captureContent: config.capture_content,
  };
}
