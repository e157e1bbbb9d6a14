/**
 * Where stored responses live (`store: true`, the default): in Redis when the instance has one,
 * shared by every instance, else in process memory. A record belongs to the caller that made it;
 * the store keeps the owner beside the record so a delete checks it in the same step.
 */
import type { ConversationItem, ResponseObject } from './wire-types.js';

/** What a stored response holds: enough to show it, list its input, and continue from it. */
export interface StoredResponse {
  response: ResponseObject;
  /** This request's input items, ids assigned, item references resolved. */
  input: ConversationItem[];
  /** The conversation before `input` (the previous responses' input and output), instructions excluded. */
  history: ConversationItem[];
}

export interface ResponseStore {
  readonly kind: 'memory' | 'redis';
  /** Keeps `json` (a StoredResponse) under `id` for `ttlMs`. */
  put(id: string, owner: string, json: string, ttlMs: number): Promise<void>;
  /** The record's JSON and owner, or undefined when it is unknown or expired. */
  get(id: string): Promise<{ owner: string; json: string } | undefined>;
  /** Deletes the record when `owner` made it; false when there was none of theirs. */
  delete(id: string, owner: string): Promise<boolean>;
  close(): Promise<void>;
}
