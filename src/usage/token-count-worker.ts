/**
 * Worker thread of TokenWorkerPool: counts long texts exactly, off the main event loop. Its own
 * o200k_base tokenizer loads on its first count (exact-count.ts), not when the worker starts.
 */
import { constants, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { countTextTokensExact } from './exact-count.js';
import type { CountRequest, WorkerMessage } from './token-worker-pool.js';

if (!parentPort) throw new Error('token-count-worker.ts runs as a worker thread of TokenWorkerPool, not as a script');
const port = parentPort;

/*
 * Counting is background work next to the event loop that serves every request: on a busy box the
 * scheduler should run the event loop first. On Linux setpriority(pid 0) applies to the calling
 * thread only, so this lowers this worker and not the process; elsewhere it would nice the whole
 * process, so it is left alone there.
 */
if (process.platform === 'linux') {
  try {
    setPriority(0, constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // Not allowed in this sandbox: counting still works, only without the hint.
  }
}

function post(message: WorkerMessage): void {
  port.postMessage(message);
}

port.on('message', (request: CountRequest) => {
  try {
    let tokens = 0;
    for (const text of request.texts) tokens += countTextTokensExact(text);
    post({ kind: 'counted', id: request.id, tokens });
  } catch (error) {
    post({ kind: 'failed', id: request.id, error: error instanceof Error ? error.message : String(error) });
    // A throw mid-count may leave the tokenizer's scratch state half-written; a fresh worker starts clean.
    process.exit(1);
  }
});

// Reached only once the imports above have loaded (the vocabulary loads on the first count).
post({ kind: 'ready' });
