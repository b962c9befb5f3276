// scanRoutes must read a routing table's text exactly as parseRoutes reads its parsed JSON, or
// decline (undefined) so the whole parse answers: on FRR 8.4's answers from the lab, on the
// replay's synthesized tables, on variants with every shape parseRoutes tolerates, and on
// broken text (where JSON.parse fails, the scan must decline too).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRoutes } from '../../src/verify/live/observed.ts';
import { scanRoutes } from '../../src/verify/live/route-scan.ts';
import { readFrrOutput } from '../../src/verify/live/collector.ts';
import { LiveComparison } from '../../src/verify/live/compare.ts';
import { FabricAnswers } from '../support/replay-fabric.ts';
import { model, root } from './helpers.ts';

const whole = (vrf: string, text: string) => parseRoutes(vrf, JSON.parse(text.trim() || '{}'));

/** Same reading: the scan's answer equals the whole parse's, or it declines where the whole parse fails. */
function same(vrf: string, text: string, declineOk = false): 'scanned' | 'declined' {
  let want: ReturnType<typeof parseRoutes> | undefined;
  try {
    want = whole(vrf, text);
  } catch {
    want = undefined;
  }
  const got = scanRoutes(vrf, text);
  if (want === undefined) {
    expect(got).toBeUndefined();
    return 'declined';
  }
  if (got === undefined) {
    expect(declineOk, `declined a readable table: ${text.slice(0, 200)}`).toBe(true);
    return 'declined';
  }
  expect(got).toStrictEqual(want);
  // Key order too (the views print hops as read).
  expect(JSON.stringify(got)).toBe(JSON.stringify(want));
  return 'scanned';
}

/** A deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ (t + t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A route table in any shape parseRoutes accepts: extra fields, duplicates, odd values, escapes, blanks. */
function randomTable(r: () => number): string {
  const pick = <T,>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const odd = () => pick<unknown>([null, 1, -2.5e3, 0, true, false, 'x', [], {}, [1, { a: 'b' }], { nested: { deep: [null] } }, 'esc\\"aped\u00e9\n']);
  const hop = () => {
    const fields: [string, unknown][] = [];
    if (r() < 0.8) fields.push(['flags', 3]);
    if (r() < 0.7) fields.push(['fib', pick([true, false, 1, 'true'])]);
    if (r() < 0.7) fields.push(['active', pick([true, true, false, null])]);
    if (r() < 0.2) fields.push(['resolver', pick([true, false])]);
    if (r() < 0.2) fields.push(['recursive', pick([true, false])]);
    if (r() < 0.7) fields.push(['ip', pick<unknown>(['10.0.0.1', '::ffff:a00:101', 'fe80::1', '::ffff:10.1.2.3', 7, null])]);
    if (r() < 0.1) fields.push(['ip', pick<unknown>(['10.9.9.9', 8])]);
    if (r() < 0.6) fields.push(['interfaceName', pick<unknown>(['eth1', 'swp2', 'vrf-x', 5])]);
    if (r() < 0.2) fields.push(['weight', odd()]);
    if (r() < 0.05) return pick<unknown>([null, 3, 'hop', []]);
    return fields;
  };
  const entry = () => {
    if (r() < 0.05) return pick<unknown>([null, 'entry', 4, [true]]);
    const fields: [string, unknown][] = [];
    if (r() < 0.9) fields.push(['prefix', '10.0.0.1/32']);
    if (r() < 0.9) fields.push(['protocol', pick<unknown>(['bgp', 'connected', 'kernel', 'ospf', null, 'b\u00e9p'])]);
    if (r() < 0.7) fields.push(['selected', pick([true, true, false, 'yes'])]);
    if (r() < 0.5) fields.push(['distance', 20], ['uptime', '00:01:02'], ['internalFlags', 8]);
    if (r() < 0.9) fields.push(['nexthops', r() < 0.1 ? odd() : Array.from({ length: Math.floor(r() * 4) }, hop)]);
    if (r() < 0.1) fields.push(['selected', pick([true, false])]);
    if (r() < 0.1) fields.push(['extra', odd()]);
    return fields;
  };
  const routes: [string, unknown][] = [];
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    const prefix = pick(['10.0.0.1/32', '10.0.0.2/32', '192.168.1.0/24', 'fd00::/64', 'fe80::/64', 'ff02::1/128', '__proto__', 'a\\b"c', '']);
    routes.push([prefix, r() < 0.1 ? odd() : Array.from({ length: Math.floor(r() * 3) }, entry)]);
  }
  return routes.length ? write(routes, r) : '{ }';
}

/** Writes fields (a list of [key, value] allows duplicate keys) as JSON, spaced at random. */
function write(x: unknown, r: () => number): string {
  const sp = () => pick(r, ['', '', ' ', '\n  ', '\t', '\r\n']);
  if (Array.isArray(x) && x.every((f) => Array.isArray(f) && f.length === 2 && typeof f[0] === 'string') && x.length && (x as unknown[]).some(() => true)) {
    // A field list (every element a [key, value] pair): an object.
    return `{${sp()}${(x as [string, unknown][]).map(([k, v]) => `${write(k, r)}${sp()}:${sp()}${write(v, r)}`).join(`${sp()},${sp()}`)}${sp()}}`;
  }
  if (Array.isArray(x)) return `[${sp()}${x.map((v) => write(v, r)).join(`,${sp()}`)}${sp()}]`;
  if (typeof x === 'string' && r() < 0.1) return JSON.stringify(x).replace(/[a-z]/, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  return JSON.stringify(x);
}
const pick = <T,>(r: () => number, xs: T[]) => xs[Math.floor(r() * xs.length)];

describe('scanRoutes reads a routing table as parseRoutes reads its JSON', () => {
  it("reads FRR 8.4's answers from the dc1 lab, and readFrrOutput gives the same part as before", () => {
    const dirs = [path.join(root, 'test/verify/fixtures/dc1-lab'), path.join(root, 'test/verify/fixtures')];
    let n = 0;
    for (const dir of dirs) {
      for (const f of readdirSync(dir).filter((x) => x.endsWith('ip-route-vrf-all.json'))) {
        const text = readFileSync(path.join(dir, f), 'utf8');
        expect(same('default', text)).toBe('scanned');
        const x = { key: 'routes', command: 'show ip route json', vrf: 'default' };
        expect(readFrrOutput(x, { ok: true, stdout: text })).toStrictEqual({ part: whole('default', text) });
        n++;
      }
    }
    expect(n).toBeGreaterThanOrEqual(6);
  });

  it("reads the replay's synthesized default and VRF tables of every dc1 device", () => {
    const m = model('dc1');
    const answers = new FabricAnswers(m, new LiveComparison(m), new Set(), { summaries: true, versions: true });
    let n = 0;
    for (const d of m.devices) {
      for (const c of answers.commands(d.name).filter((x) => x.includes(' route ') && x.endsWith(' json') && !x.includes('summary'))) {
        const text = answers.answer(d.name, c)!;
        expect(same(c.includes(' vrf ') ? c.split(' ')[4] : 'default', text)).toBe('scanned');
        n++;
      }
    }
    expect(n).toBeGreaterThan(m.devices.length);
  });

  it('reads every shape parseRoutes tolerates (duplicates, odd values, escapes, blanks) as it does', () => {
    const r = rng(15);
    const outcomes = { scanned: 0, declined: 0 };
    for (let i = 0; i < 3000; i++) outcomes[same('default', randomTable(r), true)]++;
    // It declines only protocols that are neither strings nor null and integer-like prefixes: none here.
    expect(outcomes).toStrictEqual({ scanned: 3000, declined: 0 });
  });

  it('declines what is not JSON, and what it does not read the same way', () => {
    const r = rng(7);
    const good = readFileSync(path.join(root, 'test/verify/fixtures/dc1-lab/leaf1.ip-route-vrf-all.json'), 'utf8');
    const broken = [good.slice(0, -2), `${good}x`, good.replace('true', 'tru'), good.replace('"prefixLen":32', '"prefixLen":032'), good.replace('"prefixLen":32', '"prefixLen":-'), good.replace(':', '::'), good.replace('"protocol"', '"proto\ncol"'), good.replace(',', ',,'), `[${good}]`, '', '  ', 'null', '{"1":[]}', '{"10.0.0.1/32":[{"protocol":5}]}', `\u00a0${good}`];
    for (let i = 0; i < 300; i++) {
      const at = Math.floor(r() * good.length);
      broken.push(r() < 0.5 ? good.slice(0, at) + good.slice(at + 1) : good.slice(0, at) + pick(r, ['"', '{', ']', ',', 'x', '\\', '\u0001']) + good.slice(at));
    }
    for (const text of broken) same('default', text, true);
    expect(scanRoutes('default', '{"1":[]}')).toBeUndefined();
    expect(scanRoutes('default', '{"10.0.0.1/32":[{"protocol":5}]}')).toBeUndefined();
    expect(scanRoutes('default', good.slice(0, -2))).toBeUndefined();
    // And readFrrOutput still reads what the scan declines.
    const x = { key: 'routes', command: 'show ip route json', vrf: 'default' };
    expect(readFrrOutput(x, { ok: true, stdout: '{"1":[]}' })).toStrictEqual({ part: [{ vrf: 'default', prefix: '1', protocol: '', nexthops: 0, hops: [] }] });
    expect(readFrrOutput(x, { ok: true, stdout: '{"10.0.0.1/32":[{"protocol":5,"selected":true}]}' })).toStrictEqual({ part: [{ vrf: 'default', prefix: '10.0.0.1/32', protocol: '5', nexthops: 0, hops: [] }] });
    expect(readFrrOutput(x, { ok: true, stdout: '{"a":' })).toMatchObject({ error: expect.stringMatching(/^not JSON/) });
  });
});
