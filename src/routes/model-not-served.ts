/**
 * The error for a model name that does not resolve. A name the config does not know is a 404;
 * a configured model whose deployments are all switched off (their providers have no API key)
 * is a 503 that says which variable to set, so a newcomer is not told that a model in their
 * config file "does not exist".
 */
import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../core/errors.js';
import type { ModelRegistry } from '../pipeline/model-registry.js';

/** Why `name` cannot be used: "provider 'openai' has no API key (set OPENAI_API_KEY)", or undefined when the config does not know it. */
export async function missingKeysOf(request: FastifyRequest, registry: ModelRegistry, name: string): Promise<string | undefined> {
  const providers = registry.keylessProvidersOf(name);
  if (!providers) return undefined;
  const { control } = request.server.gateway;
  return control.missingKeys.describe(control.current, providers);
}

/** 503 `model_unavailable` for a configured but switched-off model, else 404 `model_not_found`. */
export async function modelNotServed(request: FastifyRequest, registry: ModelRegistry, name: string): Promise<GatewayError> {
  const missing = await missingKeysOf(request, registry, name);
  if (missing) {
    return new GatewayError('model_unavailable', `The model '${name}' is configured but none of its deployments can be used: ${missing}`, { param: 'model' });
  }
  return new GatewayError('model_not_found', `The model '${name}' does not exist or is not configured on this gateway`, { param: 'model' });
}
