/** Ports for tests that need one before anything listens on it. */
import { createServer } from 'node:net';

/**
 * A port free on 127.0.0.1 right now: bind one on port 0, then let it go. Until something
 * else takes it, connections to it are refused.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A port nothing listens on, for upstreams whose connections must be refused. */
export const closedPort = freePort;
