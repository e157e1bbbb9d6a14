/**
 * The batching ledger after close: a record that outlives shutdown (a stream past the grace
 * period) goes straight to the spool. Nothing awaits that write, so a failure in it must be
 * logged, never left as an unhandled rejection (which would crash the process).
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { BatchingLedger } from '../src/usage/batching-ledger.js';
import type { LedgerStore } from '../src/usage/ledger-store.js';
import { blankRecord } from '../src/usage/ledger.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A durable store that is down: every write fails, so records end up in the spool. */
function downStore(): LedgerStore {
  return {
    kind: 'redis',
    durable: true,
    scope: 'ledger-spool-after-close',
    write: () => Promise.reject(new Error('store down')),
    usage: async () => [],
    logs: async () => [],
    isUp: () => false,
    close: async () => undefined,
  };
}

const record = (id: string) => blankRecord({ id: id, time: Date.now(), key_id: null, team: null, route: 'chat', tags: [], status: 200 });

it('logs a spool file it cannot close after shutdown instead of rejecting unhandled', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'konnect-spool-after-close-'));
  dirs.push(dir);
  const errors: string[] = [];
  const log = { warn() {}, info() {}, error: (_obj: object, msg: string) => void errors.push(msg) };
  const ledger = new BatchingLedger(downStore(), { spoolDir: dir, closeTimeoutMs: 100, writeTimeoutMs: 50, flushIntervalMs: 60_000, log });

  ledger.record(record('before-close'));
  await ledger.close();
  // close() spooled the record to segment 0; the next record after close goes to segment 1.
  const [first] = (await readdir(dir)).filter((name) => name.endsWith('-0.ndjson'));
  expect(first).toBeDefined();
  const next = first!.replace(/-0\.ndjson$/, '-1.ndjson');
  // A non-empty directory where the sealed file must go: the rename that seals the segment fails.
  await mkdir(join(dir, next));
  await writeFile(join(dir, next, 'occupied'), '');

  ledger.record(record('after-close'));
  await vi.waitFor(() => expect(errors).toContain('cannot close the ledger spool file'), { timeout: 2000 });
});
