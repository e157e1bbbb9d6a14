/**
 * Ids of stored responses and their items, derived from the call id (a UUIDv7: unguessable,
 * time-ordered). An item id names its response and its place in it, so an `item_reference`
 * (the AI SDK sends one per earlier assistant message) resolves with one read of that response
 * and no index of items.
 */

/** `resp_` and the call id's 32 hex digits. */
const RESPONSE_ID = /^resp_([0-9a-f]{32})$/;
/** `<kind>_<response hex>_<o|i><index>`: output or input item `index` of that response. */
const ITEM_ID = /^[a-z]{2,4}_([0-9a-f]{32})_([oi])(\d{1,5})$/;

export function responseIdOf(callId: string): string {
  return `resp_${callId.replaceAll('-', '')}`;
}

/** The hex part item ids of this response share. */
export function responseHex(responseId: string): string {
  return responseId.slice('resp_'.length);
}

export function isResponseId(id: string): boolean {
  return RESPONSE_ID.test(id);
}

export type ItemPrefix = 'msg' | 'fc' | 'fco';

export function itemId(prefix: ItemPrefix, hex: string, place: 'o' | 'i', index: number): string {
  return `${prefix}_${hex}_${place}${index}`;
}

/** Where an item id the gateway made points: its response, output or input, and the index. */
export interface ItemPlace {
  responseId: string;
  place: 'o' | 'i';
  index: number;
}

export function placeOfItem(id: string): ItemPlace | undefined {
  const match = ITEM_ID.exec(id);
  if (!match) return undefined;
  return { responseId: `resp_${match[1]}`, place: match[2] === 'o' ? 'o' : 'i', index: Number(match[3]) };
}
