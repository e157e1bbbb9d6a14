/**
 * PII and credential detection as pure functions: each class in the spellings people write,
 * check digits (Luhn, IBAN mod-97), consistent placeholders, and a corpus of ordinary text
 * (dates, prices, versions, order numbers, ISBNs, words holding "sk-") that must not match.
 * Config faults for deny patterns that do not compile.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/load-config.js';
import { applyGuardrails } from '../src/guardrails/apply-guardrails.js';
import { passesIbanMod97, passesLuhn } from '../src/guardrails/checksums.js';
import { compileGuardrails } from '../src/guardrails/compile-guardrails.js';
import { findPii, type PiiKind } from '../src/guardrails/pii-detectors.js';
import { createPromptCompiler } from '../src/prompts/compile-prompt.js';

function found(text: string): string[] {
  return findPii(text).map((m) => `${m.kind}:${text.slice(m.start, m.end)}`);
}

const POSITIVES: Record<PiiKind, string[]> = {
  email: ['john.doe@example.com', 'JANE+news@Mail.Example.co.uk', 'a_b-c@sub.domain.io', 'x@163.com'],
  phone: ['+1 (415) 555-2671', '+44 20 7946 0958', '+33 6 12 34 56 78', '+4915112345678', '(415) 555-2671', '415-555-2671', '415.555.2671', '06 12 34 56 78', '020 7946 0958'],
  card: ['4111 1111 1111 1111', '4111-1111-1111-1111', '4111111111111111', '5500 0000 0000 0004', '378282246310005', '6011 1111 1111 1117', '2223 0031 2200 3222'],
  iban: ['DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432', 'FR14 2004 1010 0505 0001 3M02 606', 'NL91ABNA0417164300', 'be68 5390 0754 7034'],
  api_key: [
    'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z',
    'sk-ant-api03-EXAMPLEonlyEXAMPLEonly00',
    'AKIAIOSFODNN7EXAMPLE',
    'ghp_0123456789abcdefghijABCDEFGHIJ012345',
    'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz',
    'xoxb-123456789012-abcdefABCDEF',
    'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  ],
};

/** Ordinary text a support desk or a developer writes; none of it is personal data. */
const ORDINARY = [
  'The meeting is on 2024-01-15 at 10:30, or 15/01/2024 for our European colleagues, or 15.01.2024 in Germany.',
  'Dates in the US look like 01-15-2024 10:30 or Jan 15, 2024; the quarter ends 2024-03-31T23:59:59Z.',
  'Order #1234567890123 shipped; order numbers ORD-2024-000123 and PO 2024-000456 are pending.',
  'Your tracking number is 9400 1000 0000 0000 0000 00 and the invoice is INV-00012345.',
  'The laptop costs $1,299.99, the monitor €349,00, and the bundle 1.599,00 EUR; 1,000,000 units sold.',
  'Upgrade from v10.0.19041 to 10.0.22631.2428, or pin 1.2.3; Node 20.11.1 and Python 3.12.1 work.',
  'ISBN 978-3-16-148410-0 and ISBN-10 0-306-40615-2 are both on the reading list; also 9780306406157.',
  'Room 101, floor 3, building 42; call extension 4567 or dial 0 for the operator.',
  'The risk-free rate, a desk-top setup, task-based pricing, a whisk-ready bowl, and sk-learn models.',
  'Use scikit-learn (sk-learn for short) and a ask-me-anything session; the kiosk-mode flag is on.',
  'Measurements: 3.14159265358979323 and 2.718281828459045 and 1.4142135623730951.',
  'The server at 192.168.100.200 talks to 10.0.0.1 on port 8080; the subnet is 172.16.0.0/12.',
  'Retina icons are named icon@2x.png and logo@3x.jpg; install @types/node or pkg@1.2.3 with npm.',
  'Scores went +20 points this week; C++ 17 and C++20 are both supported; 2+2=4.',
  'UUID 123e4567-e89b-12d3-a456-426614174000 and hash 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b.',
  'The bearer of this letter is authorised; Bearer authentication uses the Authorization header.',
  'AKIA is the prefix of AWS access key ids; ghp_ prefixes GitHub tokens; eyJ starts many JWTs.',
  'Temperatures ranged from -12 to 35 degrees; the population is 8 000 000 and growing by 0.5%.',
  'Coordinates 48.8566, 2.3522; the flight AF1234 leaves at 06:45 from gate 12.',
  'Weights 100-200-3000 grams; batch sizes 16 32 64 128 256 512 1024 2048 4096.',
  'Serial numbers SN-2023-0001-AB and model numbers XPS-9530 are printed on the label.',
  'Chapter 12, section 3.4.5, page 1024 of the 2nd edition (2019), lines 10-20.',
  'The year ranges 1990-2000 and 2010-2020, times 09:00-17:30, and 24/7 support.',
  'Call us at our office or write to us through the contact form; nothing else is needed.',
  'A credit limit of 5000, a balance of 1234.56, and a minimum payment of 35.00 are due.',
  'Zip codes 10001 and 75008, postcodes SW1A 1AA and EC1A 1BB, and the code 1234-5678.',
  'Git commits 3f2a9c1 and a94a8fe5ccb19ba61c4c0873d391e987982fbbd3 touched the parser.',
  'Task ids task-1234, task-5678; ticket JIRA-4521 and PR #9876 close issue #1234.',
  'The 06 team meets on the 12 floor at 34 past; the 0 index is reserved.',
  'We sold 4 111 units in 2023 and 5 500 in 2024; growth was 32.8%.',
];

describe('PII detection', () => {
  it.each(Object.entries(POSITIVES))('finds %s in the spellings people write', (kind, samples) => {
    for (const sample of samples) {
      expect(found(`Here it is: ${sample}. Thanks!`)).toEqual([`${kind}:${sample}`]);
    }
  });

  it('finds only the token of a bearer header', () => {
    expect(found('Authorization: Bearer abcDEF123456ghiJKL789mno')).toEqual(['api_key:abcDEF123456ghiJKL789mno']);
  });

  it('does not let a greedy match swallow the next word or number', () => {
    expect(found('IBAN BE68 5390 0754 7034 is mine')).toEqual(['iban:BE68 5390 0754 7034']);
    expect(found('card 4111 1111 1111 1111 20 items')).toEqual(['card:4111 1111 1111 1111']);
  });

  it('rejects digit runs that fail the check digits', () => {
    expect(found('card 4111 1111 1111 1112')).toEqual([]);
    expect(found('iban DE89 3704 0044 0532 0130 01')).toEqual([]);
    expect(passesLuhn('79927398713')).toBe(true);
    expect(passesLuhn('79927398710')).toBe(false);
    expect(passesIbanMod97('GB82WEST12345698765432')).toBe(true);
    expect(passesIbanMod97('GB82WEST12345698765433')).toBe(false);
  });

  it('stays linear on long digit runs after a plus sign (no backtracking blow-up)', () => {
    // Each `+1` and 25 digits cost ~0.4 ms with a backtracking phone pattern: this 2 MB text
    // would take ~30 s, past the test's timeout; the linear pattern scans it in milliseconds.
    const text = `${'+1' + '1'.repeat(25) + '-'}`.repeat(80_000) + ' call +44 20 7946 0958';
    expect(found(text)).toEqual(['phone:+44 20 7946 0958']);
  });

  it('finds nothing in ordinary text', () => {
    for (const text of ORDINARY) expect({ text, found: found(text) }).toEqual({ text, found: [] });
  });
});

describe('applyGuardrails', () => {
  const redact = compileGuardrails({ pii: 'redact', deny: [] }, "model group 'g'")!;

  it('redacts every class with typed placeholders, the same value always the same one', () => {
    const outcome = applyGuardrails([redact], {
      model: 'g',
      messages: [
        { role: 'system', content: 'Support desk. Escalate to boss@corp.example.' },
        { role: 'user', content: 'I am ann@example.com, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, phone +44 20 7946 0958.' },
        { role: 'assistant', content: 'Thanks ann@example.com.' },
        { role: 'user', content: [{ type: 'text', text: 'Also ANN@example.com and bob@example.com, key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z, card 4111-1111-1111-1111.' }] },
      ],
    });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.request.messages.map((m) => m.content)).toEqual([
      'Support desk. Escalate to [EMAIL_1].',
      'I am [EMAIL_2], card [CARD_1], IBAN [IBAN_1], phone [PHONE_1].',
      'Thanks [EMAIL_2].',
      [{ type: 'text', text: 'Also [EMAIL_2] and [EMAIL_3], key [API_KEY_1], card [CARD_1].' }],
    ]);
    expect(outcome.fired.sort()).toEqual(['pii:api_key', 'pii:card', 'pii:email', 'pii:iban', 'pii:phone']);
  });

  it('leaves a clean request as it is', () => {
    const req = { model: 'g', messages: [{ role: 'user' as const, content: ORDINARY.join(' ') }] };
    const outcome = applyGuardrails([redact], req);
    expect(outcome).toEqual({ ok: true, request: req, fired: [] });
  });

  it('takes the strictest PII mode and the lowest token limit of several policies', () => {
    const prompt = compileGuardrails({ pii: 'block', deny: [], max_input_tokens: 50 }, "prompt 'p'")!;
    const group = compileGuardrails({ pii: 'redact', deny: [], max_input_tokens: 5000 }, "model group 'g'")!;
    const pii = applyGuardrails([prompt, group], { model: 'g', messages: [{ role: 'user', content: 'mail me: a@example.com' }] });
    expect(pii.ok).toBe(false);
    if (!pii.ok) expect(pii.error.message).toContain("prompt 'p'");
    const long = applyGuardrails([group, prompt], { model: 'g', messages: [{ role: 'user', content: 'word '.repeat(100) }] });
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.fired).toEqual(['max_input_tokens']);
  });
});

describe('deny patterns in config', () => {
  it('refuses a config whose deny pattern does not compile, naming its key', () => {
    const raw = {
      providers: { demo: { type: 'mock' } },
      models: [{ name: 'm', guardrails: { deny: ['fine', '(unclosed'] }, deployments: [{ provider: 'demo', model: 'mock-1' }] }],
    };
    expect(() => parseConfig(raw, {})).toThrow(ConfigError);
    try {
      parseConfig(raw, {});
    } catch (err) {
      expect((err as ConfigError).faults).toEqual([expect.stringMatching(/^\/models\/0\/guardrails\/deny\/1: not a valid regular expression/)]);
    }
  });

  it('refuses a prompt whose deny pattern does not compile', () => {
    const result = createPromptCompiler().compile(
      { name: 'p', model: 'm', messages: [{ role: 'user', content: 'hi' }], guardrails: { deny: ['[a-'] } },
      { kind: 'store' },
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.faults).toEqual([expect.stringMatching(/^\/guardrails\/deny\/0: not a valid regular expression/)]);
  });
});
