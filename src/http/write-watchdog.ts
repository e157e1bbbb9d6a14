/**
 * Cuts a response whose client stopped reading. Backpressure keeps the gateway from buffering
 * for such a client, but it also keeps the stream, and the upstream connection feeding it,
 * open for as long as the client likes: a few hundred such clients starve a pool. Node has no
 * "write stalled" event (a socket's own timeout also counts reads, and `drain` only comes when
 * the whole buffer is empty), so this samples the socket a few times per idle period.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Samples per idle period: a stall is cut between `idleMs` and `1.25 × idleMs` after the last byte moved. */
const SAMPLES_PER_PERIOD = 4;

/**
 * Bytes the kernel took: `bytesWritten` counts what was handed to the socket, `writableLength`
 * what of it is still waiting in Node. Moves once per completed write, so a client reading
 * slower than one chunk per idle period counts as stalled.
 */
function bytesFlushed(socket: Socket): number {
  return socket.bytesWritten - socket.writableLength;
}

/** One watched response. */
interface Watch {
  res: ServerResponse;
  socket: Socket;
  idleMs: number;
  now: () => number;
  flushed: number;
  movedAt: number;
}

/**
 * Watches sampled together, one timer per sampling period. Every proxied answer is watched and
 * almost all finish within a sample: a Set entry costs them less than a timer of their own.
 */
const groups = new Map<number, { timer: NodeJS.Timeout; watches: Set<Watch> }>();

function sampleAll(watches: Set<Watch>): void {
  for (const watch of watches) {
    const current = bytesFlushed(watch.socket);
    if (watch.res.writableLength === 0 || current !== watch.flushed) {
      watch.flushed = current;
      watch.movedAt = watch.now();
      continue;
    }
    if (watch.now() - watch.movedAt < watch.idleMs) continue;
    unwatch(watch);
    watch.res.destroy();
  }
}

function unwatch(watch: Watch): void {
  const period = samplePeriod(watch.idleMs);
  const group = groups.get(period);
  if (!group?.watches.delete(watch) || group.watches.size > 0) return;
  clearInterval(group.timer);
  groups.delete(period);
}

function samplePeriod(idleMs: number): number {
  return Math.max(1, Math.ceil(idleMs / SAMPLES_PER_PERIOD));
}

/**
 * Watches `res` until it finishes or closes, and destroys it once bytes have been waiting
 * with none moving for `idleMs`. Nothing waiting (a slow upstream, an idle stream) is not a
 * stall: the upstream's own timeout covers that. Returns a function that stops watching.
 */
export function watchWriteProgress(res: ServerResponse, idleMs: number, now: () => number = Date.now): () => void {
  const socket = res.socket;
  // No socket yet: a response queued behind another on a pipelined connection. Rare enough to leave.
  if (!socket || res.destroyed) return () => undefined;
  const watch: Watch = { res, socket, idleMs, now, flushed: bytesFlushed(socket), movedAt: now() };
  const period = samplePeriod(idleMs);
  let group = groups.get(period);
  if (!group) {
    const watches = new Set<Watch>();
    const timer = setInterval(() => sampleAll(watches), period);
    // A watch never keeps the process alive: the response's own socket does, or nothing should.
    timer.unref();
    group = { timer, watches };
    groups.set(period, group);
  }
  group.watches.add(watch);
  const stop = (): void => {
    unwatch(watch);
    res.off('finish', stop);
    res.off('close', stop);
  };
  res.once('finish', stop);
  res.once('close', stop);
  return stop;
}
