/**
 * The request's `input` as conversation items: a string becomes one user message, every item
 * gets an id (the client's, else one naming this response), content parts are checked per role,
 * and `item_reference`s are replaced by the stored items they name. What comes out is stored as
 * the response's input items and translated for the upstream.
 */
import { GatewayError } from '../core/errors.js';
import { itemId } from './ids.js';
import type { BodyContentPart, BodyItem, ResponsesBody } from './request-schema.js';
import type { ConversationItem, FunctionCallItem, FunctionCallOutputItem, MessageItem, MessagePart } from './wire-types.js';

/** Finds a stored item by id for `item_reference` (404 when the caller has none of that id). */
export type ItemLookup = (id: string, param: string) => Promise<ConversationItem>;

export interface NormalizedInput {
  items: ConversationItem[];
  warnings: string[];
}

function missing(param: string): GatewayError {
  return new GatewayError('missing_field', `'${param}' is required`, { param });
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

function textOf(part: BodyContentPart, param: string): string {
  if (typeof part.text !== 'string') throw missing(`${param}.text`);
  return part.text;
}

function imageDetail(detail: string | undefined, param: string): 'auto' | 'low' | 'high' {
  if (detail === undefined || detail === 'auto' || detail === 'original') return 'auto';
  if (detail === 'low' || detail === 'high') return detail;
  throw invalid(`${param}.detail`, `'${param}.detail' must be one of: auto, low, high`);
}

/** One content part of a message with `role`, in the part type that role takes. */
function toPart(part: BodyContentPart, role: MessageItem['role'], param: string): MessagePart {
  const isAssistant = role === 'assistant';
  switch (part.type) {
    case 'input_text':
    case 'output_text': {
      const text = textOf(part, param);
      return isAssistant ? { type: 'output_text', text, annotations: [], logprobs: [] } : { type: 'input_text', text };
    }
    case 'refusal':
      if (!isAssistant) throw invalid(`${param}.type`, `'refusal' parts belong to assistant messages, not '${role}' ones`);
      if (typeof part.refusal !== 'string') throw missing(`${param}.refusal`);
      return { type: 'refusal', refusal: part.refusal };
    case 'input_image':
      if (role !== 'user') throw invalid(`${param}.type`, `'input_image' parts belong to user messages, not '${role}' ones`);
      if (!part.image_url) {
        if (part.file_id) throw invalid(`${param}.file_id`, "images by 'file_id' are not supported by the gateway (it has no Files API); send 'image_url'");
        throw missing(`${param}.image_url`);
      }
      return { type: 'input_image', image_url: part.image_url, detail: imageDetail(part.detail, param) };
    case 'input_file':
      throw invalid(`${param}.type`, "'input_file' parts are not supported by the gateway; send the file's text as 'input_text'");
    default:
      throw invalid(`${param}.type`, `content part type '${part.type}' is not supported by the gateway`);
  }
}

function toMessage(item: BodyItem, id: string, param: string): MessageItem {
  const role = item.role;
  if (!role) throw missing(`${param}.role`);
  if (item.content === undefined) throw missing(`${param}.content`);
  const content: MessagePart[] =
    typeof item.content === 'string'
      ? [role === 'assistant' ? { type: 'output_text', text: item.content, annotations: [], logprobs: [] } : { type: 'input_text', text: item.content }]
      : item.content.map((part, j) => toPart(part, role, `${param}.content[${j}]`));
  return { type: 'message', id, role, status: 'completed', content };
}

function toFunctionCall(item: BodyItem, id: string, param: string): FunctionCallItem {
  if (!item.call_id) throw missing(`${param}.call_id`);
  if (!item.name) throw missing(`${param}.name`);
  if (item.arguments === undefined) throw missing(`${param}.arguments`);
  return { type: 'function_call', id, call_id: item.call_id, name: item.name, arguments: item.arguments, status: 'completed' };
}

/** A tool's output as text: OpenAI also takes a list of parts, of which the gateway can pass the text ones. */
function toFunctionOutput(item: BodyItem, id: string, param: string): FunctionCallOutputItem {
  if (!item.call_id) throw missing(`${param}.call_id`);
  if (item.output === undefined) throw missing(`${param}.output`);
  const output =
    typeof item.output === 'string'
      ? item.output
      : item.output
          .map((part, j) => {
            if (part.type !== 'input_text' && part.type !== 'output_text') {
              throw invalid(`${param}.output[${j}].type`, `'${part.type}' parts in a function call output are not supported by the gateway; send text`);
            }
            return textOf(part, `${param}.output[${j}]`);
          })
          .join('');
  return { type: 'function_call_output', id, call_id: item.call_id, output, status: 'completed' };
}

/** Normalizes `input` for the response whose item ids start with `hex`. */
export async function normalizeInput(input: ResponsesBody['input'], hex: string, lookup: ItemLookup): Promise<NormalizedInput> {
  if (input === undefined) return { items: [], warnings: [] };
  if (typeof input === 'string') {
    return { items: [{ type: 'message', id: itemId('msg', hex, 'i', 0), role: 'user', status: 'completed', content: [{ type: 'input_text', text: input }] }], warnings: [] };
  }
  const items: ConversationItem[] = [];
  const warnings: string[] = [];
  for (const [i, item] of input.entries()) {
    const param = `input[${i}]`;
    const type = item.type ?? 'message';
    const own = (prefix: 'msg' | 'fc' | 'fco') => item.id ?? itemId(prefix, hex, 'i', i);
    switch (type) {
      case 'message':
        items.push(toMessage(item, own('msg'), param));
        break;
      case 'function_call':
        items.push(toFunctionCall(item, own('fc'), param));
        break;
      case 'function_call_output':
        items.push(toFunctionOutput(item, own('fco'), param));
        break;
      case 'item_reference':
        if (!item.id) throw missing(`${param}.id`);
        items.push(await lookup(item.id, `${param}.id`));
        break;
      case 'reasoning':
        // The gateway never emits reasoning items; one from another model carries nothing others can read.
        if (!warnings.includes('reasoning items in the input are not sent upstream')) warnings.push('reasoning items in the input are not sent upstream');
        break;
      default:
        throw invalid(`${param}.type`, `input item type '${type}' is not supported by the gateway`);
    }
  }
  return { items, warnings };
}
