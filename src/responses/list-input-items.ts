/**
 * `GET /v1/responses/{id}/input_items`: a cursor page of a stored response's input items,
 * newest first unless `order=asc`, as OpenAI lists them.
 */
import { GatewayError } from '../core/errors.js';
import type { ConversationItem } from './wire-types.js';

export interface ItemPage {
  object: 'list';
  data: ConversationItem[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export interface PageQuery {
  order?: 'asc' | 'desc';
  /** 1 to 100; default 20. */
  limit?: number;
  /** An item id: the page starts after it (in the page's order). */
  after?: string;
  /** An item id: the page ends before it. */
  before?: string;
}

const DEFAULT_LIMIT = 20;

function cursorIndex(items: ConversationItem[], id: string, param: string): number {
  const index = items.findIndex((item) => item.id === id);
  if (index < 0) throw new GatewayError('invalid_request', `'${param}' names no input item of this response`, { param });
  return index;
}

export function pageOfItems(input: ConversationItem[], query: PageQuery): ItemPage {
  const ordered = query.order === 'asc' ? input : [...input].reverse();
  const start = query.after === undefined ? 0 : cursorIndex(ordered, query.after, 'after') + 1;
  const end = query.before === undefined ? ordered.length : cursorIndex(ordered, query.before, 'before');
  const window = ordered.slice(start, Math.max(start, end));
  const data = window.slice(0, query.limit ?? DEFAULT_LIMIT);
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: window.length > data.length };
}
