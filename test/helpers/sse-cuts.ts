/** Writing an SSE answer at awkward byte boundaries, for the wire-client suites of every provider. */
import type { ServerResponse } from 'node:http';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

/** Writes `bytes` as a 200 event stream, one write per piece between `cuts`, each leaving on its own. */
export async function writeSse(res: ServerResponse, bytes: Buffer, cuts: number[], end: 'end' | 'destroy' = 'end'): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= start) continue;
    res.write(bytes.subarray(start, cut));
    start = cut;
    await tick();
  }
  if (end === 'destroy') res.socket?.destroy();
  else res.end();
}

/** Offsets that fall between `\r` and `\n`, and inside every multi-byte UTF-8 character. */
export function awkwardCuts(bytes: Buffer): number[] {
  const cuts = new Set<number>();
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 0x0d && bytes[i + 1] === 0x0a) cuts.add(i + 1);
    if (byte >= 0xc0) cuts.add(i + 1); // after a lead byte: the character is cut after its first byte
    if (byte >= 0xf0) cuts.add(i + 3); // a four-byte character is also cut before its last byte
  }
  return [...cuts].sort((a, b) => a - b);
}
