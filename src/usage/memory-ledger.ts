import type { Ledger, LedgerRecord } from './ledger.js';

/** The embedded default: records kept in process memory, newest last, capped. */
export function createMemoryLedger(capacity = 10_000): Ledger & { records(): readonly LedgerRecord[] } {
  const records: LedgerRecord[] = [];
  return {
    record(record) {
      records.push(record);
      if (records.length > capacity) records.splice(0, records.length - capacity);
    },
    records: () => records,
    flush: async () => undefined,
    close: async () => undefined,
  };
}
