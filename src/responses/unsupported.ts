/**
 * What the gateway cannot do for a Responses request, said out loud. Features that need OpenAI's
 * own servers (built-in tools, background runs, stored prompts, conversations) are refused with
 * a 400 naming the field; settings that only tune OpenAI's models become `x-gateway-warnings`.
 * Nothing is dropped in silence.
 */
import { GatewayError } from '../core/errors.js';
import type { ResponsesBody } from './request-schema.js';

/** `include` values the gateway accepts: the first is always honoured, the rest name things it never produces. */
const INCLUDE_HONOURED = 'message.input_image.image_url';
const INCLUDE_MOOT = new Set([
  'reasoning.encrypted_content',
  'message.output_text.logprobs',
  'file_search_call.results',
  'web_search_call.results',
  'web_search_call.action.sources',
  'code_interpreter_call.outputs',
  'computer_call_output.output.image_url',
]);

function refuse(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Throws the 400 for the first field the gateway cannot serve. */
export function refuseUnsupported(body: ResponsesBody): void {
  if (body.background === true) throw refuse('background', "'background' responses are not supported by the gateway; send the request without it");
  if (isSet(body.prompt)) throw refuse('prompt', "stored prompts ('prompt') are not supported by the gateway; send 'instructions' and 'input' instead");
  if (isSet(body.conversation)) throw refuse('conversation', "'conversation' is not supported by the gateway; continue with 'previous_response_id' instead");
  body.tools?.forEach((tool, i) => {
    if (tool.type !== 'function') {
      throw refuse(`tools[${i}].type`, `the built-in tool '${tool.type}' (tools[${i}]) is not supported by the gateway; only function tools are`);
    }
    if (!tool.name) throw new GatewayError('missing_field', `'tools[${i}].name' is required`, { param: `tools[${i}].name` });
  });
  const choice = body.tool_choice;
  if (choice && typeof choice === 'object') {
    if (choice.type !== 'function') throw refuse('tool_choice.type', `tool_choice of type '${choice.type}' is not supported by the gateway; use 'auto', 'none', 'required' or a function`);
    if (!choice.name) throw new GatewayError('missing_field', "'tool_choice.name' is required", { param: 'tool_choice.name' });
    if (!body.tools?.some((tool) => tool.name === choice.name)) throw refuse('tool_choice', `'tool_choice' names '${choice.name}', which is not among 'tools'`);
  }
  const format = body.text?.format;
  if (format?.type === 'json_schema') {
    if (!format.name) throw new GatewayError('missing_field', "'text.format.name' is required", { param: 'text.format.name' });
    if (!format.schema) throw new GatewayError('missing_field', "'text.format.schema' is required", { param: 'text.format.schema' });
  }
  body.include?.forEach((value, i) => {
    if (value !== INCLUDE_HONOURED && !INCLUDE_MOOT.has(value)) throw refuse(`include[${i}]`, `'include' value '${value}' is not supported by the gateway`);
  });
}

/** Settings sent to tune OpenAI's own models, which other upstreams cannot honour: one warning each. */
export function warningsFor(body: ResponsesBody): string[] {
  const warnings: string[] = [];
  const ignored = (field: string) => warnings.push(`'${field}' is not applied by the gateway`);
  if (isSet(body.reasoning)) ignored('reasoning');
  if (body.truncation === 'auto') ignored('truncation');
  if (typeof body.top_logprobs === 'number' && body.top_logprobs > 0) ignored('top_logprobs');
  if (isSet(body.max_tool_calls)) ignored('max_tool_calls');
  if (isSet(body.service_tier) && body.service_tier !== 'auto' && body.service_tier !== 'default') ignored('service_tier');
  if (isSet(body.context_management)) ignored('context_management');
  if (isSet(body.prompt_cache_key)) ignored('prompt_cache_key');
  if (isSet(body.prompt_cache_retention)) ignored('prompt_cache_retention');
  if (isSet(body.safety_identifier)) ignored('safety_identifier');
  const verbosity = body.text?.verbosity;
  if (verbosity && verbosity !== 'medium') ignored('text.verbosity');
  for (const value of body.include ?? []) if (INCLUDE_MOOT.has(value)) warnings.push(`'include' value '${value}' has nothing to include`);
  return warnings;
}
