/**
 * The benchmark's floor: the least a Node proxy of the fake upstream can cost. A bare Fastify
 * with `@fastify/reply-from` and nothing else (no logging, no auth, no ledger, no routing): it
 * parses the JSON body of `POST /v1/chat/completions` (as any proxy that reads the model must)
 * and forwards it, streams included, byte for byte; every `GET` goes through as is (the
 * "floor rest" scenario). `npm run bench` compares the gateway's CPU per request with this.
 *
 * Usage: node dist/load-tests/floor-proxy.js <upstream url>; prints
 * `floor listening at http://127.0.0.1:<port>` once ready.
 */
import Fastify from 'fastify';
import replyFrom from '@fastify/reply-from';

const upstream = process.argv[2] ?? process.env.FLOOR_UPSTREAM;
if (!upstream) {
  process.stderr.write('usage: floor-proxy <upstream url>\n');
  process.exit(2);
}

const app = Fastify({ logger: false });
// One keep-alive pool to the upstream, as the gateway keeps one per provider.
await app.register(replyFrom, { base: upstream, undici: { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 } });
app.post('/v1/chat/completions', (request, reply) => reply.from(request.url));
app.get('/*', (request, reply) => reply.from(request.url));

const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`floor listening at ${address}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
