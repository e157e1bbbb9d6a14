/** Health of one deployment as a circuit breaker, driven by an explicit clock. */
import { describe, expect, it } from 'vitest';
import { DeploymentHealth } from '../src/routing/cooldown.js';

const policy = { failuresToCool: 3, cooldownMs: 1000, maxCooldownMs: 3000 };

function failTimes(health: DeploymentHealth, n: number, now: number): Array<number | undefined> {
  return Array.from({ length: n }, () => health.fail(now));
}

describe('DeploymentHealth', () => {
  it('cools down after consecutive failures, not after scattered ones', () => {
    const health = new DeploymentHealth(policy);
    expect(failTimes(health, 2, 0)).toEqual([undefined, undefined]);
    health.succeed();
    expect(failTimes(health, 2, 0)).toEqual([undefined, undefined]);
    expect(health.canTake(0)).toBe(true);
    expect(health.fail(10)).toBe(1010);
    expect(health.state(10)).toBe('cooldown');
    expect(health.canTake(500)).toBe(false);
  });

  it('lets one probe through after the cooldown, and full traffic after it succeeds', () => {
    const health = new DeploymentHealth(policy);
    failTimes(health, 3, 0);
    expect(health.canTake(999)).toBe(false);
    expect(health.canTake(1000)).toBe(true);
    health.begin();
    expect(health.isProbing).toBe(true);
    // While the probe is out, nobody else goes.
    expect(health.canTake(1001)).toBe(false);
    expect(health.state(1001)).toBe('cooldown');
    health.succeed();
    expect(health.canTake(1002)).toBe(true);
    expect(health.state(1002)).toBe('healthy');
    health.begin();
    expect(health.isProbing).toBe(false);
  });

  it('cools down again, twice as long, when the probe fails, up to the maximum', () => {
    const health = new DeploymentHealth(policy);
    failTimes(health, 3, 0);
    health.begin();
    expect(health.fail(1000)).toBe(3000);
    health.begin();
    expect(health.fail(3000)).toBe(6000);
    health.begin();
    expect(health.fail(6000)).toBe(9000); // capped at maxCooldownMs
    health.begin();
    health.succeed();
    // A success resets the doubling.
    expect(failTimes(health, 3, 10_000).at(-1)).toBe(11_000);
  });

  it('reports a cooldown that ran out as over, even before any request probes it', () => {
    const health = new DeploymentHealth(policy);
    failTimes(health, 3, 0);
    expect(health.state(999)).toBe('cooldown');
    expect(health.state(1000)).toBe('healthy');
    expect(health.state(60_000)).toBe('healthy');
    expect(health.isProbing).toBe(false);
  });

  it('ends a cooldown early when the deployment answers anyway', () => {
    const health = new DeploymentHealth(policy);
    failTimes(health, 3, 0);
    health.begin();
    health.succeed();
    expect(health.state(10)).toBe('healthy');
    expect(health.canTake(10)).toBe(true);
  });

  it('lets another request probe when the probe ended without a verdict', () => {
    const health = new DeploymentHealth(policy);
    failTimes(health, 3, 0);
    health.begin();
    health.abandon();
    expect(health.canTake(1000)).toBe(true);
  });

  it('blocks until retry-after on a 429 at once, without needing a probe', () => {
    const health = new DeploymentHealth(policy);
    expect(health.fail(0, 2500)).toBe(2500);
    expect(health.canTake(2499)).toBe(false);
    expect(health.blockedUntil(100)).toBe(2500);
    expect(health.canTake(2500)).toBe(true);
    expect(health.state(2500)).toBe('healthy');
  });

  it('does not treat a cooldown as a short block worth waiting for', () => {
    const health = new DeploymentHealth(policy);
    failTimes(health, 3, 0);
    expect(health.blockedUntil(10)).toBeUndefined();
  });

  it('takes a longer cooldown from another instance and probes after it', () => {
    const health = new DeploymentHealth(policy);
    health.applyRemote(5000);
    health.applyRemote(4000); // older news changes nothing
    expect(health.until).toBe(5000);
    expect(health.canTake(4999)).toBe(false);
    expect(health.canTake(5000)).toBe(true);
    health.begin();
    expect(health.canTake(5000)).toBe(false);
    health.succeed();
    expect(health.state(5001)).toBe('healthy');
  });
});
