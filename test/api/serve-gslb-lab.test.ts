/**
 * `netloom serve` on a gslb1 lab (its own name and management subnet): GET /metrics carries
 * the health of every GSLB member as probed from its DNS server at each poll
 * (`netloom_gslb_member_up{server,check,address,port}`, what PowerDNS does not export), beside
 * the service's own metrics in one valid exposition; a member server killed in the lab turns
 * its series to 0 within its check's interval + timeout + one poll, and back to 1 when it
 * serves again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labUp, waitConverged } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { inCI } from '../support/ci.ts';
import { memberPid, startMember } from '../support/slb-lab.ts';
import { intentCopy, repoRoot } from '../support/intent-copy.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/sbin/pdns_server') ? 'pdns-server' : undefined;
if (missing && !inCI) console.log(`serve-gslb-lab: skipped, needs ${missing}`);

const LAB = 'h21sgs';
const READ = 'h21s-gslb-read-token-0123456789a';
const PERIOD_S = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const stateDir = mkdtempSync(path.join(tmpdir(), 'netloom-serve-gslb-'));
process.env.NETLOOM_STATE_DIR = path.join(stateDir, 'state');


describe.skipIf(!!missing && !inCI)('netloom serve: GSLB member health in /metrics (gslb1 lab)', () => {
  const copy = intentCopy('intents/gslb1', 3, '172.27');
  let serve: ChildProcess | undefined;
  let output = '';
  let base = '';
  const metrics = async (): Promise<string> => {
    const r = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${READ}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return r.text();
  };
  const up = (text: string, check: string, address: string): number | undefined => {
    const m = new RegExp(`^netloom_gslb_member_up\\{server="ns1",check="${check}",address="${address.replace(/\./g, '\\.')}",port="8080"\\} (\\d)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  /** Polls /metrics until h3's tcp member reads `want`; the time it took. */
  const until = async (want: number, timeoutMs: number): Promise<number> => {
    const t0 = Date.now();
    for (;;) {
      const v = up(await metrics(), 'tcp', '10.10.20.13');
      if (v === want) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) throw new Error(`h3's member did not read ${want} within ${timeoutMs} ms (last ${v})`);
      await sleep(200);
    }
  };

  beforeAll(async () => {
    const { topology, baseDir } = await topologyFromModel(copy.dir, { name: LAB });
    await labUp(topology as never, { name: LAB, baseDir });
    expect((await waitConverged(LAB, { timeoutMs: 60_000 })).pending).toEqual([]);
    serve = spawn(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'serve', copy.dir, '--target', `lab:${LAB}`, '--listen', '127.0.0.1:0', '--state-dir', path.join(stateDir, 'serve'), '--period', String(PERIOD_S), '--no-probes', '--capture-seconds', '0'], { env: { ...process.env, NETLOOM_READ_TOKEN: READ, NETLOOM_ADMIN_TOKEN: 'h21s-gslb-admin-token-0123456789' }, stdio: ['ignore', 'pipe', 'pipe'] });
    serve.stdout!.on('data', (d) => (output += String(d)));
    serve.stderr!.on('data', (d) => (output += String(d)));
    for (let i = 0; i < 240 && !base; i++) {
      base = /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
      if (!base) await sleep(250);
    }
    expect(base, output).not.toBe('');
  }, 240_000);

  afterAll(async () => {
    if (serve && serve.exitCode === null) {
      const exited = new Promise((r) => serve!.once('exit', r));
      serve.kill('SIGTERM');
      await exited;
    }
    await labDown(LAB).catch(() => false);
    copy.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);

  it("every member's probed health in /metrics; a killed member reads 0 within interval + timeout + a poll, and 1 again when restarted", async () => {
    let text = '';
    for (let i = 0; i < 120 && up(text, 'tcp', '10.10.10.11') === undefined; i++) {
      await sleep(500);
      text = await metrics();
    }
    // One family, one HELP and TYPE, beside the service's own metrics.
    expect(text.match(/^# TYPE netloom_gslb_member_up gauge$/gm)).toHaveLength(1);
    expect(text).toMatch(/^netloom_polls_total\{outcome="ok"\} \d+$/m);
    const members = text.split('\n').filter((l) => l.startsWith('netloom_gslb_member_up{'));
    console.log(`serve-gslb: /metrics carries ${members.length} member series:\n  ${members.join('\n  ')}`);
    expect(up(text, 'tcp', '10.10.10.11')).toBe(1);
    expect(up(text, 'tcp', '10.10.20.13')).toBe(1);
    // Every line is a sample of a declared family, or a comment.
    for (const l of text.split('\n').filter(Boolean)) expect(l).toMatch(/^(# (HELP|TYPE) \S+ .+|[a-z_]+(\{[^}]*\})? [-+0-9.eE]+|[a-z_]+(\{[^}]*\})? (NaN|[+-]Inf))$/);

    const pid = await memberPid(LAB, 'h3', 8080);
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGTERM');
    // tcp check: interval 2 s + timeout 1 s, as PowerDNS sees it; the service sees it at its next poll.
    const down = await until(0, 3_000 + 2 * PERIOD_S * 1000 + 5_000);
    console.log(`serve-gslb: h3's member killed -> netloom_gslb_member_up 0 after ${down} ms (poll every ${PERIOD_S} s)`);
    expect(up(await metrics(), 'tcp', '10.10.10.11')).toBe(1);
    await startMember(LAB, 'h3', 'http', 8080);
    const back = await until(1, 2 * PERIOD_S * 1000 + 10_000);
    console.log(`serve-gslb: member restarted -> 1 after ${back} ms`);
  }, 120_000);
});
