/**
 * The firewall's wave check in a rollout into a lab (intents/fw2 under its own name and
 * management subnet): after each wave, every service probe whose enforcing leaves were all
 * pushed by then must get the new policy's verdict.
 *  - the first apply passes it on every wave (the probes ran: the wave log names them);
 *  - a policy change leaf2 does not honour (a table of someone else's in its VRF namespace
 *    drops tcp/8080) fails the wave with leaf2, names the probe, the rule and its line, and
 *    rolls back every device it touched; the rulesets are then the previous ones again.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pushPostChecks, pushWaveChecks } from '../../src/domains/index.ts';
import { getLabState, labExec } from '../../src/lab/index.ts';
import { loadModelSync } from '../../src/model/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { inventoryFromLab } from '../../src/push/inventory.ts';
import { readJournal } from '../../src/push/journal.ts';
import { lineReporter } from '../../src/push/progress.ts';
import { runRollout } from '../../src/push/rollout.ts';
import { verifyLive } from '../../src/verify/live/run.ts';
import { inCI } from '../support/ci.ts';
import { intentCopy } from '../support/intent-copy.ts';
import { intentLab } from './helpers.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/sbin/nft') ? 'nftables' : undefined;
if (missing && !inCI) console.log(`firewall-wave: skipped, needs ${missing}`);

const LAB = 'fwwave';
const FOREIGN_DROP = [
  'ip netns exec SHOP nft add table inet nltest',
  'ip netns exec SHOP nft add chain inet nltest guard "{ type filter hook forward priority -10; }"',
  'ip netns exec SHOP nft add rule inet nltest guard tcp dport 8080 drop',
].join(' && ');

describe.skipIf(!!missing && !inCI)('firewall wave check: each wave proves the new verdicts through its devices (intents/fw2)', () => {
  const copy = intentCopy('intents/fw2', 61, '172.31');
  const rollout = async (model: FabricModel) => {
    const lab = getLabState(LAB);
    const lines: string[] = [];
    const r = await runRollout({
      model, inventory: inventoryFromLab(lab), canary: 1, waveSize: 5, confirmTimeoutS: 60,
      postChecks: pushPostChecks(model), waveChecks: pushWaveChecks(model, { lab }), reporter: lineReporter((l) => lines.push(l)),
    });
    return { r, lines, journal: readJournal(path.join(r.journalDir!, 'journal.jsonl')) };
  };

  intentLab(copy, LAB);

  it('the first apply passes the firewall probes of every wave', async () => {
    const { r, lines, journal } = await rollout(loadModelSync(copy.dir));
    expect(r.ok, JSON.stringify(r.results)).toBe(true);
    const waves = journal.filter((e) => e.t === 'wave-check');
    expect(waves.length).toBeGreaterThan(1);
    expect(waves.every((e) => e.t === 'wave-check' && e.ok)).toBe(true);
    expect(lines.filter((l) => /^\s+wave \d+: .*firewall-probes/.test(l)).length).toBe(waves.length);
  }, 120_000);

  it('a change leaf2 does not enforce fails its wave naming the probe and rule, and is rolled back everywhere', async () => {
    const st = getLabState(LAB);
    const old = loadModelSync(copy.dir);
    const fwFile = path.join(copy.dir, 'firewall.yaml');
    const before = readFileSync(fwFile, 'utf8');
    const foreign = await labExec(st, 'leaf2', ['sh', '-c', FOREIGN_DROP]);
    expect(foreign.code, foreign.stderr).toBe(0);
    try {
      // ssh is refused instead of dropped: every enforcing leaf's ruleset changes.
      writeFileSync(fwFile, before.replace(/(- name: ssh-drop\n\s+services: \[ssh\]\n\s+action: )drop/, '$1reject'));
      const next = loadModelSync(copy.dir);
      const { r, journal } = await rollout(next);
      expect(r.ok).toBe(false);
      const action = Object.fromEntries(r.results.map((x) => [x.device, x.action]));
      expect(action, JSON.stringify(r.results.map((x) => [x.device, x.reason]))).toEqual({ leaf1: 'rolled back', leaf2: 'rolled back', leaf3: 'rolled back', spine1: 'unchanged', spine2: 'unchanged' });
      const failed = journal.filter((e) => e.t === 'wave-check' && !e.ok);
      expect(failed.length).toBe(1);
      const problems = failed[0].t === 'wave-check' ? failed[0].problems : [];
      expect(problems).toContain('firewall-probes: web1 -> 10.10.20.21 tcp/8080: timeout, expected connected (accept by rule web-to-app (firewall.yaml:28) of policy tiers)');
      // Only the service leaf2 drops, and only probes that cross leaf2.
      expect(problems.every((p) => /^firewall-probes: (web1|web2) -> \S+ tcp\/(8080|80): timeout, expected connected/.test(p)), problems.join('\n')).toBe(true);
      expect(problems.filter((p) => p.startsWith('firewall-probes: web1 -> 10.10.20.22 '))).toEqual([]);
    } finally {
      writeFileSync(fwFile, before);
      await labExec(st, 'leaf2', ['ip', 'netns', 'exec', 'SHOP', 'nft', 'delete', 'table', 'inet', 'nltest']);
    }
    // Back on the previous policy: the deployed rulesets are the old ones, the probes agree.
    const live = await verifyLive(old, `lab:${LAB}`);
    const fw = live.results.filter((x) => x.check.id === 'live-firewall-probes' || x.check.id === 'live-firewall-ruleset');
    expect(fw.map((x) => [x.check.id, x.passed, x.findings.slice(0, 3).map((f) => f.message)])).toEqual([
      ['live-firewall-probes', true, []],
      ['live-firewall-ruleset', true, []],
    ]);
    // Hit counters are remembered between reads: the probes of that verification matched each
    // of the four counted rules (accept, accept, reject, drop) before the next read.
    const hits = (r: Awaited<ReturnType<typeof verifyLive>>) => r.results.find((x) => x.check.id === 'live-firewall-hits')!;
    expect(hits(live).examined).toMatch(/^4 counted rules: \d matched since first read, \d never$/);
    const again = hits(await verifyLive(old, `lab:${LAB}`));
    expect([again.passed, again.examined, again.findings.filter((f) => /first read/.test(f.message))]).toEqual([true, '4 counted rules: 4 matched since first read, 0 never', []]);
  }, 180_000);
});
