/**
 * Usage by tag and report filters, end to end: calls with `x-gateway-tags` through the gateway
 * on the mock provider, then `/admin/usage` checked against the records `/admin/logs` shows.
 * On the memory store and on a real Redis (own key prefix, dropped afterwards).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from './helpers/gateway.js';
import { dropPrefix, uniquePrefix } from './helpers/redis.js';
import {
  adminGet,
  adminJson,
  adminPost,
  allLogs,
  chat,
  recordsAfter,
  startUsageGateway,
  sumOf,
  sumOfRow,
  type ChatCall,
  type LogEntry,
  type UsageReport,
} from './helpers/usage.js';

const stores = [
  { name: 'memory', prefix: () => undefined },
  { name: 'redis', prefix: () => uniquePrefix('usage-tags') },
];

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trimEnd().split('\r\n');
  const columns = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [columns[i]!, value])));
}

describe.each(stores)('usage by tag and filters ($name store)', ({ prefix: makePrefix }) => {
  const prefix = makePrefix();
  let gw: TestGateway;
  let logs: LogEntry[];
  let keyId: string;

  beforeAll(async () => {
    gw = await startUsageGateway({ prefix });
    await adminPost(gw, '/admin/teams', { name: 'search' });
    const key = await adminPost<{ id: string; key: string }>(gw, '/admin/keys', { name: 'indexer', team: 'search' });
    keyId = key.id;
    const calls: ChatCall[] = [
      { model: 'fast', tags: 'batch' },
      { model: 'fast', tags: 'batch, eu', stream: true },
      { model: 'smart', tags: 'eu', key: key.key },
      { model: 'smart', tags: 'batch,eu,nightly', key: key.key, stream: true },
      { model: 'fast', key: key.key },
      { model: 'smart' },
      { model: 'fast', tags: 'eu', bad: true },
      { model: 'nope', tags: 'batch' },
      { model: 'fast', tags: 'batch,batch', key: key.key },
    ];
    const recorded = recordsAfter(gw, calls.length);
    for (const call of calls) await chat(gw, call);
    await recorded.done;
    logs = await allLogs(gw);
    expect(logs).toHaveLength(calls.length);
  });

  afterAll(async () => {
    await gw?.close();
    if (prefix) await dropPrefix(prefix);
  });

  it('counts a call once under each of its tags, untagged calls under (none), totals once per call', async () => {
    const report = await adminJson<UsageReport>(gw, '/admin/usage?group_by=tag');
    expect(report.note).toMatch(/once under each of its tags/);
    const tags = new Set(logs.flatMap((e) => (e.tags.length > 0 ? e.tags : ['(none)'])));
    expect(report.rows.map((r) => r.tag).sort()).toEqual([...tags].sort());
    for (const tag of tags) {
      const tagged = logs.filter((e) => (tag === '(none)' ? e.tags.length === 0 : e.tags.includes(tag)));
      expect(sumOfRow(report.rows.find((r) => r.tag === tag)), tag).toEqual(sumOf(tagged));
    }
    // Rows add up to more than the calls (multi-tag calls); totals do not.
    expect(report.rows.reduce((n, r) => n + Number(r.requests), 0)).toBeGreaterThan(logs.length);
    expect(sumOfRow(report.totals)).toEqual(sumOf(logs));
    // A repeated tag in the header counts once.
    expect(logs.find((e) => e.key_id === keyId && e.tags.length === 1 && e.tags[0] === 'batch')).toBeDefined();
  });

  it('filters by tag, key, team, model, route and status, alone and together', async () => {
    const cases: Array<[string, (e: LogEntry) => boolean]> = [
      ['tag=eu', (e) => e.tags.includes('eu')],
      ['tag=(none)', (e) => e.tags.length === 0],
      [`key=${keyId}`, (e) => e.key_id === keyId],
      ['team=search', (e) => e.team === 'search'],
      ['model=smart', (e) => e.model === 'smart'],
      ['route=chat', (e) => e.route === 'chat'],
      ['status=4xx', (e) => e.status >= 400 && e.status < 500],
      ['status=200', (e) => e.status === 200],
      ['tag=batch&status=2xx&model=fast', (e) => e.tags.includes('batch') && e.status === 200 && e.model === 'fast'],
      [`team=search&tag=eu`, (e) => e.team === 'search' && e.tags.includes('eu')],
    ];
    for (const [query, keep] of cases) {
      const report = await adminJson<UsageReport>(gw, `/admin/usage?${encodeURI(query)}`);
      const expected = logs.filter(keep);
      expect(expected.length, query).toBeGreaterThan(0);
      expect(sumOfRow(report.totals), query).toEqual(sumOf(expected));
      // The same filter on the request log picks the same calls ((none) is a report's name only).
      if (!query.includes('(none)')) {
        const picked = await allLogs(gw, `&${encodeURI(query)}`);
        expect(picked.map((e) => e.id).sort(), query).toEqual(expected.map((e) => e.id).sort());
      }
    }
  });

  it('groups by tag and other dimensions, filtered, with the totals of the filter', async () => {
    const report = await adminJson<UsageReport>(gw, '/admin/usage?group_by=tag,model&team=search');
    const inTeam = logs.filter((e) => e.team === 'search');
    for (const row of report.rows) {
      const want = inTeam.filter((e) => e.model === row.model && (row.tag === '(none)' ? e.tags.length === 0 : e.tags.includes(String(row.tag))));
      expect(sumOfRow(row)).toEqual(sumOf(want));
    }
    expect(sumOfRow(report.totals)).toEqual(sumOf(inTeam));
    const byStatus = await adminJson<UsageReport>(gw, '/admin/usage?group_by=status');
    for (const row of byStatus.rows) expect(row.requests).toBe(logs.filter((e) => String(e.status) === row.status).length);
  });

  it('answers CSV grouped by tag with the JSON columns and numbers', async () => {
    const json = await adminJson<UsageReport>(gw, '/admin/usage?group_by=tag');
    const res = await adminGet(gw, '/admin/usage?group_by=tag&format=csv');
    const text = await res.text();
    expect(text.split('\r\n')[0]).toBe(
      'tag,requests,errors,prompt_tokens,completion_tokens,cached_tokens,total_tokens,cost_usd,latency_ms_avg,latency_ms_p50,latency_ms_p95,latency_ms_p99,ttft_ms_avg,ttft_ms_p50,ttft_ms_p95,cache_hits,saved_cost_usd',
    );
    const csv = parseCsv(text);
    expect(csv).toHaveLength(json.rows.length);
    csv.forEach((line, i) => {
      const row = json.rows[i]!;
      for (const [column, value] of Object.entries(line)) {
        const want = row[column];
        if (want === null) expect(value).toBe('');
        else if (typeof want === 'number') expect(Number(value)).toBe(want);
        else expect(value).toBe(want);
      }
    });
  });

  it('refuses a malformed status filter and unknown parameters', async () => {
    expect((await adminGet(gw, '/admin/usage?status=abc')).status).toBe(400);
    expect((await adminGet(gw, '/admin/logs?status=6xx')).status).toBe(400);
    expect((await adminGet(gw, '/admin/usage?colour=red')).status).toBe(400);
  });
});

describe.each(stores)('a flood of distinct tags stays bounded ($name store)', ({ name, prefix: makePrefix }) => {
  const prefix = makePrefix();
  const CAP = 5;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    // Two instances on one Redis share the cap; the memory store has one.
    const count = name === 'redis' ? 2 : 1;
    for (let i = 0; i < count; i++) gateways.push(await startUsageGateway({ prefix, ledger: { tags_per_hour: CAP } }));
  });

  afterAll(async () => {
    for (const gw of gateways) await gw.close();
    if (prefix) await dropPrefix(prefix);
  });

  it(`keeps at most ${CAP} tags an hour and counts the rest under (other)`, async () => {
    const waits = gateways.map((gw) => recordsAfter(gw, 12));
    await Promise.all(
      gateways.map(async (gw, g) => {
        for (let i = 0; i < 12; i++) await chat(gw, { model: 'fast', tags: `flood-${g}-${i},flood-${g}-${i}-b` });
      }),
    );
    await Promise.all(waits.map((w) => w.done));
    const logs = await allLogs(gateways[0]!);
    const hours = new Set(logs.map((e) => e.time.slice(0, 13))).size;
    const report = await adminJson<UsageReport>(gateways[0]!, '/admin/usage?group_by=tag');
    const real = report.rows.filter((r) => !String(r.tag).startsWith('('));
    expect(real.length).toBeLessThanOrEqual(CAP * hours);
    expect(report.rows.find((r) => r.tag === '(other)')?.requests).toBeGreaterThan(0);
    // Nothing is lost: every (call, tag) pair is counted under its tag or under (other).
    expect(report.rows.reduce((n, r) => n + Number(r.requests), 0)).toBe(logs.length * 2);
    expect(report.totals.requests).toBe(logs.length);
    // Each kept tag holds exactly its own calls.
    for (const row of real) expect(row.requests).toBe(logs.filter((e) => e.tags.includes(String(row.tag))).length);
  });
});
