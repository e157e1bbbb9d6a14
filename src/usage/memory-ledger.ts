import { addListener, notifyListeners, type Ledger, type LedgerListener, type LedgerRecord } from './ledger.js';
import { MemoryLedgerStore } from './memory-store.js';

/**
 * A ledger that keeps records in process memory and writes its store at once: tests read
 * `records()` right after a call, and reports see every call without a flush. The gateway's
 * default is the batching ledger over a memory store; this one is for tests and tools.
 */
export function createMemoryLedger(capacity = 10_000): Ledger & { records(): readonly LedgerRecord[]; store: MemoryLedgerStore } {
  const records: LedgerRecord[] = [];
  const listeners: LedgerListener[] = [];
  const store = new MemoryLedgerStore({ logMaxRecords: capacity });
  let seq = 0;
  return {
    record(record) {
      notifyListeners(listeners, record, () => undefined);
      records.push(record);
      if (records.length > capacity) records.splice(0, records.length - capacity);
      store.writeNow({ id: String(++seq), records: [record] });
    },
    onRecord: (listener) => addListener(listeners, listener),
    records: () => records,
    store,
    flush: async () => undefined,
    close: async () => undefined,
  };
}
