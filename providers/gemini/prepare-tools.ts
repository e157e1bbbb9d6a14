/** Canonical tools and tool choice → Gemini `tools` (function declarations) and `toolConfig`. */
import type { ChatRequest, ToolChoice } from '../../src/core/types.js';
import { toGeminiSchema } from './convert-json-schema-to-openapi-schema.js';
import type { GeminiFunctionDeclaration, GeminiRequest } from './wire-types.js';

function toToolConfig(choice: ToolChoice): NonNullable<GeminiRequest['toolConfig']> {
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
}

/** Without tools there is nothing to choose from: a tool choice alone is left out. */
export function prepareGeminiTools(req: ChatRequest): Pick<GeminiRequest, 'tools' | 'toolConfig'> {
  if (!req.tools || req.tools.length === 0) return {};
  const functionDeclarations = req.tools.map((tool) => {
    const declaration: GeminiFunctionDeclaration = { name: tool.function.name };
    if (tool.function.description) declaration.description = tool.function.description;
    const parameters = toGeminiSchema(tool.function.parameters);
    if (parameters) declaration.parameters = parameters;
    return declaration;
  });
  const tools = [{ functionDeclarations }];
  return req.tool_choice === undefined ? { tools } : { tools, toolConfig: toToolConfig(req.tool_choice) };
}
