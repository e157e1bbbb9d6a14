/**
 * OpenAI Responses API shapes as the gateway writes and stores them: conversation items (what
 * `input` holds once normalized, and what `output` holds) and the `response` object.
 * https://platform.openai.com/docs/api-reference/responses/object
 */

export interface InputTextPart {
  type: 'input_text';
  text: string;
}

export interface InputImagePart {
  type: 'input_image';
  /** An http(s) URL or a `data:<mime>;base64,…` URL. */
  image_url: string;
  detail: 'auto' | 'low' | 'high';
}

/** OpenAI's spec requires `annotations` and `logprobs` on every output text part; clients index into both. */
export interface OutputTextPart {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}

export interface RefusalPart {
  type: 'refusal';
  refusal: string;
}

export type MessagePart = InputTextPart | InputImagePart | OutputTextPart | RefusalPart;

export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

export interface MessageItem {
  type: 'message';
  id: string;
  role: 'user' | 'system' | 'developer' | 'assistant';
  status: ItemStatus;
  content: MessagePart[];
}

export interface FunctionCallItem {
  type: 'function_call';
  id: string;
  call_id: string;
  name: string;
  /** JSON text, as the model wrote it. */
  arguments: string;
  status: ItemStatus;
}

export interface FunctionCallOutputItem {
  type: 'function_call_output';
  id: string;
  call_id: string;
  output: string;
  status: ItemStatus;
}

/** One item of a conversation: an input item once normalized, or an output item. */
export type ConversationItem = MessageItem | FunctionCallItem | FunctionCallOutputItem;

/** An assistant's output message: only output text parts. */
export interface OutputMessageItem extends MessageItem {
  role: 'assistant';
  content: OutputTextPart[];
}

export type OutputItem = OutputMessageItem | FunctionCallItem;

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** A function tool as the `response` object echoes it. */
export interface FunctionToolEcho {
  type: 'function';
  name: string;
  description: string | null;
  parameters: Record<string, unknown> | null;
  strict: boolean | null;
}

export type ToolChoiceEcho = 'none' | 'auto' | 'required' | { type: 'function'; name: string };

export type TextFormatEcho =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; description: string | null; strict: boolean | null };

/**
 * The request's settings as every `response` object of the call repeats them. Clients read
 * these back (the Agents SDK reads `tools`, the AI SDK `text`), so each is always present.
 */
export interface ResponseEcho {
  instructions: string | null;
  max_output_tokens: number | null;
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  store: boolean;
  temperature: number;
  text: { format: TextFormatEcho; verbosity: 'low' | 'medium' | 'high' };
  tool_choice: ToolChoiceEcho;
  tools: FunctionToolEcho[];
  top_p: number;
  user: string | null;
  metadata: Record<string, string>;
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

export interface ResponseObject {
  id: string;
  object: 'response';
  /** Unix seconds. */
  created_at: number;
  status: ResponseStatus;
  background: false;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  max_tool_calls: null;
  /** The model that answered, as the upstream names it. */
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: null; summary: null };
  service_tier: 'default';
  store: boolean;
  temperature: number;
  text: ResponseEcho['text'];
  tool_choice: ToolChoiceEcho;
  tools: FunctionToolEcho[];
  top_logprobs: 0;
  top_p: number;
  truncation: 'disabled';
  usage: ResponseUsage | null;
  user: string | null;
  metadata: Record<string, string>;
}
