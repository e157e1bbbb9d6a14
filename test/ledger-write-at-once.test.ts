/**
 * A write-at-once outbox (how settlements reach Redis) never holds a record back: the caller's
 * next call is admitted against what the record settles. Two cases did: records that arrived
 * while the outbox replayed an earlier run's spool at start-up waited up to the tick; then they
 * waited for the replay (a directory read and the spool's writes), and under a loaded test run a
 * key's next call was admitted before its last one settled and spent past its budget. The spool
 * now replays in a lane of its own. The tick here is an hour, so nothing here relies on it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { BatchingLedger } from '../src/usage/batching-ledger.js';
import type { LedgerBatch, RecordSink } from '../src/usage/ledger-store.js';
import { blankRecord } from '../src/usage/ledger.js';
import { eventually } from './helpers/wait.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const record = (id: string) => blankRecord({ id, time: Date.now(), key_id: null, team: null, route: 'chat', tags: [], status: 200 });
const quiet = { warn() {}, info() {}, error() {} };
const SCOPE = 'ledger-write-at-once';

/**
 * A durable sink: every write fails while `down`; a batch holding `heldId` waits for `release`
 * (and says so through `reached`), so a test can act while that write is under way.
 */
function sink(written: string[], options: { down?: boolean; heldId?: string } = {}) {
  let release!: () => void;
  let reached!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  const store: RecordSink = {
    durable: true,
    scope: SCOPE,
    write: async (batch: LedgerBatch) => {
      if (options.down) throw new Error('store down');
      if (batch.records.some((r) => r.id === options.heldId)) {
        reached();
        await released;
      }
      written.push(...batch.records.map((r) => r.id));
    },
    close: async () => undefined,
  };
  return { store, release, arrived };
}

it('writes a record that arrives while the start-up spool replay is held, before the replay ends', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'konnect-write-at-once-'));
  dirs.push(dir);
  const options = { spoolDir: dir, writeAtOnce: true, flushIntervalMs: 3_600_000, log: quiet };
  // An earlier run that could not write leaves its record in the spool.
  const earlier = new BatchingLedger(sink([], { down: true }).store, { ...options, closeTimeoutMs: 50, writeTimeoutMs: 50 });
  earlier.record(record('from-the-earlier-run'));
  await earlier.close();

  const written: string[] = [];
  const { store, release, arrived } = sink(written, { heldId: 'from-the-earlier-run' });
  const outbox = new BatchingLedger(store, options);
  try {
    // The first record starts the drain, which starts the replay beside it; the replay's write is held.
    outbox.record(record('first'));
    await arrived;
    outbox.record(record('second'));
    await eventually(() => expect(written).toEqual(['first', 'second']), { what: 'the second record written while the replay is held' });
    release();
    await eventually(() => expect(written).toEqual(['first', 'second', 'from-the-earlier-run']), { what: 'the replay written once released' });
    expect(outbox.stats()).toMatchObject({ queued: 0, replayed: 1, written: 3 });
  } finally {
    release();
    await outbox.close();
  }
});
