/**
 * Turns tracing on at start-up when the config or the environment asks for it
 * (./telemetry-settings.ts). The OpenTelemetry SDK is imported here, lazily, and only then: a
 * gateway that does not trace loads none of it.
 */
import type { GatewayConfig, ProviderConfig } from '../config/types.js';
import type { CallTracer } from '../pipeline/call-trace.js';
import type { HostOf } from './otel-tracer.js';
import { telemetrySettings, type TelemetrySettings } from './telemetry-settings.js';

/** The adapters' hosts when a provider sets no `base_url`. */
const DEFAULT_HOSTS: Partial<Record<ProviderConfig['type'], string>> = {
  openai: 'api.openai.com',
  anthropic: 'api.anthropic.com',
  gemini: 'generativelanguage.googleapis.com',
};

type Host = { address: string; port?: number } | undefined;

/**
 * `server.address` of a provider from the current config (it may change at run time), parsed
 * once per base URL.
 */
function hostsFrom(providers: () => GatewayConfig['providers']): HostOf {
  const parsed = new Map<string, Host>();
  return (deployment) => {
    const config = providers()[deployment.provider];
    if (!config) return undefined;
    const base = 'base_url' in config ? config.base_url : undefined;
    if (!base) {
      const address = DEFAULT_HOSTS[config.type];
      return address ? { address } : undefined;
    }
    if (!parsed.has(base)) parsed.set(base, parseHost(base));
    return parsed.get(base);
  };
}

function parseHost(base: string): Host {
  try {
    const url = new URL(base);
    return url.port ? { address: url.hostname, port: Number(url.port) } : { address: url.hostname };
  } catch {
    return undefined;
  }
}

/** The tracer, or undefined when tracing is off. */
export async function startTracing(config: GatewayConfig, env: NodeJS.ProcessEnv, providers: () => GatewayConfig['providers']): Promise<{ tracer: CallTracer; settings: TelemetrySettings } | undefined> {
  const settings = telemetrySettings(config.telemetry, env);
  if (!settings) return undefined;
  const { createOtelTracer } = await import('./otel-tracer.js');
  return { tracer: createOtelTracer(settings, hostsFrom(providers)), settings };
}
