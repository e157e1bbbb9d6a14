/**
 * The `response` object: the request's settings echoed, the answer's output items, status and
 * usage. Field order follows OpenAI's own answers, so a diff against one reads cleanly.
 */
import type { ChatResponse, FinishReason, Usage } from '../core/types.js';
import { itemId } from './ids.js';
import type { ResponsesBody } from './request-schema.js';
import type { FunctionCallItem, ItemStatus, OutputItem, OutputMessageItem, ResponseEcho, ResponseObject, ResponseUsage, TextFormatEcho } from './wire-types.js';

function formatEcho(body: ResponsesBody): TextFormatEcho {
  const format = body.text?.format;
  if (!format || format.type === 'text') return { type: 'text' };
  if (format.type === 'json_object') return { type: 'json_object' };
  return { type: 'json_schema', name: format.name ?? 'response', schema: format.schema ?? {}, description: format.description ?? null, strict: format.strict ?? null };
}

/** The settings every `response` object of this request repeats. */
export function toEcho(body: ResponsesBody, store: boolean): ResponseEcho {
  const choice = body.tool_choice;
  return {
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    store,
    // OpenAI echoes its defaults (1) when the client set none.
    temperature: body.temperature ?? 1,
    text: { format: formatEcho(body), verbosity: body.text?.verbosity ?? 'medium' },
    tool_choice: !choice ? 'auto' : typeof choice === 'string' ? choice : { type: 'function', name: choice.name ?? '' },
    tools: (body.tools ?? []).map((tool) => ({
      type: 'function',
      name: tool.name ?? '',
      description: tool.description ?? null,
      parameters: tool.parameters ?? null,
      strict: tool.strict ?? null,
    })),
    top_p: body.top_p ?? 1,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}

export function toResponseUsage(usage: Usage): ResponseUsage {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedTokens },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

/** How the answer ended, in the response's terms: cut at the output cap or by a filter is `incomplete`. */
export function endOf(finish: FinishReason | undefined): Pick<ResponseObject, 'status' | 'incomplete_details'> {
  if (finish === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** Fields of the object that change as the answer goes. */
export interface ResponseState {
  status: ResponseObject['status'];
  model: string;
  output: OutputItem[];
  usage: ResponseUsage | null;
  error?: ResponseObject['error'];
  incomplete_details?: ResponseObject['incomplete_details'];
}

export function buildResponse(id: string, createdAt: number, echo: ResponseEcho, state: ResponseState): ResponseObject {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: state.status,
    background: false,
    error: state.error ?? null,
    incomplete_details: state.incomplete_details ?? null,
    instructions: echo.instructions,
    max_output_tokens: echo.max_output_tokens,
    max_tool_calls: null,
    model: state.model,
    output: state.output,
    parallel_tool_calls: echo.parallel_tool_calls,
    previous_response_id: echo.previous_response_id,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: echo.store,
    temperature: echo.temperature,
    text: echo.text,
    tool_choice: echo.tool_choice,
    tools: echo.tools,
    top_logprobs: 0,
    top_p: echo.top_p,
    truncation: 'disabled',
    usage: state.usage,
    user: echo.user,
    metadata: echo.metadata,
  };
}

export function messageItem(id: string, text: string, status: ItemStatus): OutputMessageItem {
  return { type: 'message', id, status, role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] };
}

/**
 * The output items of a whole answer (its first choice: Responses has no `n`): the text as one
 * message, then one item per tool call. An answer with neither still gets an empty message, so
 * clients reading `output_text` find one.
 */
export function outputOf(response: ChatResponse, hex: string): { output: OutputItem[]; finish: FinishReason | undefined } {
  const choice = response.choices[0];
  const output: OutputItem[] = [];
  const calls = choice?.message.tool_calls ?? [];
  const text = choice?.message.content ?? '';
  const status: ItemStatus = choice?.finishReason === 'length' ? 'incomplete' : 'completed';
  if (text !== '' || calls.length === 0) output.push(messageItem(itemId('msg', hex, 'o', 0), text, status));
  for (const call of calls) {
    const item: FunctionCallItem = {
      type: 'function_call',
      id: itemId('fc', hex, 'o', output.length),
      call_id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
      status: 'completed',
    };
    output.push(item);
  }
  return { output, finish: choice?.finishReason };
}
