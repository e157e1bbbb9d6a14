/**
 * The ledger over a store. `record()` only pushes onto an in-memory queue; one writer drains
 * it in batches on a timer or when a batch fills. When the store fails, the batch in hand is
 * kept (same id, so a write that did land but timed out is not counted twice) and retried
 * with backoff while new records queue up to `bufferMax`; past that they go to the spool
 * file. At close the queue is written, or spooled for the next start to replay.
 */
import { randomBytes } from 'node:crypto';
import { withTimeout } from '../core/with-timeout.js';
import type { LedgerBatch, LedgerStore, RecordSink } from './ledger-store.js';
import { addListener, notifyListeners, type Ledger, type LedgerListener, type LedgerRecord, type LedgerStats } from './ledger.js';
import { Spool } from './spool.js';

export interface BatchingLedgerOptions {
  /** Records per store write. */
  batchSize?: number;
  /** How often a partial batch is written, ms. */
  flushIntervalMs?: number;
  /** Records held in memory while the store is down; more go to the spool file. */
  bufferMax?: number;
  /** Where records that cannot be written are saved; only used for a durable store. */
  spoolDir?: string;
  /** A store write that takes longer counts as failed (and is retried under the same id), ms. */
  writeTimeoutMs?: number;
  /** Longest wait between retries, ms. */
  retryMaxMs?: number;
  /**
   * Start a write as soon as a record comes (after the current tick), not on the timer: for
   * sinks whose effect the caller's next request should see (spend settlement). Records that
   * come while a write is under way still go together in the next batch.
   */
  writeAtOnce?: boolean;
  /** How long `close()` tries to write before spooling the rest, ms. */
  closeTimeoutMs?: number;
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

const RETRY_BASE_MS = 100;

class WriteTimeout extends Error {
  constructor(ms: number) {
    super(`ledger store write took longer than ${ms} ms`);
  }
}

/** A FIFO that takes from the front without shifting the array on every batch. */
class RecordQueue {
  private items: LedgerRecord[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(record: LedgerRecord): void {
    this.items.push(record);
  }

  take(n: number): LedgerRecord[] {
    const out = this.items.slice(this.head, this.head + n);
    this.head += out.length;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}

/**
 * Generic over where batches go: the ledger's store (`BatchingLedger<LedgerStore>` is the
 * `Ledger`), or any sink that must lose no record, such as spend settlement.
 */
export class BatchingLedger<S extends RecordSink = LedgerStore> {
  readonly store: S;
  private readonly listeners: LedgerListener[] = [];
  private readonly queue = new RecordQueue();
  /** Records past `bufferMax`, on their way to the spool. */
  private overflow: LedgerRecord[] = [];
  /** The batch being written; kept with its id until the store takes it. */
  private inHand: LedgerBatch | undefined;
  private draining: Promise<void> | undefined;
  /** The spool's replay: a lane of its own, so records that come meanwhile are not held behind a disk read. */
  private replaying: Promise<void> | undefined;
  private spilling: Promise<void> | undefined;
  private drainSoon = false;
  private readonly timer: NodeJS.Timeout;
  private readonly spool: Spool | undefined;
  /** Spool files may be waiting: at start (an earlier run's) and after a spill. */
  private spoolPending: boolean;
  private retryAt = 0;
  private failuresInRow = 0;
  private closed = false;
  private readonly instanceId = randomBytes(6).toString('hex');
  private seq = 0;
  private readonly counts = { written: 0, write_failures: 0, spooled: 0, replayed: 0, dropped: 0 };
  private readonly batchSize: number;
  private readonly bufferMax: number;
  private readonly writeTimeoutMs: number;
  private readonly retryMaxMs: number;
  private readonly closeTimeoutMs: number;
  private readonly writeAtOnce: boolean;
  private readonly log: NonNullable<BatchingLedgerOptions['log']>;

  constructor(store: S, options: BatchingLedgerOptions = {}) {
    this.store = store;
    this.batchSize = options.batchSize ?? 200;
    this.bufferMax = options.bufferMax ?? 50_000;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 5000;
    this.retryMaxMs = options.retryMaxMs ?? 5000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5000;
    this.writeAtOnce = options.writeAtOnce ?? false;
    this.log = options.log ?? { warn() {}, info() {}, error() {} };
    this.spool = store.durable ? new Spool(options.spoolDir ?? '.ledger-spool', store.scope, this.instanceId) : undefined;
    this.spoolPending = this.spool !== undefined;
    this.timer = setInterval(() => this.tick(), options.flushIntervalMs ?? 250);
    this.timer.unref();
  }

  record(record: LedgerRecord): void {
    notifyListeners(this.listeners, record, (err) => this.log.error({ err }, 'a ledger listener failed'));
    if (this.closed) {
      // A call that outlived shutdown (a stream past the grace period): straight to the spool.
      // The memory store is gone with the process anyway.
      const spool = this.spool;
      if (spool) {
        // Nothing awaits this: a failed seal (the rename) must be logged, not left to reject unhandled.
        this.writeSpool(this.toBatches([record]))
          .then(() => spool.seal())
          .catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'cannot close the ledger spool file'));
      }
      return;
    }
    if (this.queue.length < this.bufferMax) {
      this.queue.push(record);
      const due = this.queue.length >= this.batchSize || (this.writeAtOnce && this.draining === undefined);
      if (due && !this.drainSoon && Date.now() >= this.retryAt) {
        // Never write from inside record(): the caller is on the request path.
        this.drainSoon = true;
        setImmediate(() => {
          this.drainSoon = false;
          void this.drain().catch(() => undefined);
        });
      }
      return;
    }
    this.overflow.push(record);
    if (this.overflow.length >= this.batchSize) void this.spill();
  }

  onRecord(listener: LedgerListener): () => void {
    return addListener(this.listeners, listener);
  }

  stats(): LedgerStats {
    return {
      queued: this.queue.length + (this.inHand?.records.length ?? 0) + this.overflow.length,
      ...this.counts,
      store_ok: this.failuresInRow === 0,
    };
  }

  private nextId(): string {
    return `${this.instanceId}.${++this.seq}`;
  }

  private tick(): void {
    if (this.overflow.length > 0) void this.spill();
    if (Date.now() < this.retryAt) return;
    const hasRecords = this.inHand !== undefined || this.queue.length > 0;
    if (hasRecords && !this.draining) void this.drain().catch(() => undefined);
    if (this.spoolPending && !this.replaying) void this.replay().catch(() => undefined);
  }

  /**
   * Replays the spool beside the drain, not inside it: a settlement recorded while the spool
   * is read (a directory read, slow on a busy disk) is what the caller's next call is admitted
   * against, and it used to wait for the replay, so that call could be admitted first. Batches
   * carry their ids and the stores count each once, so the two lanes may write in any order.
   */
  private replay(): Promise<void> {
    this.replaying ??= this.replaySpool().finally(() => {
      this.replaying = undefined;
    });
    return this.replaying;
  }

  /** One drain at a time; resolves when the queue is written, rejects on a store failure. */
  private drain(): Promise<void> {
    // Spool files waiting (an earlier run's, at start) are replayed as soon as records flow, in their own lane.
    if (this.spoolPending && !this.replaying) void this.replay().catch(() => undefined);
    this.draining ??= this.runDrain().finally(() => {
      this.draining = undefined;
      // A record that came as this drain was ending found it still running and did not start one.
      if (this.writeAtOnce && this.queue.length > 0 && !this.closed && Date.now() >= this.retryAt) void this.drain().catch(() => undefined);
    });
    return this.draining;
  }

  private async writeBatch(batch: LedgerBatch): Promise<void> {
    try {
      await withTimeout(this.store.write(batch), this.writeTimeoutMs, () => new WriteTimeout(this.writeTimeoutMs));
    } catch (err) {
      this.counts.write_failures++;
      this.failuresInRow++;
      const delay = Math.min(RETRY_BASE_MS * 2 ** Math.min(this.failuresInRow - 1, 16), this.retryMaxMs);
      this.retryAt = Date.now() + delay;
      if (this.failuresInRow === 1) {
        this.log.warn({ err: (err as Error).message, queued: this.stats().queued }, 'ledger store write failed; buffering records and retrying');
      }
      throw err;
    }
    if (this.failuresInRow > 0) this.log.info({ failed_writes: this.failuresInRow }, 'ledger store is writable again');
    this.failuresInRow = 0;
    this.retryAt = 0;
  }

  private async runDrain(): Promise<void> {
    while (!this.closed) {
      if (!this.inHand) {
        if (this.queue.length === 0) break;
        this.inHand = { id: this.nextId(), records: this.queue.take(this.batchSize) };
      }
      const batch = this.inHand;
      await this.writeBatch(batch);
      this.counts.written += batch.records.length;
      // close() may have spooled this batch meanwhile; the store took it, and the replay will be a no-op.
      if (this.inHand === batch) this.inHand = undefined;
    }
  }

  /** Writes every spool file of this store's scope; a file is deleted only once all its batches are in. */
  private async replaySpool(): Promise<void> {
    if (!this.spool) return;
    if (this.spilling) await this.spilling;
    this.spoolPending = false;
    let files;
    try {
      files = await this.spool.claim();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'cannot read the ledger spool');
      return;
    }
    for (let f = 0; f < files.length; f++) {
      const file = files[f]!;
      try {
        for (const batch of file.batches) {
          await this.writeBatch(batch);
          this.counts.replayed += batch.records.length;
          this.counts.written += batch.records.length;
        }
      } catch (err) {
        for (const rest of files.slice(f)) await rest.release();
        this.spoolPending = true;
        throw err;
      }
      await file.done();
    }
    if (files.length > 0) {
      const records = files.reduce((n, file) => n + file.batches.reduce((m, b) => m + b.records.length, 0), 0);
      this.log.info({ files: files.length, records }, 'replayed the ledger spool');
    }
  }

  /** Moves overflow records to the spool file, in batches with fresh ids. */
  private spill(): Promise<void> {
    if (this.spilling || this.overflow.length === 0) return this.spilling ?? Promise.resolve();
    const records = this.overflow;
    this.overflow = [];
    this.spilling = this.writeSpool(this.toBatches(records)).finally(() => {
      this.spilling = undefined;
    });
    return this.spilling;
  }

  private toBatches(records: readonly LedgerRecord[]): LedgerBatch[] {
    const batches: LedgerBatch[] = [];
    for (let at = 0; at < records.length; at += this.batchSize) {
      batches.push({ id: this.nextId(), records: records.slice(at, at + this.batchSize) });
    }
    return batches;
  }

  private async writeSpool(batches: LedgerBatch[]): Promise<void> {
    const count = batches.reduce((n, b) => n + b.records.length, 0);
    if (count === 0) return;
    if (!this.spool) {
      // A memory store never fails, so this is only reached if it does: nowhere durable to put them.
      this.counts.dropped += count;
      this.log.error({ records: count }, 'ledger records dropped: the store failed and has no spool');
      return;
    }
    try {
      await this.spool.append(batches);
      this.counts.spooled += count;
      this.spoolPending = true;
    } catch (err) {
      this.counts.dropped += count;
      this.log.error({ err: (err as Error).message, records: count }, 'ledger records dropped: cannot write the spool file');
    }
  }

  async flush(): Promise<void> {
    if (this.overflow.length > 0) await this.spill();
    // A drain that stopped on a failure is retried at once: flush means "now".
    for (;;) {
      if (this.draining) await this.draining.catch(() => undefined);
      if (this.replaying) await this.replaying.catch(() => undefined);
      const hasRecords = this.inHand !== undefined || this.queue.length > 0;
      if ((!hasRecords && !this.spoolPending) || this.closed) return;
      await Promise.all([hasRecords ? this.drain() : undefined, this.spoolPending ? this.replay() : undefined]);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.closeTimeoutMs);
    });
    await Promise.race([this.flush().catch(() => undefined), gaveUp]);
    clearTimeout(timer);
    this.closed = true;
    // Whatever the store did not confirm goes to the spool; the batch in hand keeps its id.
    const left: LedgerBatch[] = [];
    if (this.inHand) left.push(this.inHand);
    this.inHand = undefined;
    left.push(...this.toBatches(this.queue.take(Number.MAX_SAFE_INTEGER)), ...this.toBatches(this.overflow));
    this.overflow = [];
    if (this.spilling) await this.spilling;
    await this.writeSpool(left);
    if (this.spool) {
      await this.spool.seal().catch(() => undefined);
      const count = left.reduce((n, batch) => n + batch.records.length, 0);
      if (count > 0) this.log.warn({ records: count }, 'ledger store unreachable at shutdown: records saved to the spool for the next start');
    }
    await this.store.close();
  }
}
