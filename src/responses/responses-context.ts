/** What one Responses call's renderers share: its ids, its echoed settings, and how to store its answer. */
import type { ResponseEcho, ResponseObject } from './wire-types.js';

export interface ResponsesContext {
  /** `resp_…`, from the call id. */
  responseId: string;
  /** The hex part of the id, which the response's item ids carry. */
  hex: string;
  /** Unix seconds. */
  createdAt: number;
  echo: ResponseEcho;
  /** Stores the finished response (`store: true`); resolves once it is readable. Never rejects. */
  persist?: (response: ResponseObject) => Promise<void>;
}
