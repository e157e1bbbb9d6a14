import { Worker } from 'node:worker_threads';

/** What the pool posts to a worker: all texts of one count in one message, so one structured clone per count. */
export interface CountRequest {
  id: number;
  texts: readonly string[];
}

/**
 * What a worker posts: `ready` once its modules have loaded, then per
 * request the summed exact count of its texts, or why it could not count them.
 */
export type WorkerMessage = { kind: 'ready' } | { kind: 'counted'; id: number; tokens: number } | { kind: 'failed'; id: number; error: string };

/** The queue is full: the caller decides whether to refuse the request or fall back to upperBoundTextTokens. */
export class TokenCounterBusyError extends Error {
  constructor(queued: number) {
    super(`token counter busy: ${queued} counts already queued`);
    this.name = 'TokenCounterBusyError';
  }
}

export class TokenCounterClosedError extends Error {
  constructor() {
    super('token counter closed');
    this.name = 'TokenCounterClosedError';
  }
}

interface Job {
  id: number;
  texts: readonly string[];
  resolve: (tokens: number) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  /** Whether its script loaded: one that dies before that is broken, not unlucky, and so would the next. */
  ready: boolean;
}

/*
 * Under tsx (npm start) and vitest this module is the .ts source and the worker must be too; compiled
 * (dist/) both are .js. The extension of this module's own URL says which build runs.
 */
const RUNNING_FROM_SOURCE = new URL(import.meta.url).pathname.endsWith('.ts');
const WORKER_URL = new URL(`./token-count-worker.${RUNNING_FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url);

/**
 * A worker does not inherit vitest's transform, and on Node 20 `execArgv: ['--import', 'tsx']` does
 * not help either (tsx registers its hooks on the main thread only: the worker still fails with
 * ERR_UNKNOWN_FILE_EXTENSION). So a .ts worker starts from a small script that registers tsx's ESM
 * hooks in the worker itself, then imports the worker module. tsx is resolved from this file, so
 * the process's cwd does not matter; compiled builds never load tsx.
 */
function startWorker(): Worker {
  if (!RUNNING_FROM_SOURCE) return new Worker(WORKER_URL, { name: 'token-counter' });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(bootstrap, { eval: true, name: 'token-counter' });
}

/**
 * Counts long texts in worker threads, so that the event loop only pays for handing a text over
 * (10-35 ms for 10 MB, one- or two-byte string) and not for the counting (0.3-0.7 s per MB).
 *
 * Workers start on the first count, one at a time up to `size`; each counts one job at a time and
 * the rest wait here, in order, up to `maxQueued`. Waiting jobs are references to strings the caller
 * already holds, so the queue costs no copies; only a job being counted is copied into a worker.
 * An idle worker is unref'd and never keeps the process alive; a busy one is ref'd until it answers,
 * because someone awaits that answer (a script's top-level await would otherwise end with exit 13).
 */
export class TokenWorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly maxQueued: number,
  ) {}

  /** The summed exact count of `texts`, counted in a worker. */
  count(texts: readonly string[]): Promise<number> {
    if (this.closed) return Promise.reject(new TokenCounterClosedError());
    return new Promise<number>((resolve, reject) => {
      const job: Job = { id: this.nextId++, texts, resolve, reject };
      const slot = this.freeSlot();
      if (slot) this.start(slot, job);
      else if (this.queue.length >= this.maxQueued) reject(new TokenCounterBusyError(this.queue.length));
      else this.queue.push(job);
    });
  }

  /** Terminates the workers; counts still queued or running reject with TokenCounterClosedError. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new TokenCounterClosedError();
    for (const job of this.queue.splice(0)) job.reject(error);
    const slots = [...this.slots];
    // Forgotten before terminating, so their exit events find nothing to retire.
    this.slots.clear();
    for (const slot of slots) slot.job?.reject(error);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  private freeSlot(): Slot | undefined {
    for (const slot of this.slots) if (!slot.job) return slot;
    return this.slots.size < this.size ? this.spawn() : undefined;
  }

  private spawn(): Slot {
    const worker = startWorker();
    worker.unref();
    const slot: Slot = { worker, job: undefined, ready: false };
    this.slots.add(slot);
    worker.on('message', (message: WorkerMessage) => this.settle(slot, message));
    worker.on('error', (error: Error) => this.retire(slot, error));
    worker.on('exit', (code: number) => this.retire(slot, new Error(`token counter worker exited with code ${code}`)));
    return slot;
  }

  private start(slot: Slot, job: Job): void {
    slot.job = job;
    slot.worker.ref();
    const request: CountRequest = { id: job.id, texts: job.texts };
    try {
      slot.worker.postMessage(request);
    } catch (error) {
      // Strings always clone; this is a worker that is already gone. Its exit event retires it.
      slot.job = undefined;
      slot.worker.unref();
      job.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private settle(slot: Slot, message: WorkerMessage): void {
    if (message.kind === 'ready') {
      slot.ready = true;
      return;
    }
    const job = slot.job;
    if (!job || job.id !== message.id) return;
    slot.job = undefined;
    if (message.kind === 'failed') {
      job.reject(new Error(`token counting failed: ${message.error}`));
      // The worker exits after a failure (its encoder may be broken): the next job goes to a fresh one.
      this.retire(slot, new Error('token counter worker restarted'));
      void slot.worker.terminate();
      return;
    }
    job.resolve(message.tokens);
    const next = this.queue.shift();
    if (next) this.start(slot, next);
    else slot.worker.unref();
  }

  /** A worker died (crash, abort, failed to load): its job fails, and waiting jobs go to a fresh worker. */
  private retire(slot: Slot, error: Error): void {
    if (!this.slots.delete(slot)) return;
    slot.job?.reject(error);
    slot.job = undefined;
    if (!slot.ready && ![...this.slots].some((other) => other.ready)) {
      // Its script does not load here, and a new worker would fail the same way: fail the waiting jobs now.
      for (const job of this.queue.splice(0)) job.reject(error);
      return;
    }
    const next = this.queue.shift();
    if (!next) return;
    const fresh = this.freeSlot();
    if (fresh) this.start(fresh, next);
    else this.queue.unshift(next);
  }
}
