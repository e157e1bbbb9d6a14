import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { exposureOf } from './exposure.js';
import { settleHeapAfterStart } from './settle-heap.js';

const file = process.env.GATEWAY_CONFIG ?? 'config/gateway.yaml';

async function main(): Promise<void> {
  let config;
  try {
    config = await loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${file}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const exposure = exposureOf(config, process.env);
  if (exposure.refuse) {
    process.stderr.write(`${exposure.refuse}\n`);
    process.exit(1);
  }
  // The file's path lets admin config changes be written back to it (no Redis, `?persist=true`).
  const app = await buildApp(config, { configPath: file });
  if (exposure.warn) app.log.warn(exposure.warn);
  const address = await app.listen({ host: config.server.host, port: config.server.port });
  // Printed whatever the log level, so scripts (and people) know where it listens.
  process.stdout.write(`konnect gateway listening at ${address}\n`);
  settleHeapAfterStart(app.log);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal, grace_ms: config.server.shutdown_grace_ms }, 'stopping: no new connections, draining in-flight requests');
    // Past the grace period, open streams are cut so the process does exit.
    const timer = setTimeout(() => {
      app.log.warn('grace period over, closing remaining connections');
      app.server.closeAllConnections();
    }, config.server.shutdown_grace_ms);
    timer.unref();
    // Node closes idle keep-alive sockets once, when closing starts; a connection whose stream
    // ends later would hold the exit until the client drops it, so sweep while draining.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 200);
    sweep.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`the gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
