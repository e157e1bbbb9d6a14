/**
 * The ledger's contract: one record per call, handed over without waiting. The ledger knows
 * nothing of providers; the request path knows nothing of how records are stored.
 */
import type { LedgerStore } from './ledger-store.js';
import type { LedgerRecord } from './ledger-record.js';

export { blankRecord, type LedgerRecord, type RecordOrigin, type UsageSource } from './ledger-record.js';


/**
 * Called synchronously for every record, before it is queued for storage: spend counters,
 * budgets and metrics stay current without reading the store back. A listener must be cheap
 * and must not throw (a throw is caught and logged, never reaches the request).
 */
export type LedgerListener = (record: LedgerRecord) => void;

/** The write side's state, for /metrics and /health. */
export interface LedgerStats {
  /** Records waiting in memory (queue plus the batch being written). */
  queued: number;
  /** Records written to the store since start. */
  written: number;
  /** Failed store writes since start (each retried later). */
  write_failures: number;
  /** Records saved to the local spool file (buffer full, or shutdown while the store was down). */
  spooled: number;
  /** Spooled records written to the store after all. */
  replayed: number;
  /** Records lost: spool file unwritable. Should stay 0. */
  dropped: number;
  /** False while the last store write failed. */
  store_ok: boolean;
}

export interface Ledger {
  /** Queues a record; never throws, never waits on storage. */
  record(record: LedgerRecord): void;
  /** Registers a listener called synchronously on every `record()`; returns its remover. */
  onRecord(listener: LedgerListener): () => void;
  /** Writes what is queued; used at shutdown and by tests. Rejects when the store fails. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Where reports read from; absent for ledgers that keep nothing queryable. */
  readonly store?: LedgerStore;
  stats?(): LedgerStats;
}

/** Calls each listener, keeping a faulty one from breaking the request path or the others. */
export function notifyListeners(listeners: readonly LedgerListener[], record: LedgerRecord, onError: (err: unknown) => void): void {
  for (const listener of listeners) {
    try {
      listener(record);
    } catch (err) {
      onError(err);
    }
  }
}

/** Adds a listener to a list and returns its remover (shared by the ledger implementations). */
export function addListener(listeners: LedgerListener[], listener: LedgerListener): () => void {
  listeners.push(listener);
  return () => {
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  };
}
