/** The official Anthropic SDK pointed at a test gateway, as Claude Code points at ANTHROPIC_BASE_URL. */
import Anthropic from '@anthropic-ai/sdk';

/** No SDK retries, so attempt counts and scripted upstream answers stay exact. */
export function anthropicClient(url: string, apiKey = 'sk-any-client-key'): Anthropic {
  return new Anthropic({ baseURL: url, apiKey, maxRetries: 0, timeout: 15_000 });
}

/** The one tool the Messages suites offer. */
export const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/** The ledger record of the call whose message id is `id` (`msg_` + the call id without dashes). */
export function recordOfMessage<R extends { id: string }>(records: readonly R[], id: string): R | undefined {
  return records.find((record) => `msg_${record.id.replaceAll('-', '')}` === id);
}
