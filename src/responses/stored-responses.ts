/**
 * Stored responses as the routes use them: scoped to the caller that made them (another key
 * finds nothing: 404, never 403, so ids cannot be probed), bounded in size, kept for the
 * configured TTL. Reads parse the record once; writes never fail the answer they store.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ResponsesConfig } from '../config/types.js';
import type { Caller } from '../core/caller.js';
import { GatewayError } from '../core/errors.js';
import { isRecord } from '../core/is-record.js';
import { placeOfItem } from './ids.js';
import type { ItemLookup } from './normalize-input.js';
import type { ResponseStore, StoredResponse } from './response-store.js';
import type { ConversationItem, ResponseObject } from './wire-types.js';

/** Whose a stored response is: the key that made it; every caller without a key shares one scope. */
export function ownerOf(caller: Caller): string {
  return caller.keyId ? `key:${caller.keyId}` : 'anonymous';
}

/** The gateway wrote the record; this only guards against a record of another shape under the key. */
function isStoredResponse(value: unknown): value is StoredResponse {
  return isRecord(value) && isRecord(value.response) && Array.isArray(value.input) && Array.isArray(value.history);
}

function notFound(what: string, id: string, param: string): GatewayError {
  return new GatewayError('not_found', `${what} with id '${id}' not found.`, { param });
}

export class StoredResponses {
  constructor(
    private readonly store: ResponseStore,
    private readonly config: () => ResponsesConfig,
  ) {}

  /** The caller's stored response `id`, or undefined. */
  async find(id: string, owner: string): Promise<StoredResponse | undefined> {
    const found = await this.store.get(id);
    if (!found || found.owner !== owner) return undefined;
    const record: unknown = JSON.parse(found.json);
    return isStoredResponse(record) ? record : undefined;
  }

  /** The response `previous_response_id` names, or the 404 that says it is not the caller's. */
  async previous(id: string, owner: string): Promise<StoredResponse> {
    const record = await this.find(id, owner);
    if (!record) throw notFound('Previous response', id, 'previous_response_id');
    return record;
  }

  /** Resolves `item_reference`s against the caller's stored responses, reading each response once per request. */
  lookup(owner: string): ItemLookup {
    const read = new Map<string, Promise<StoredResponse | undefined>>();
    return async (id, param) => {
      const place = placeOfItem(id);
      if (!place) throw notFound('Item', id, param);
      let pending = read.get(place.responseId);
      if (!pending) {
        pending = this.find(place.responseId, owner);
        read.set(place.responseId, pending);
      }
      const record = await pending;
      const items: ConversationItem[] | undefined = place.place === 'o' ? record?.response.output : record?.input;
      const item = items?.find((candidate) => candidate.id === id);
      if (!item) throw notFound('Item', id, param);
      return item;
    };
  }

  /** Refuses, before any upstream work, a conversation too large to store. */
  checkSize(history: ConversationItem[], input: ConversationItem[]): void {
    const limit = this.config().max_stored_bytes;
    const bytes = Buffer.byteLength(JSON.stringify(history)) + Buffer.byteLength(JSON.stringify(input));
    if (bytes > limit) {
      throw new GatewayError('invalid_request', `the conversation is ${bytes} bytes, more than the ${limit} the gateway stores; send 'store': false, or start a new conversation`, {
        param: 'input',
      });
    }
  }

  /** Stores a finished response with its input; a store that is down costs a log line, not the answer. */
  persister(owner: string, input: ConversationItem[], history: ConversationItem[], log: FastifyBaseLogger): (response: ResponseObject) => Promise<void> {
    return async (response) => {
      const record: StoredResponse = { response, input, history };
      try {
        await this.store.put(response.id, owner, JSON.stringify(record), this.config().store_ttl_s * 1000);
      } catch (err) {
        log.warn({ err, response: response.id }, 'responses: the answer was sent but not stored; previous_response_id will not find it');
      }
    };
  }

  delete(id: string, owner: string): Promise<boolean> {
    return this.store.delete(id, owner);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
