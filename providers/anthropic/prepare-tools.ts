/** Canonical tools and tool choice → Messages API `tools` and `tool_choice`. */
import type { ChatRequest } from '../../src/core/types.js';
import type { AnthropicRequest, AnthropicToolChoice } from './wire-types.js';

function toToolChoice(req: ChatRequest): AnthropicToolChoice | undefined {
  const disable = req.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  const choice = req.tool_choice;
  if (choice === undefined) return req.parallel_tool_calls === false ? { type: 'auto', ...disable } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...disable };
  if (choice === 'required') return { type: 'any', ...disable };
  return { type: 'tool', name: choice.function.name, ...disable };
}

/** Without tools there is nothing to choose from: a tool choice alone is left out. */
export function prepareAnthropicTools(req: ChatRequest): Pick<AnthropicRequest, 'tools' | 'tool_choice'> {
  if (!req.tools || req.tools.length === 0) return {};
  const tools = req.tools.map((tool) => ({
    name: tool.function.name,
    ...(tool.function.description ? { description: tool.function.description } : {}),
    input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
    ...(tool.cache_control ? { cache_control: tool.cache_control } : {}),
  }));
  const choice = toToolChoice(req);
  return choice ? { tools, tool_choice: choice } : { tools };
}
