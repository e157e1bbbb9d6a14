/**
 * Cooldowns shared by every instance on one Redis: the instance that cools a deployment down
 * stores `<prefix>cooldown:<deployment>` (expiring with the cooldown) for instances that look
 * later, and publishes it on `<prefix>cooldowns` for those running now. Picks never wait on
 * Redis: each instance keeps the state in memory and this only keeps it in step.
 */
import type { Redis } from 'ioredis';

export interface CooldownSync {
  /** Tells the other instances that deployment `id` gets no traffic until `until` (epoch ms). */
  announce(id: string, until: number): void;
  /** Looks up a cooldown other instances started before this one first met deployment `id`. */
  load(id: string): void;
  close(): Promise<void>;
}

interface CooldownMessage {
  id: string;
  until: number;
}

function parseMessage(text: string): CooldownMessage | undefined {
  try {
    const value = JSON.parse(text) as Partial<CooldownMessage>;
    return typeof value.id === 'string' && typeof value.until === 'number' ? { id: value.id, until: value.until } : undefined;
  } catch {
    return undefined;
  }
}

export function createRedisCooldownSync(
  redis: Redis,
  keyPrefix: string,
  apply: (id: string, until: number) => void,
  onError: (err: unknown) => void,
): CooldownSync {
  const channel = `${keyPrefix}cooldowns`;
  const keyOf = (id: string) => `${keyPrefix}cooldown:${id}`;
  // A subscribed connection can issue no other command, hence its own.
  const subscriber = redis.duplicate();
  subscriber.on('error', onError);
  subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return;
    const message = parseMessage(text);
    if (message) apply(message.id, message.until);
  });
  subscriber.subscribe(channel).catch(onError);

  return {
    announce(id, until) {
      const ttl = Math.ceil(until - Date.now());
      if (ttl <= 0) return;
      const message: CooldownMessage = { id, until };
      redis.multi().set(keyOf(id), String(until), 'PX', ttl).publish(channel, JSON.stringify(message)).exec().catch(onError);
    },
    load(id) {
      redis
        .get(keyOf(id))
        .then((value) => {
          const until = Number(value);
          if (value !== null && until > Date.now()) apply(id, until);
        })
        .catch(onError);
    },
    async close() {
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
