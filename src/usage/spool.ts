/**
 * The ledger's local spool: batches that could not reach the store (buffer full while it is
 * down, or shutdown before it came back) are appended to NDJSON files and replayed later,
 * by this process or the next start. Batch ids travel with the records, so a replay of a
 * batch the store already took counts once.
 *
 * Files: `ledger-<scope>-<pid>-<instance>-<n>.ndjson.part` while being appended, renamed to
 * `.ndjson` when complete (only complete files are replayed while their writer lives), and
 * to `.ndjson.replay-<pid>-<instance>` while one process replays them. Files of a dead
 * process are taken over. `<scope>` hashes the store's address, so gateways on other Redis
 * databases or prefixes sharing a directory leave each other's files alone.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { LedgerBatch } from './ledger-store.js';

export interface SpooledFile {
  batches: LedgerBatch[];
  /** The file's batches are in the store: delete it. */
  done(): Promise<void>;
  /** Replay failed: give the file back for a later attempt. */
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseBatches(text: string): LedgerBatch[] {
  const out: LedgerBatch[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const batch = JSON.parse(line) as LedgerBatch;
      if (typeof batch.id === 'string' && Array.isArray(batch.records)) out.push(batch);
    } catch {
      // A torn last line from a crash mid-append: its batch was never acknowledged as spooled.
    }
  }
  return out;
}

export class Spool {
  private readonly filePrefix: string;
  private readonly own: string;
  private segment = 0;
  private hasOpenSegment = false;
  private chain: Promise<unknown> = Promise.resolve();
  private madeDir = false;

  constructor(
    private readonly dir: string,
    scope: string,
    instanceId: string,
  ) {
    this.filePrefix = `ledger-${createHash('sha256').update(scope).digest('hex').slice(0, 12)}-`;
    this.own = `${process.pid}-${instanceId}`;
  }

  private segmentName(): string {
    return `${this.filePrefix}${this.own}-${this.segment}.ndjson`;
  }

  /** Runs file operations one at a time, in call order. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.chain.then(task, task);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Appends batches to the open segment; resolves once they are on disk (page cache). */
  append(batches: readonly LedgerBatch[]): Promise<void> {
    if (batches.length === 0) return Promise.resolve();
    const text = batches.map((batch) => JSON.stringify(batch)).join('\n') + '\n';
    return this.serial(async () => {
      if (!this.madeDir) {
        await mkdir(this.dir, { recursive: true });
        this.madeDir = true;
      }
      await appendFile(join(this.dir, `${this.segmentName()}.part`), text);
      this.hasOpenSegment = true;
    });
  }

  /** Closes the open segment, making it replayable by anyone. */
  seal(): Promise<void> {
    return this.serial(async () => {
      if (!this.hasOpenSegment) return;
      const name = this.segmentName();
      this.segment++;
      this.hasOpenSegment = false;
      await rename(join(this.dir, `${name}.part`), join(this.dir, name));
    });
  }

  /** Seals the open segment, then takes every replayable file of this scope. */
  async claim(): Promise<SpooledFile[]> {
    await this.seal();
    return this.serial(async () => {
      let names: string[];
      try {
        names = await readdir(this.dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      const files: SpooledFile[] = [];
      for (const name of names) {
        if (!name.startsWith(this.filePrefix)) continue;
        const base = this.replayableBase(name);
        if (!base) continue;
        const claimed = join(this.dir, `${base}.replay-${this.own}`);
        try {
          await rename(join(this.dir, name), claimed);
        } catch {
          continue; // another process took it first
        }
        const batches = parseBatches(await readFile(claimed, 'utf8'));
        files.push({
          batches,
          done: () => unlink(claimed).catch(() => undefined),
          release: () => rename(claimed, join(this.dir, base)).catch(() => undefined),
        });
      }
      return files;
    });
  }

  /** The sealed file name a spool file stands for, when it may be replayed now. */
  private replayableBase(name: string): string | undefined {
    if (name.endsWith('.ndjson')) return name;
    const pidOf = (owner: string) => Number(owner.split('-')[0]);
    if (name.endsWith('.ndjson.part')) {
      const base = name.slice(0, -'.part'.length);
      const owner = base.slice(this.filePrefix.length);
      return isAlive(pidOf(owner)) ? undefined : base;
    }
    const at = name.indexOf('.ndjson.replay-');
    if (at > 0) {
      const claimer = name.slice(at + '.ndjson.replay-'.length);
      return isAlive(pidOf(claimer)) ? undefined : name.slice(0, at + '.ndjson'.length);
    }
    return undefined;
  }
}
