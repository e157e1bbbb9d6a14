/**
 * `/ui`: the console, plain ES modules and CSS from `src/ui`, plus uPlot's browser build from
 * node_modules. Files are read once at start into memory: only files that exist then are
 * served (no path from a request ever reaches the file system), each with its content type,
 * a strong ETag and `cache-control: no-cache` so browsers revalidate cheaply (304) and never
 * run a stale module after an upgrade. The page itself only calls the admin API.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * The page loads nothing from elsewhere and runs no inline script. uPlot sizes its elements
 * through the CSSOM, which `style-src 'self'` allows; the CSV export is a `blob:` download.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function toAsset(path: string): Asset | undefined {
  const type = CONTENT_TYPES[extname(path)];
  if (!type) return undefined;
  const body = readFileSync(path);
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/** `src/ui` when running from source (tsx), and from `dist/` after `npm run build`. */
function defaultUiDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'ui'), join(here, '..', '..', '..', 'src', 'ui')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0]!;
}

/** The assets by URL path under `/ui/`: the console's files, then `vendor/` from node_modules. */
export function loadUiAssets(uiDir = defaultUiDir()): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const path of listFiles(uiDir)) {
    const asset = toAsset(path);
    if (asset) assets.set(relative(uiDir, path).split(sep).join('/'), asset);
  }
  const uplotDir = dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
  for (const [name, file] of [['vendor/uplot.esm.js', 'dist/uPlot.esm.js'], ['vendor/uplot.min.css', 'dist/uPlot.min.css']] as const) {
    assets.set(name, toAsset(join(uplotDir, file))!);
  }
  return assets;
}

export function registerUi(app: FastifyInstance, options: { uiDir?: string } = {}): void {
  const assets = loadUiAssets(options.uiDir);

  app.get('/ui', async (_request, reply) => reply.redirect('/ui/', 302));
  app.get('/ui/*', async (request, reply) => {
    const path = (request.params as { '*': string })['*'] || 'index.html';
    const asset = assets.get(path);
    if (!asset) throw new GatewayError('not_found', `no console file at /ui/${path}`);
    reply.headers({ ...SECURITY_HEADERS, 'content-type': asset.type, etag: asset.etag, 'cache-control': 'no-cache' });
    const known = request.headers['if-none-match']?.split(',').map((tag) => tag.trim());
    if (known?.includes(asset.etag)) return reply.code(304).send();
    return reply.send(asset.body);
  });
}
