/**
 * GSLB in the lab (intents/gslb1 under its own name and management subnet): ns1 runs Debian's
 * pdns_server as a service node on leaf1 (started with the warm-up plan), the slb lab's member
 * servers run on the endpoints.
 *  - live-gslb-answers is green: every answer ns1 gives equals predictAnswer for the member
 *    health probed from ns1, and the whole live verification passes;
 *  - clients in other subnets (h3, routed through the fabric) get the same answers;
 *  - a member server killed leaves all.gslb.example.com within the tcp check's interval +
 *    timeout (measured, printed), and returns when restarted.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getLabState, labExec } from '../../src/lab/index.ts';
import { inventoryFromLab } from '../../src/push/inventory.ts';
import { runRollout } from '../../src/push/rollout.ts';
import { SERVICE_RUN_DIR } from '../../src/lab/topology-from-model.ts';
import { runDir } from '../../src/lab/state.ts';
import { loadModelSync } from '../../src/model/index.ts';
import type { GslbModel } from '../../src/domains/gslb/model.ts';
import { detectionMs } from '../../src/domains/gslb/checks.ts';
import { verifyLive } from '../../src/verify/live/run.ts';
import { inCI } from '../support/ci.ts';
import { memberPid, startMember } from '../support/slb-lab.ts';
import { until } from '../support/until.ts';
import { intentCopy } from '../support/intent-copy.ts';
import { intentLab } from './helpers.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/sbin/pdns_server') ? 'pdns-server' : undefined;
if (missing && !inCI) console.log(`gslb-lab: skipped, needs ${missing}`);

const LAB = 'hgsgslb';

async function dig(from: string, ...query: string[]): Promise<string[]> {
  const r = await labExec(LAB, from, ['dig', '+short', '+tries=1', '+time=2', '@10.10.10.53', ...query], { timeoutMs: 10_000 });
  return r.stdout.split('\n').filter((l) => /^[0-9a-f.:]+$/.test(l)).sort();
}



describe.skipIf(!!missing && !inCI)('GSLB in the lab: PowerDNS as a service node (intents/gslb1)', () => {
  const copy = intentCopy('intents/gslb1', 141, '172.27');
  const model = loadModelSync(copy.dir);
  const tcp = (model.domains.gslb as GslbModel).healthChecks.find((h) => h.name === 'tcp')!;

  intentLab(copy, LAB);

  it('ns1 answers as the model predicts for the health it probes (live-gslb-answers), and the whole live verification passes', async () => {
    const { results } = await verifyLive(model, `lab:${LAB}`);
    expect(results.filter((r) => !r.passed).map((r) => `${r.check.id}: ${r.findings.map((f) => f.message).join('; ')}`)).toEqual([]);
    const g = results.find((r) => r.check.id === 'live-gslb-answers')!;
    expect(g.examined).toBe('7 answers from 1 DNS server(s)');
    expect(g.details).toEqual(expect.arrayContaining(['ns1: 10.10.10.11:8080 (tcp) up', 'ns1: 10.10.20.13:8080 (tcp) up']));
  }, 120_000);

  it('a client in another subnet gets the same answers; a killed member leaves all.gslb within interval + timeout and comes back', async () => {
    expect(await dig('h3', 'all.gslb.example.com', 'A')).toEqual(['10.10.10.11', '10.10.20.13']);
    expect(await dig('h1', 'all.gslb.example.com', 'A')).toEqual(['10.10.10.11', '10.10.20.13']);
    const pid = await memberPid(LAB, 'h3', 8080);
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGTERM');
    const gone = await until('h3 out of all.gslb', () => dig('h1', 'all.gslb.example.com', 'A'), ['10.10.10.11'], detectionMs(tcp) + 5_000);
    console.log(`gslb-lab: h3's member killed -> out of all.gslb.example.com after ${gone} ms (tcp check: interval ${tcp.intervalMs} ms + timeout ${tcp.timeoutMs} ms)`);
    expect(gone).toBeLessThanOrEqual(detectionMs(tcp) + 1_000);
    await startMember(LAB, 'h3', 'http', 8080);
    const back = await until('h3 back in all.gslb', () => dig('h1', 'all.gslb.example.com', 'A'), ['10.10.10.11', '10.10.20.13'], detectionMs(tcp) + 5_000);
    console.log(`gslb-lab: member restarted -> back after ${back} ms`);
    const { results } = await verifyLive(model, `lab:${LAB}`, { probes: false });
    expect(results.find((r) => r.check.id === 'live-gslb-answers')!.passed).toBe(true);
  }, 60_000);

  it('apply pushes a zone change to ns1: re-read in place (same pdns_server), the new name answers; nothing else reloads', async () => {
    // PowerDNS writes its pid beside its control socket, in the node's private run directory.
    const pdnsPid = async () => readFileSync(path.join(runDir(LAB), SERVICE_RUN_DIR, 'ns1', 'pdns.pid'), 'utf8').trim();
    const first = await runRollout({ model: loadModelSync(copy.dir), inventory: inventoryFromLab(getLabState(LAB)), confirmTimeoutS: 60 });
    expect(first.ok, JSON.stringify(first.results.filter((x) => x.action !== 'unchanged'))).toBe(true);
    const before = await pdnsPid();
    expect(before).toMatch(/^\d+$/);
    expect(await dig('h1', 'new.gslb.example.com', 'A')).toEqual([]);
    const file = path.join(copy.dir, 'gslb.yaml');
    writeFileSync(file, readFileSync(file, 'utf8') + '    - { name: new.gslb.example.com, policy: all-healthy, pools: [web-dc1], health_check: tcp }\n');
    const r = await runRollout({ model: loadModelSync(copy.dir), inventory: inventoryFromLab(getLabState(LAB)), confirmTimeoutS: 60 });
    expect(r.ok, JSON.stringify(r.results.filter((x) => x.action !== 'unchanged'))).toBe(true);
    expect(r.results.filter((x) => x.action === 'applied').map((x) => [x.device, x.reason])).toEqual([['ns1', 'warmup.queries (read at the next service start), gslb.example.com.zone']]);
    const ms = await until('new.gslb.example.com answers', () => dig('h1', 'new.gslb.example.com', 'A'), ['10.10.10.11', '10.10.20.13'], 15_000);
    console.log(`gslb-lab: a new name pushed by apply answers ${ms} ms after the apply (zone re-read in place)`);
    expect(await pdnsPid()).toBe(before);
  }, 180_000);
});
