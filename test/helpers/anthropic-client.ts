/** The official Anthropic SDK pointed at a test gateway, as Claude Code points at ANTHROPIC_BASE_URL. */
import Anthropic from '@anthropic-ai/sdk';

/** No SDK retries, so attempt counts and scripted upstream answers stay exact. */
export function anthropicClient(url: string, apiKey = 'sk-any-client-key'): Anthropic {
  return new Anthropic({ baseURL: url, apiKey, maxRetries: 0, timeout: 15_000 });
}
