/**
 * One compacting full GC once start-up is done. Loading some six hundred modules, compiling
 * the schemas and reading the config grow the heap to about twice what stays live, and V8
 * keeps those pages until its memory reducer runs: about eight seconds after start when the
 * process is truly idle, and never on an instance that takes traffic at once. Compacting here
 * hands them back (~25 MB of RSS, ~40 ms, once, before the server listens).
 *
 * V8 offers no API for this, so `gc` is taken from a new context with `--expose-gc` set (the
 * main context never gets it) and compaction is forced for this one collection only.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface HeapSettled {
  /** V8's committed heap before and after, bytes. */
  before: number;
  after: number;
}

/** Runs the collection; undefined when this Node does not allow it (the gateway runs on either way). */
export function settleHeap(): HeapSettled | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc !== 'function') return undefined;
    const before = process.memoryUsage().heapTotal;
    setFlagsFromString('--compact-on-every-full-gc');
    try {
      (gc as () => void)();
    } finally {
      setFlagsFromString('--no-compact-on-every-full-gc');
    }
    return { before, after: process.memoryUsage().heapTotal };
  } catch {
    return undefined;
  }
}
