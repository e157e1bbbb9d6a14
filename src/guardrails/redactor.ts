/**
 * Replaces personal data by typed placeholders (`[EMAIL_1]`, `[CARD_2]`). One redactor serves
 * one request, so the same value gets the same placeholder in every message and the model can
 * still tell "the same address" from "another address".
 */
import type { PiiKind, PiiMatch } from './pii-detectors.js';

const PLACEHOLDER_NAMES: Record<PiiKind, string> = {
  email: 'EMAIL',
  phone: 'PHONE',
  card: 'CARD',
  iban: 'IBAN',
  api_key: 'API_KEY',
};

/** Spellings of one value that are the same value: case of an address, grouping of digits. */
function normalize(kind: PiiKind, value: string): string {
  switch (kind) {
    case 'email':
      return value.toLowerCase();
    case 'phone':
    case 'card':
      return value.replace(/\D/g, '');
    case 'iban':
      return value.replace(/ /g, '').toUpperCase();
    case 'api_key':
      return value;
  }
}

export class Redactor {
  private readonly placeholders = new Map<string, string>();
  private readonly counts = new Map<PiiKind, number>();
  /** Kinds redacted so far. */
  readonly kinds = new Set<PiiKind>();

  private placeholderFor(kind: PiiKind, value: string): string {
    const key = `${kind}\u0000${normalize(kind, value)}`;
    let placeholder = this.placeholders.get(key);
    if (!placeholder) {
      const n = (this.counts.get(kind) ?? 0) + 1;
      this.counts.set(kind, n);
      placeholder = `[${PLACEHOLDER_NAMES[kind]}_${n}]`;
      this.placeholders.set(key, placeholder);
    }
    return placeholder;
  }

  /** `text` with each match replaced; `matches` are ordered and do not overlap (findPii's output). */
  redact(text: string, matches: readonly PiiMatch[]): string {
    let out = '';
    let at = 0;
    for (const match of matches) {
      out += text.slice(at, match.start) + this.placeholderFor(match.kind, text.slice(match.start, match.end));
      at = match.end;
      this.kinds.add(match.kind);
    }
    return out + text.slice(at);
  }
}
