/**
 * `npm run bench firewall-render`: a generated 10,000-rule policy (both families, overlapping
 * prefixes, port ranges) in place of fw1's, rendered for one leaf (nftables and iptables
 * files), then loaded into a scratch network namespace: the nftables file by `nft -f` in one
 * transaction, beside `iptables -A` inserting rules one by one (the way SONiC's ACL
 * orchestration did, > 10 minutes for 350 rules there) and `iptables-restore` of the whole file.
 * One-by-one insertion is O(n^2) in iptables-nft, so it runs on the first 1,000 rules only.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FirewallModel } from '../../src/domains/firewall/model.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';
import { generatePolicy } from '../support/firewall-policy-gen.ts';
import { report } from './harness.ts';

const N = 10_000;
const ONE_BY_ONE = 1_000;

const model = loadModelSync('intents/fw1');
const fw = model.domains.firewall as FirewallModel;
const generated = generatePolicy(N, 7);
fw.policies = [{ ...fw.policies[0], rules: generated.rules.map((r, i) => ({ ...r, index: i })) }];

let t = performance.now();
const out = renderModel(model, { devices: ['leaf1'] });
const tRender = performance.now() - t;
const file = (name: string) => out.artifacts.find((a) => a.device === 'leaf1' && a.artifact === name)!.content;
const nft = file('nftables.conf');
const ipt = file('iptables.rules');
report({ name: `render leaf1 with a ${N.toLocaleString('en')}-rule policy (nftables + iptables + ip6tables)`, value: tRender / 1000, unit: 's', target: '<= 1 s', note: `nftables.conf ${(nft.length / 1024).toFixed(0)} KiB, iptables.rules ${ipt.split('\n').filter((l) => l.startsWith('-A')).length} rules` });

const run = (cmd: string, input?: string) => spawnSync('sh', ['-c', cmd], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
if (process.getuid?.() !== 0 || run('command -v nft && command -v iptables-restore').status !== 0) {
  process.stdout.write('  loading part skipped: needs root, nft and iptables\n');
} else {
  const ns = `nlbfw${process.pid}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'nl-fwbench-'));
  try {
    run(`ip netns add ${ns}`);
    const nftFile = path.join(dir, 'nftables.conf');
    writeFileSync(nftFile, nft);
    t = performance.now();
    const n = run(`ip netns exec ${ns} nft -f ${nftFile}`);
    const tNft = performance.now() - t;
    if (n.status !== 0) throw new Error(`nft -f failed: ${n.stderr.slice(0, 500)}`);
    report({ name: `nft -f: the ${N.toLocaleString('en')}-rule ruleset in one transaction`, value: tNft / 1000, unit: 's' });

    const iptFile = path.join(dir, 'iptables.rules');
    writeFileSync(iptFile, ipt);
    t = performance.now();
    const r = run(`ip netns exec ${ns} iptables-restore ${iptFile}`);
    const tRestore = performance.now() - t;
    if (r.status !== 0) throw new Error(`iptables-restore failed: ${r.stderr.slice(0, 500)}`);
    report({ name: `iptables-restore of the same policy (IPv4 part) in one call`, value: tRestore / 1000, unit: 's' });

    // The same rules inserted one `iptables` call at a time: chains first, then -A lines.
    run(`ip netns exec ${ns} iptables-restore`, '*filter\nCOMMIT\n');
    const lines = ipt.split('\n');
    const chains = lines.filter((l) => l.startsWith(':') && !/^:(INPUT|FORWARD|OUTPUT) /.test(l)).map((l) => l.slice(1).split(' ')[0]);
    const appends = lines.filter((l) => l.startsWith('-A')).slice(0, ONE_BY_ONE);
    const script = [...chains.map((c) => `iptables -N ${c}`), ...appends.map((l) => `iptables ${l}`)].join('\n');
    t = performance.now();
    const s = run(`ip netns exec ${ns} sh -e`, script);
    const tOne = performance.now() - t;
    if (s.status !== 0) throw new Error(`iptables one by one failed: ${s.stderr.slice(0, 500)}`);
    const total = lines.filter((l) => l.startsWith('-A')).length;
    report({
      name: `iptables -A, one call per rule, first ${ONE_BY_ONE.toLocaleString('en')} rules`,
      value: tOne / 1000,
      unit: 's',
      note: `${(tOne / ONE_BY_ONE).toFixed(2)} ms per iptables rule, growing with the table; all ${total.toLocaleString('en')} of them would take >= ${((tOne / ONE_BY_ONE) * total / 1000).toFixed(0)} s, against ${(tNft / 1000).toFixed(2)} s for the whole policy in one nft transaction`,
    });
  } finally {
    run(`ip netns del ${ns}`);
    rmSync(dir, { recursive: true, force: true });
  }
}
