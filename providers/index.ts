import type { ProviderAdapter } from '../src/core/adapter.js';
import type { ProviderConfig, ProviderConfigOf } from '../src/config/types.js';
import { assertNever } from '../src/core/types.js';
import { createAnthropicAdapter } from './anthropic/index.js';
import { createGeminiAdapter } from './gemini/index.js';
import { createMockAdapter } from './mock.js';
import { createOpenAIAdapter } from './openai.js';

/** Providers that cannot work without an API key; without one their deployments are left out. */
export function needsApiKey(config: ProviderConfig): config is ProviderConfigOf<'openai' | 'anthropic' | 'gemini'> {
  return config.type === 'openai' || config.type === 'anthropic' || config.type === 'gemini';
}

/** One registry line per provider kind. */
export function createAdapter(name: string, config: ProviderConfig): ProviderAdapter {
  // Switching on the destructured tag narrows `config` in each case and leaves `type` for assertNever.
  const { type } = config;
  switch (type) {
    case 'openai':
      return createOpenAIAdapter(name, config, 'openai');
    case 'openai-compatible':
      return createOpenAIAdapter(name, config, 'openai-compatible');
    case 'anthropic':
      return createAnthropicAdapter(name, config);
    case 'gemini':
      return createGeminiAdapter(name, config);
    case 'mock':
      return createMockAdapter(name, config);
    default:
      return assertNever(type);
  }
}
