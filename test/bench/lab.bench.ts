// `npm run bench lab`: time from `lab up` to converged (FRR's own neighbour states) per topology.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { report, timed } from './harness.ts';
import { labDown, labUp, waitConverged, type ClabTopology } from '../../src/lab/index.ts';

interface LabBench {
  name: string;
  /** A .clab.yml path, or a function building the topology (e.g. from the model). */
  topology: string | (() => Promise<{ topology: ClabTopology; baseDir: string }>);
  target?: string;
  timeoutMs?: number;
}

const examples = fileURLToPath(new URL('../../lab/examples/', import.meta.url));

/** Add topologies here (dc1, a 4-spine 16-leaf fabric...). */
export const LAB_BENCHES: LabBench[] = [
  { name: 'ospf-triangle (3 routers, 2 hosts)', topology: path.join(examples, 'ospf-triangle.clab.yml') },
  { name: 'bgp-unnumbered (2 routers)', topology: path.join(examples, 'bgp-unnumbered.clab.yml') },
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
          const src = typeof b.topology === 'string' ? b.topology : await b.topology();
          const up = await timed(() =>
            typeof src === 'string' ? labUp(src, { name, runtime: 'netns' }) : labUp(src.topology, { name, baseDir: src.baseDir, runtime: 'netns' }),
          );
          upMs = up.ms;
          return waitConverged(name, { timeoutMs: b.timeoutMs ?? 120_000, pollMs: 100 });
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
