/** The pieces of the Responses API that hold state or arithmetic: the memory store's bounds and the input items pages. */
import { describe, expect, it } from 'vitest';
import { pageOfItems } from '../src/responses/list-input-items.js';
import { MemoryResponseStore } from '../src/responses/memory-response-store.js';
import type { ConversationItem } from '../src/responses/wire-types.js';

describe('MemoryResponseStore', () => {
  it('drops the least recently used records past its byte bound', async () => {
    const store = new MemoryResponseStore(1000);
    const body = 'x'.repeat(300);
    await store.put('a', 'me', body, 60_000);
    await store.put('b', 'me', body, 60_000);
    await store.put('c', 'me', body, 60_000);
    expect(await store.get('a')).toBeDefined(); // a is now the most recently used
    await store.put('d', 'me', body, 60_000);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBeDefined();
    expect(await store.get('d')).toBeDefined();
  });

  it('never keeps a record larger than the whole bound', async () => {
    const store = new MemoryResponseStore(100);
    await store.put('big', 'me', 'x'.repeat(200), 60_000);
    expect(await store.get('big')).toBeUndefined();
  });

  it('expires records on its clock and deletes only for their owner', async () => {
    let now = 1_000;
    const store = new MemoryResponseStore(10_000, () => now);
    await store.put('a', 'me', '{}', 500);
    expect(await store.delete('a', 'someone else')).toBe(false);
    now += 499;
    expect(await store.get('a')).toEqual({ owner: 'me', json: '{}' });
    now += 1;
    expect(await store.get('a')).toBeUndefined();
    await store.put('b', 'me', '{}', 500);
    expect(await store.delete('b', 'me')).toBe(true);
    expect(await store.delete('b', 'me')).toBe(false);
  });
});

describe('pageOfItems', () => {
  const items: ConversationItem[] = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ type: 'function_call_output', id, call_id: 'c', output: id, status: 'completed' }));
  const ids = (page: ReturnType<typeof pageOfItems>) => page.data.map((item) => item.id);

  it('lists newest first by default, 20 at most', () => {
    const page = pageOfItems(items, {});
    expect(ids(page)).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(page).toMatchObject({ object: 'list', first_id: 'e', last_id: 'a', has_more: false });
  });

  it('pages with after and before in either order', () => {
    expect(ids(pageOfItems(items, { order: 'asc', limit: 2, after: 'b' }))).toEqual(['c', 'd']);
    expect(pageOfItems(items, { order: 'asc', limit: 2, after: 'b' }).has_more).toBe(true);
    expect(ids(pageOfItems(items, { after: 'd', before: 'a' }))).toEqual(['c', 'b']);
    expect(pageOfItems([], {})).toEqual({ object: 'list', data: [], first_id: null, last_id: null, has_more: false });
  });

  it('refuses a cursor that names no item', () => {
    expect(() => pageOfItems(items, { after: 'zz' })).toThrow(/'after' names no input item/);
  });
});
