/**
 * Finds personal data and credentials in text: emails, phone numbers, payment cards (Luhn and
 * issuer prefix), IBANs (mod-97) and API keys or tokens. Patterns are tuned against ordinary
 * text (dates, prices, versions, order numbers, ISBNs, words holding "sk-"): each match must
 * stand alone (no digit or letter glued to it) and, where a check digit exists, pass it.
 */
import { passesIbanMod97, passesLuhn } from './checksums.js';

export type PiiKind = 'email' | 'phone' | 'card' | 'iban' | 'api_key';

export const PII_KINDS: readonly PiiKind[] = ['email', 'phone', 'card', 'iban', 'api_key'];

/** What a kind is called in refusals. */
export const PII_LABELS: Record<PiiKind, string> = {
  email: 'an email address',
  phone: 'a phone number',
  card: 'a payment card number',
  iban: 'an IBAN',
  api_key: 'an API key or token',
};

export interface PiiMatch {
  kind: PiiKind;
  start: number;
  end: number;
}

interface Detector {
  kind: PiiKind;
  /** Global (and, where a part is redacted, `d`) regular expression. */
  pattern: RegExp;
  /** Cheap test that rules the detector out for most texts. */
  mayContain: (text: string) => boolean;
  /** Further checks on the matched text (check digits, digit counts). */
  accept?: (found: string) => boolean;
  /**
   * When the match fails `accept`, retry without its last space- or dash-separated group: a
   * greedy match can swallow the next word or number ("DE89 … 00 is", "4111 … 1111 20").
   */
  shrink?: boolean;
  /** Redact this capture group instead of the whole match (a bearer token, not the word "Bearer"). */
  group?: number;
}

const hasDigit = (text: string) => /\d/.test(text);
const digitCount = (text: string) => text.replace(/\D/g, '').length;
const hasLetterAndDigit = (text: string) => /[A-Za-z]/.test(text) && /\d/.test(text);

// Image and file names such as icon@2x.png look like addresses.
const FILE_SUFFIXES = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'pdf', 'js', 'ts']);

// Card issuer prefixes: Visa, Mastercard (51-55, 2221-2720), Amex, Diners, JCB, Discover, UnionPay.
const CARD_PREFIX = /^(?:4|5[1-5]|2[2-7]|3[47]|3[0689]|35|6(?:011|5|4[4-9]|2))/;

const DETECTORS: readonly Detector[] = [
  {
    kind: 'api_key',
    // OpenAI (sk-, sk-proj-), Anthropic (sk-ant-): a long tail with letters and digits, so words
    // such as "risk-free" or "sk-learn" never match.
    pattern: /(?<![\w-])sk-[A-Za-z0-9_-]{20,}/g,
    mayContain: (text) => text.includes('sk-'),
    accept: (found) => hasLetterAndDigit(found.slice(3)),
  },
  {
    kind: 'api_key',
    pattern:
      /(?<![A-Za-z0-9])(?:(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,})(?![A-Za-z0-9])/g,
    mayContain: (text) => /AKIA|ASIA|gh[pousr]_|github_pat_|xox|AIza|k_live_|k_test_/.test(text),
  },
  {
    kind: 'api_key',
    // A JWT: three base64url parts, the first two JSON objects ("eyJ" is `{"`).
    pattern: /(?<![\w-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g,
    mayContain: (text) => text.includes('eyJ'),
  },
  {
    kind: 'api_key',
    pattern: /\bbearer\s+([A-Za-z0-9._~+/-]{16,}=*)/dgi,
    mayContain: (text) => /bearer/i.test(text),
    accept: (found) => hasLetterAndDigit(found.replace(/^bearer\s+/i, '')),
    group: 1,
  },
  {
    kind: 'email',
    pattern: /(?<![\w.+%-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])/g,
    mayContain: (text) => text.includes('@'),
    accept: (found) => !FILE_SUFFIXES.has(found.slice(found.lastIndexOf('.') + 1).toLowerCase()),
  },
  {
    kind: 'iban',
    // Country, check digits, then 11 to 30 letters or digits, grouped by four or not.
    pattern: /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?(?![A-Za-z0-9])/g,
    mayContain: hasDigit,
    accept: (found) => {
      const iban = found.replace(/ /g, '').toUpperCase();
      return iban.length >= 15 && iban.length <= 34 && passesIbanMod97(iban);
    },
    shrink: true,
  },
  {
    kind: 'card',
    // 13 to 19 digits, optionally grouped by single spaces or dashes.
    pattern: /(?<![\d.,-])\d(?:[ -]?\d){12,18}(?![\d-]|[.,]\d)/g,
    mayContain: hasDigit,
    accept: (found) => {
      const digits = found.replace(/\D/g, '');
      return digits.length >= 13 && CARD_PREFIX.test(digits) && passesLuhn(digits);
    },
    shrink: true,
  },
  {
    kind: 'phone',
    // International: +<country code> then groups; E.164 allows at most 15 digits. A group
    // takes its digits atomically (`(?=(\d{1,5}))\1`): with a plain `\d{1,5}` a long digit
    // run is split every possible way before the match fails, which cost ~0.4 ms per `+` and
    // let one request of `+1` and 25 digits, repeated, block the event loop for seconds.
    pattern: /(?<![\w+])\+[1-9]\d{0,2}(?:[ .-]?\(\d{1,4}\)|[ .-]?(?=(\d{1,5}))\1){1,6}(?![\d-]|[.,]\d)/g,
    mayContain: (text) => text.includes('+'),
    accept: (found) => {
      const n = digitCount(found);
      return n >= 8 && n <= 15;
    },
  },
  {
    kind: 'phone',
    // North American: (415) 555-2671, 415-555-2671, 415.555.2671; the area code never starts with 0 or 1.
    // Spaces alone do not separate: "256 512 1024" is a list of numbers far more often than a phone.
    pattern: /(?<![\w.+-])(?:\([2-9]\d{2}\) ?|[2-9]\d{2}([-.]))\d{3}(?:\1|(?<=\) ?\d{3})[-. ])\d{4}(?![\w-]|[.,]\d)/g,
    mayContain: hasDigit,
  },
  {
    kind: 'phone',
    // National numbers with a trunk 0 (06 12 34 56 78, 020 7946 0958), one separator throughout.
    pattern: /(?<![\w.+/-])0\d{1,4}([ -])\d{2,4}(?:\1\d{2,4}){1,3}(?![\w/-]|[.,:]\d)/g,
    mayContain: hasDigit,
    accept: (found) => {
      const n = digitCount(found);
      return n >= 9 && n <= 11;
    },
  },
];

/** How much of a match the detector accepts: all of it, a shorter prefix (`shrink`), or 0. */
function acceptedLength(detector: Detector, found: string): number {
  const accept = detector.accept;
  if (!accept) return found.length;
  let candidate = found;
  for (;;) {
    if (accept(candidate)) return candidate.length;
    const cut = Math.max(candidate.lastIndexOf(' '), candidate.lastIndexOf('-'));
    if (!detector.shrink || cut <= 0) return 0;
    candidate = candidate.slice(0, cut);
  }
}

/**
 * Every match in `text`, ordered, without overlaps: where two overlap, the one that starts
 * first (then the longer) wins, so an IBAN's digits are not also read as a card number.
 */
export function findPii(text: string, kinds?: ReadonlySet<PiiKind>): PiiMatch[] {
  const found: PiiMatch[] = [];
  for (const detector of DETECTORS) {
    if (kinds && !kinds.has(detector.kind)) continue;
    if (!detector.mayContain(text)) continue;
    for (const m of text.matchAll(detector.pattern)) {
      const length = acceptedLength(detector, m[0]);
      if (length === 0) continue;
      const span = detector.group === undefined ? undefined : m.indices?.[detector.group];
      const start = span ? span[0] : m.index;
      const end = span ? span[1] : m.index + length;
      found.push({ kind: detector.kind, start, end });
    }
  }
  if (found.length < 2) return found;
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: PiiMatch[] = [];
  let reached = -1;
  for (const match of found) {
    if (match.start < reached) continue;
    out.push(match);
    reached = match.end;
  }
  return out;
}
