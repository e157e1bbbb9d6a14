/** The request fields `toGeminiRequest` leaves out, for `x-gateway-warnings`. */
import { droppedField, turnAndToolFields, warningsFor } from '../shared/warnings.js';

export const geminiWarnings = warningsFor([
  droppedField('user', 'gemini', (req) => req.user !== undefined),
  droppedField('thinking', 'gemini', (req) => req.thinking !== undefined),
  // Gemini may always call several functions at once; `true` asks for nothing more than that.
  droppedField('parallel_tool_calls', 'gemini', (req) => req.parallel_tool_calls === false),
  ...turnAndToolFields('gemini'),
]);
