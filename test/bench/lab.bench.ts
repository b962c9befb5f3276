// `npm run bench lab`: time from `lab up` to converged (FRR's own neighbour states) per topology.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { report, timed } from './harness.ts';
import { labDown, labUp, waitConverged, type ClabTopology, type ExpectedSession } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { expectedSessions } from '../../src/lab/expected-from-model.ts';
import { generateFabricIntent } from '../../src/intent/generate.ts';

interface LabBench {
  name: string;
  /** A .clab.yml path, or a function building the topology for a lab name (e.g. from the model). */
  topology: string | ((lab: string) => Promise<{ topology: ClabTopology; baseDir: string; expected?: ExpectedSession[] }>);
  target?: string;
  timeoutMs?: number;
}

const examples = fileURLToPath(new URL('../../lab/examples/', import.meta.url));

/**
 * A fabric from an intent directory: rendered, exported and waited on until every BGP session
 * and OSPF adjacency of the model is up (not only those FRR happens to have configured).
 * `mgmt` replaces the intent's management pool, so a lab already up on it does not clash.
 */
function fromIntent(dir: string | (() => string), mgmt?: string): (lab: string) => Promise<{ topology: ClabTopology; baseDir: string; expected: ExpectedSession[] }> {
  return async (lab) => {
    let d = typeof dir === 'string' ? dir : dir();
    if (mgmt) {
      const copy = path.join(process.env.NETLOOM_STATE_DIR!, `intent-${lab}`);
      rmSync(copy, { recursive: true, force: true });
      mkdirSync(copy, { recursive: true });
      cpSync(d, copy, { recursive: true });
      const f = path.join(copy, 'fabric.yaml');
      writeFileSync(f, readFileSync(f, 'utf8').replace(/^(\s*mgmt:\s*)\S+/m, `$1${mgmt}`));
      d = copy;
    }
    const src = await topologyFromModel(d, { name: lab });
    return { topology: src.topology, baseDir: src.baseDir, expected: expectedSessions(src.model) };
  };
}

/** The generated 4-spine, 16-leaf fabric (one endpoint per leaf, 2 tenants), written to a temp dir. */
function generated4x16(): string {
  const dir = path.join(process.env.NETLOOM_STATE_DIR!, 'gen4x16');
  mkdirSync(dir, { recursive: true });
  for (const f of generateFabricIntent({ name: 'gen4x16', spinesPerPod: 4, leavesPerPod: 16 })) writeFileSync(path.join(dir, f.name), f.text);
  return dir;
}

export const LAB_BENCHES: LabBench[] = [
  { name: 'ospf-triangle (3 routers, 2 hosts)', topology: path.join(examples, 'ospf-triangle.clab.yml') },
  { name: 'bgp-unnumbered (2 routers)', topology: path.join(examples, 'bgp-unnumbered.clab.yml') },
  { name: 'dc1 (2 spines, 4 leaves, 5 hosts, EVPN)', topology: fromIntent(fileURLToPath(new URL('../../intents/dc1/', import.meta.url)), '172.20.199.0/24'), target: '<= 30 s' },
  { name: 'generated 4 spines, 16 leaves (16 hosts, EVPN)', topology: fromIntent(generated4x16), target: '<= 90 s', timeoutMs: 180_000 },
];

async function main(): Promise<void> {
  if (process.getuid?.() !== 0 || !existsSync('/usr/lib/frr/zebra')) {
    process.stdout.write('  (skipped: lab benches need root and FRR)\n');
    return;
  }
  const stateDir = mkdtempSync(path.join(tmpdir(), 'nl-labbench-'));
  process.env.NETLOOM_STATE_DIR = stateDir;
  try {
    for (const b of LAB_BENCHES) {
      const name = `bench${process.pid.toString(36).slice(-3)}`;
      try {
        let upMs = 0;
        const total = await timed(async () => {
          const src = typeof b.topology === 'string' ? b.topology : await b.topology(name);
          const up = await timed(() =>
            typeof src === 'string' ? labUp(src, { name, runtime: 'netns' }) : labUp(src.topology, { name, baseDir: src.baseDir, runtime: 'netns' }),
          );
          upMs = up.ms;
          const expected = typeof src === 'string' ? undefined : src.expected;
          return waitConverged(name, { timeoutMs: b.timeoutMs ?? 120_000, pollMs: 100, expected });
        });
        if (!total.value.converged) throw new Error(`not converged: ${total.value.pending.slice(0, 5).join('; ')}`);
        report({ name: `${b.name}: lab up`, value: upMs / 1000, unit: 's' });
        report({ name: `${b.name}: lab up to converged`, value: total.ms / 1000, unit: 's', target: b.target });
        const down = await timed(() => labDown(name));
        report({ name: `${b.name}: lab down`, value: down.ms / 1000, unit: 's' });
      } finally {
        await labDown(name).catch(() => {});
      }
    }
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
