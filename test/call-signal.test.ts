/**
 * CallAbort, the attempt's signal on the hot path (src/core/call-signal.ts): it must behave as
 * the part of AbortSignal its users rely on. The wire client's handlers listen with an object
 * (`handleEvent`), the mock provider with a function; an abort reaches each listener once, in
 * order, with its reason kept, and never one that was removed or came after it.
 */
import { describe, expect, it } from 'vitest';
import { CallAbort } from '../src/core/call-signal.js';

describe('CallAbort', () => {
  it('calls function and handleEvent listeners once, in order, with the reason set', () => {
    const signal = new CallAbort();
    const seen: string[] = [];
    const reason = new Error('timed out');
    signal.addEventListener('abort', () => seen.push(`fn:${(signal.reason as Error).message}`));
    signal.addEventListener('abort', { handleEvent: (event) => seen.push(`obj:${event.type}`) });
    expect(signal.aborted).toBe(false);
    signal.abort(reason);
    signal.abort(new Error('again'));
    expect(seen).toEqual(['fn:timed out', 'obj:abort']);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
  });

  it('skips removed listeners and those added after the abort', () => {
    const signal = new CallAbort();
    const seen: string[] = [];
    const kept = () => seen.push('kept');
    const removed = { handleEvent: () => seen.push('removed') };
    signal.addEventListener('abort', removed);
    signal.addEventListener('abort', kept);
    signal.removeEventListener('abort', removed);
    signal.removeEventListener('abort', () => seen.push('never added'));
    signal.abort('gone');
    signal.addEventListener('abort', () => seen.push('late'));
    expect(seen).toEqual(['kept']);
  });
});
