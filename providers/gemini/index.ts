/**
 * Google Gemini. Read in this order: wire-types → convert-messages (guess-mime-type),
 * convert-json-schema-to-openapi-schema, prepare-tools → to-request → from-response →
 * map-finish-reason → map-stream → errors → warnings → model-path → adapter.
 */
export type {
  GeminiCandidate,
  GeminiContent,
  GeminiEmbedContentRequest,
  GeminiErrorBody,
  GeminiFunctionDeclaration,
  GeminiGenerationConfig,
  GeminiPart,
  GeminiRequest,
  GeminiResponse,
  GeminiSchema,
  GeminiUsageMetadata,
} from './wire-types.js';
export type { IdSource } from './ids.js';
export { guessMimeType } from './guess-mime-type.js';
export { toGeminiSchema } from './convert-json-schema-to-openapi-schema.js';
export { toGeminiRequest } from './to-request.js';
export { fromGeminiResponse, fromGeminiUsage, type FromGeminiOptions } from './from-response.js';
export { mapGeminiFinishReason } from './map-finish-reason.js';
export { createGeminiStreamMapper, type GeminiStreamMapper } from './map-stream.js';
export { geminiWarnings } from './warnings.js';
export { toGeminiModelPath } from './model-path.js';
export { createGeminiAdapter } from './adapter.js';
