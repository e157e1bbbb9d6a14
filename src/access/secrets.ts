import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'sk-konnect-';

/** A new API key secret: 256 random bits, base64url. Shown once, never stored. */
export function generateSecret(random: (size: number) => Buffer = randomBytes): string {
  return PREFIX + random(32).toString('base64url');
}

/**
 * The stored form of a secret. A plain sha256 is enough here (no salt or slow hash): the
 * secrets are random 256-bit values, so there is no dictionary to attack, and lookups by hash
 * must stay cheap on the hot path. Looking a key up by its hash leaks nothing useful through
 * timing, since the hash does not reveal the secret.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** `sk-konnect-…abcd`: the secret's last four characters, for people to tell keys apart. */
export function hintOf(secret: string): string {
  return `${PREFIX}…${secret.slice(-4)}`;
}

/** A short random id (`key_…`, `sub_…`). */
export function newId(prefix: string, random: (size: number) => Buffer = randomBytes): string {
  return `${prefix}_${random(9).toString('base64url')}`;
}
