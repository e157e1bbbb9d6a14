import type { GatewayConfig } from './config/types.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * What start-up says about who can reach this gateway: one line when it listens beyond
 * loopback without a master key (anyone may run the admin API) or without `require_keys`
 * (anyone may spend the provider keys); a refusal to start when the environment demands a
 * master key (`GATEWAY_REQUIRE_MASTER_KEY=1`, as the container image sets) and there is none.
 */
export function exposureOf(config: GatewayConfig, env: NodeJS.ProcessEnv): { refuse?: string; warn?: string } {
  const { host } = config.server;
  const hasMaster = config.auth.master_key !== '';
  if (env.GATEWAY_REQUIRE_MASTER_KEY === '1' && !hasMaster) {
    return { refuse: 'GATEWAY_REQUIRE_MASTER_KEY=1 but no master key is set: set GATEWAY_MASTER_KEY (auth.master_key)' };
  }
  if (LOOPBACK.test(host)) return {};
  const open: string[] = [];
  if (!hasMaster) open.push('no master key (the admin API and console are off until GATEWAY_MASTER_KEY is set)');
  if (!config.auth.require_keys) open.push('auth.require_keys is false (anyone who reaches it spends your provider keys)');
  return open.length > 0 ? { warn: `listening on ${host}, beyond loopback, with ${open.join(' and ')}` } : {};
}
