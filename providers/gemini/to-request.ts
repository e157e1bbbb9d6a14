/** The canonical (OpenAI-shaped) request → a Gemini `GenerateContentRequest`. */
import type { ChatRequest } from '../../src/core/types.js';
import { instructionTexts } from '../shared/message-text.js';
import { toGeminiSchema } from './convert-json-schema-to-openapi-schema.js';
import { toGeminiContents } from './convert-messages.js';
import { prepareGeminiTools } from './prepare-tools.js';
import type { GeminiGenerationConfig, GeminiRequest } from './wire-types.js';

function toGenerationConfig(req: ChatRequest): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {};
  if (req.temperature !== undefined) config.temperature = req.temperature;
  if (req.top_p !== undefined) config.topP = req.top_p;
  if (req.top_k !== undefined) config.topK = req.top_k;
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  if (maxTokens !== undefined) config.maxOutputTokens = maxTokens;
  if (req.stop !== undefined) config.stopSequences = typeof req.stop === 'string' ? [req.stop] : req.stop;
  if (req.n !== undefined) config.candidateCount = req.n;
  if (req.presence_penalty !== undefined) config.presencePenalty = req.presence_penalty;
  if (req.frequency_penalty !== undefined) config.frequencyPenalty = req.frequency_penalty;
  if (req.seed !== undefined) config.seed = req.seed;
  const format = req.response_format;
  if (format?.type === 'json_object' || format?.type === 'json_schema') config.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    const schema = toGeminiSchema(format.json_schema.schema);
    if (schema) config.responseSchema = schema;
  }
  return config;
}

/**
 * The canonical request as a Gemini `GenerateContentRequest`. What has no Gemini field
 * (`user`, `parallel_tool_calls: false`…) is dropped and reported by `geminiWarnings`.
 */
export function toGeminiRequest(req: ChatRequest): GeminiRequest {
  const body: GeminiRequest = { contents: toGeminiContents(req.messages), generationConfig: toGenerationConfig(req) };
  const system = instructionTexts(req.messages).map((text) => ({ text }));
  if (system.length > 0) body.systemInstruction = { parts: system };
  return Object.assign(body, prepareGeminiTools(req));
}
