import Fastify from 'fastify';
import { Pool } from 'undici';
const upstream = process.argv[2];
const pool = new Pool(upstream, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
const app = Fastify({ logger: false });
const HOP = new Set(['connection','keep-alive','transfer-encoding','te','trailer','upgrade','proxy-connection','proxy-authenticate']);
class H {
  constructor(res){this.res=res;}
  onConnect(abort){this.abort=abort;}
  onHeaders(status, raw, resume){
    const res=this.res;
    for(let i=0;i<raw.length;i+=2){const k=raw[i].toString('latin1').toLowerCase();if(HOP.has(k))continue;res.setHeader(k, raw[i+1].toString('latin1'));}
    res.statusCode=status; this.resume=resume; return true;
  }
  onData(chunk){ return this.res.write(chunk); }
  onComplete(){ this.res.end(); }
  onError(err){ if(!this.res.headersSent){this.res.statusCode=502;this.res.end('{"error":"bad gateway"}');} else this.res.destroy(err); }
}
app.get('/*', (request, reply) => {
  reply.hijack();
  const h = new H(reply.raw);
  reply.raw.on('drain', ()=>h.resume?.());
  pool.dispatch({ method: 'GET', path: request.url, headers: { host: '127.0.0.1' } }, h);
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`floor listening at ${address}\n`);
