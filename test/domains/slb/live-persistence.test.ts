/**
 * live-slb-answers' judgement of what it observed (compareSlb), on answers made up here: the
 * lab tests send the real requests; these pin which observations are findings. Persistence: a
 * kept cookie or one source address answered by two members is broken, a cookie naming a
 * member answered by another is wrong; a sticky pool is not required to spread one client.
 * nginx nodes: a dead master is an error, what nginx cannot show is an info finding.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelSync } from '../../../src/model/index.ts';
import { compareSlb, type SlbAnswer, type SlbCase, type SlbObserved } from '../../../src/domains/slb/live.ts';
import { cleanupCopies, nginxCapable, slb1Copy } from './fixtures.ts';

afterAll(cleanupCopies);

const answers = (...members: string[]): SlbAnswer[] => members.map((member) => ({ ok: true, member, ms: 1 }));
const answersCheck = (results: ReturnType<typeof compareSlb>) => results.find((x) => x.check.id === 'live-slb-answers')!;
const base = { vip: '10.20.30.100', listener: { port: 80, protocol: 'http' as const }, client: 'h5', request: { host: '10.20.30.100', path: '/' }, why: 'default pool', verified: false };

describe('live-slb-answers judges persistence and nginx nodes', () => {
  const model = loadModelSync(slb1Copy((slb) => {
    slb.pools['orders-web'].persistence = { type: 'cookie', cookie: 'ORD' };
  }));
  const check = (cases: Partial<SlbCase>[], extra: Partial<SlbObserved> = {}) => {
    const r = answersCheck(compareSlb(model, { cases: cases.map((c) => ({ ...base, service: 'orders', pool: 'orders-web', answers: [], ...c })) as SlbCase[], ...extra }));
    return { passed: r.passed, examined: r.examined, findings: r.findings.map((f) => `${f.severity} ${f.message}`) };
  };

  it('a kept cookie on one member and cookies naming each member where they point pass; one route, three persistence cases', () => {
    expect(check([
      { answers: answers('h4', 'h5', 'h4', 'h5', 'h4', 'h5', 'h4', 'h5', 'h4', 'h5', 'h4', 'h5') },
      { answers: answers('h5', 'h5', 'h5'), persistence: { type: 'cookie' }, followUp: true },
      { answers: answers('h4', 'h4'), persistence: { type: 'cookie', pinned: 'h4' }, followUp: true },
      { answers: answers('h5', 'h5'), persistence: { type: 'cookie', pinned: 'h5' }, followUp: true },
    ])).toEqual({ passed: true, examined: '19 requests, 1 routes, 3 persistence cases', findings: [] });
  });

  it('a kept cookie answered by two members, or a cookie naming h4 answered by h5, is an error', () => {
    const r = check([
      { answers: answers('h4', 'h5', 'h4'), persistence: { type: 'cookie' }, followUp: true },
      { answers: answers('h5'), persistence: { type: 'cookie', pinned: 'h4' }, followUp: true },
    ]);
    expect(r.passed).toBe(false);
    expect(r.findings).toEqual([
      'error orders 10.20.30.100:80/http Host 10.20.30.100 / from h5, cookie ORD kept: persistence broken: one client answered by h4, h5',
      'error orders 10.20.30.100:80/http Host 10.20.30.100 / from h5, cookie ORD=h4: the cookie names h4, answered by h5',
    ]);
  });

  it('one source address on one member passes (the other member is not required); on two it is an error', () => {
    expect(check([{ answers: answers(...Array(12).fill('h4')), persistence: { type: 'source' } }]).passed).toBe(true);
    // Without persistence the same answers leave h5 out: an error.
    expect(check([{ answers: answers(...Array(12).fill('h4')) }]).findings).toEqual([expect.stringMatching(/: h5 never answered in 12 requests/)]);
    expect(check([{ answers: answers('h4', 'h5'), persistence: { type: 'source' } }]).findings).toEqual([expect.stringMatching(/, one source address: persistence broken: one client answered by h4, h5$/)]);
  });

  it('nginx nodes: the split is judged by the model weights; a dead master is an error; what nginx cannot show is an info finding', () => {
    const ngx = loadModelSync(slb1Copy((slb) => {
      nginxCapable(slb);
      slb.nodes.lb1.targets = ['nginx'];
      for (const m of slb.pools['orders-db'].members) m.backup = false;
    }));
    const r = answersCheck(compareSlb(ngx, { nginx: [{ node: 'lb1', alive: false }], cases: [{ ...base, service: 'orders', pool: 'orders-web', answers: answers('h4', 'h5', 'h4', 'h5', 'h4', 'h5', 'h4', 'h5') }] }));
    expect(r.passed).toBe(false);
    expect(r.findings.map((f) => `${f.severity} ${f.message}`)).toEqual([
      'error lb1: nginx is not running (no live master process behind its pid file)',
      expect.stringMatching(/^info lb1 runs nginx: member health and state are not read \(OSS nginx has no runtime API and only passive health/),
    ]);
    // 8 requests 4:4 over h4 and h5 (weights 1:1): neither is missing.
    expect(r.findings.some((f) => /never answered/.test(f.message))).toBe(false);
  });
});
