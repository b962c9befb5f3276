/**
 * `npm run bench slb-push`: a member drain on a load-balancer node, end to end, in the slb1 lab
 * (network namespaces, FRR, Debian's HAProxy): the intent edited, the model resolved, rendered,
 * the node connected, locked, snapshotted, the change planned (weight only: HAProxy's runtime
 * API), pushed, and the slb runtime and BGP post-checks passed. Target (issue 13): <= 1 s.
 * Measured for an apply to the node alone (the inventory limited to it) and over the whole
 * lab; the reference is the same drain as a checked hitless reload (`haproxy -c` + USR2 until
 * a new worker answers), measured in the same run: what a reload-only tool pays.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { getLabState, labDown, labExec, labUp, waitConverged } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';
import { inventoryFromLab } from '../../src/push/inventory.ts';
import { runRollout } from '../../src/push/rollout.ts';
import { planHaproxy, pushHaproxy, snapshotHaproxy, type HaproxyTarget } from '../../src/push/haproxy-step.ts';
import { intentCopy } from '../support/intent-copy.ts';
import { report, timed } from './harness.ts';

const LAB = 'nlbslb';
const ROUNDS = 5;

async function main(): Promise<void> {
  const copy = intentCopy('intents/slb1', 74, '172.31');
  const slbFile = path.join(copy.dir, 'slb.yaml');
  const original = readFileSync(slbFile, 'utf8');
  const drained = original.replace('        - { endpoint: h5, port: 8080 }\n      health_check: { type: http, path: /, expect_status: ["200-299"] }', '        - { endpoint: h5, port: 8080, drain: true }\n      health_check: { type: http, path: /, expect_status: ["200-299"] }');
  if (drained === original) throw new Error('slb1/slb.yaml: the orders-web member h5 line changed; update the bench');
  try {
    const up = await timed(async () => {
      const { topology, baseDir } = await topologyFromModel(copy.dir, { name: LAB });
      await labUp(topology as never, { name: LAB, baseDir });
      const w = await waitConverged(LAB, { timeoutMs: 90_000 });
      if (w.pending.length) throw new Error(`lab not converged: ${w.pending.join(', ')}`);
    });
    report({ name: 'slb1 lab up + converged (not part of the figures)', value: up.ms / 1000, unit: 's' });
    const all = inventoryFromLab(getLabState(LAB));
    const lb1Only = { ...all, devices: all.devices.filter((d) => d.name === 'lb1') };
    const first = await runRollout({ model: loadModelSync(copy.dir), inventory: all, confirmTimeoutS: 60 });
    if (!first.ok) throw new Error(`first apply failed: ${JSON.stringify(first.results)}`);

    const drain = async (inventory: typeof all, text: string) => {
      writeFileSync(slbFile, text);
      const r = await timed(() => runRollout({ model: loadModelSync(copy.dir), inventory, confirmTimeoutS: 60 }));
      const lb1 = r.value.results.find((x) => x.device === 'lb1');
      if (!r.value.ok || lb1?.action !== 'applied' || !/runtime API/.test(lb1.reason)) throw new Error(`drain apply: ${JSON.stringify(r.value.results.filter((x) => x.action !== 'unchanged'))}`);
      return r.ms;
    };
    const node: number[] = [];
    const whole: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      node.push(await drain(lb1Only, drained), await drain(lb1Only, original));
      whole.push(await drain(all, drained), await drain(all, original));
    }
    // The reference: the same change, installed by a checked hitless reload instead.
    const cfg = (text: string) => {
      writeFileSync(slbFile, text);
      return renderModel(loadModelSync(copy.dir), { devices: ['lb1'] }).artifacts.find((a) => a.artifact === 'haproxy.cfg')!.content;
    };
    const [a, b] = [cfg(drained), cfg(original)];
    const t: HaproxyTarget = { node: 'lb1', host: { exec: (command, o) => labExec(LAB, 'lb1', ['sh', '-c', command], { input: o?.stdin, timeoutMs: o?.timeoutMs }) }, config: '/etc/netloom/haproxy.cfg', pidFile: '/run/netloom/slb/lb1/haproxy.pid', socket: '/run/netloom/slb/lb1/haproxy.sock' };
    const reloads: number[] = [];
    const runtime: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      for (const next of [a, b]) {
        const snap = await snapshotHaproxy(t);
        const plan = planHaproxy(t, snap, next);
        if (!plan.runtime) throw new Error('reference: the drain is not a runtime-only change');
        runtime.push((await timed(() => pushHaproxy(t, plan, next))).ms);
      }
      for (const next of [a, b]) reloads.push((await timed(() => pushHaproxy(t, { changed: true, diff: '', summary: 'reload' }, next))).ms);
    }
    const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)];
    report({ name: `drain (and undrain) of a member on lb1, apply to the node: median of ${node.length}`, value: med(node), unit: 'ms', target: '<= 1000 ms', note: `min ${Math.round(Math.min(...node))}, max ${Math.round(Math.max(...node))}; resolve + render + connect + lock + snapshot + runtime API + post-checks` });
    report({ name: `the same over the whole lab inventory (${all.devices.length} devices and nodes prepared): median of ${whole.length}`, value: med(whole), unit: 'ms', note: `min ${Math.round(Math.min(...whole))}, max ${Math.round(Math.max(...whole))}` });
    report({ name: `  its HAProxy step alone, through the runtime API (set weight, file rewritten): median of ${runtime.length}`, value: med(runtime), unit: 'ms', reference: { name: 'the same change as a checked hitless reload (haproxy -c, USR2, new worker answering)', value: med(reloads) } });
  } finally {
    await labDown(LAB).catch(() => false);
    copy.cleanup();
  }
}

await main();
