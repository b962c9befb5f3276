/**
 * `npm run bench gslb-render`: intents/gslb1 with 10,000 GSLB names (the four policies in turn,
 * over gslb1's pools and checks) on one DNS server, rendered for PowerDNS and F5 AS3 (target
 * <= 1 s). Reference measured in the same run: `pdnsutil check-zone` reading the rendered zone.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadModelSync } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';
import { report, timed } from './harness.ts';

const N = 10_000;
const dir = mkdtempSync(path.join(tmpdir(), 'netloom-bench-gslb-'));
try {
  cpSync('intents/gslb1', dir, { recursive: true });
  const file = path.join(dir, 'gslb.yaml');
  const doc = parse(readFileSync(file, 'utf8'));
  const templates = doc.gslb.names;
  doc.gslb.names = Array.from({ length: N }, (_, i) => ({ ...structuredClone(templates[i % templates.length]), name: `n${i}.gslb.example.com` }));
  writeFileSync(file, stringify(doc));
  const { ms: modelMs, value: model } = await timed(() => loadModelSync(dir));
  process.stdout.write(`  ${N.toLocaleString('en')} names (failover, weighted, topology, all-healthy), 1 DNS server x (powerdns + f5-as3); model (validate + resolve) ${modelMs.toFixed(0)} ms, not counted\n`);
  const { ms, value: out } = await timed(() => renderModel(model, { devices: ['ns1'] }));
  const zone = out.artifacts.find((a) => a.path === 'ns1/gslb.example.com.zone')!;
  const bytes = out.artifacts.reduce((s, a) => s + a.bytes, 0);
  let ref: { name: string; value: number } | undefined;
  if (spawnSync('sh', ['-c', 'command -v pdnsutil']).status === 0) {
    for (const f of out.artifacts.filter((a) => a.platform === 'powerdns')) {
      const content = f.content.replace(/directory "[^"]*"/, `directory "${dir}"`).replace(/^bind-config=.*$/m, `bind-config=${path.join(dir, 'named.conf')}`).replace(/^socket-dir=.*$/m, `socket-dir=${dir}`);
      writeFileSync(path.join(dir, path.basename(f.path)), content);
    }
    const t0 = performance.now();
    const r = spawnSync('pdnsutil', [`--config-dir=${dir}`, 'check-zone', 'gslb.example.com'], { encoding: 'utf8' });
    const refMs = performance.now() - t0;
    if (r.status !== 0) throw new Error(`pdnsutil check-zone rejected the bench zone: ${r.stdout}${r.stderr}`.slice(0, 800));
    ref = { name: 'pdnsutil check-zone reading the zone', value: refMs / 1000 };
  }
  report({
    name: `render ${N.toLocaleString('en')} GSLB names (PowerDNS zone + AS3)`, value: ms / 1000, unit: 's', target: '<= 1 s', reference: ref,
    note: `${out.artifacts.length} files, ${(bytes / 1024).toFixed(0)} KiB; ${zone.content.split('\n').filter((l) => l.includes(' IN LUA ')).length} LUA records`,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
