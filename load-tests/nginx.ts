/**
 * nginx as a reverse proxy in front of one upstream, for the benchmark's "gateway vs nginx"
 * comparison. It runs in the foreground (`daemon off`) from a temporary prefix directory on a
 * free loopback port, proxies with upstream keep-alive and without buffering (as the gateway
 * streams), and stops with `stop()` or when this process exits.
 *
 * `startNginx` rejects when no nginx binary is found (set NGINX_BIN, or install nginx).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningNginx {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Worker processes; 1 by default, the same one core a gateway instance has. */
  workers?: number;
  /** ms to wait for the port to accept connections. */
  startTimeoutMs?: number;
}

/** The nginx binary to use, or undefined when there is none. */
export function findNginx(): string | undefined {
  const candidates = [process.env.NGINX_BIN, 'nginx', '/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'];
  for (const bin of candidates) {
    if (!bin) continue;
    if (bin.includes('/') && !existsSync(bin)) continue;
    const probe = spawnSync(bin, ['-v'], { stdio: 'ignore' });
    if (probe.status === 0) return bin;
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(200, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => done(true));
  });
}

function configFor(dir: string, port: number, upstream: URL, workers: number): string {
  const path = upstream.pathname.replace(/\/+$/, '');
  return `worker_processes ${workers};
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  client_max_body_size 10m;
  upstream backend {
    server ${upstream.host};
    keepalive 128;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backend${path};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $proxy_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 10s;
    }
  }
}
`;
}

/** Starts nginx proxying every path to `upstreamUrl` (its path, if any, is prepended). */
export async function startNginx(upstreamUrl: string, options: NginxOptions = {}): Promise<RunningNginx> {
  const bin = findNginx();
  if (!bin) throw new Error('nginx is not installed (apt-get install nginx, or set NGINX_BIN)');
  const upstream = new URL(upstreamUrl);
  if (upstream.protocol !== 'http:') throw new Error(`startNginx: only http:// upstreams (got ${upstreamUrl})`);
  const dir = mkdtempSync(join(tmpdir(), 'konnect-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, configFor(dir, port, upstream, options.workers ?? 1));

  // `-e` sends start-up errors to our directory instead of /var/log/nginx, which may not be writable.
  const child: ChildProcess = spawn(bin, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  // SIGTERM, not SIGKILL: the master then stops its workers, which would outlive a killed master.
  const killOnExit = () => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    if (!exited) {
      // SIGTERM is nginx's fast shutdown: the master stops its workers and exits.
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitedPromise;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 5000);
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not start on port ${port}: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `http://127.0.0.1:${port}`, stop };
}
