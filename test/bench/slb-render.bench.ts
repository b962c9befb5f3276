/**
 * `npm run bench slb-render`: intents/slb1 with 1,000 virtual services (HTTPS with a host rule,
 * HTTP and TCP in turn, each with a pool of two members and a health check) on two
 * load-balancer nodes, rendered for haproxy and F5 AS3 (target <= 1 s). Reference measured in
 * the same run: `haproxy -c` reading one of the rendered 1,000-frontend files.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadModelSync } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';
import { report, timed } from './harness.ts';

const N = 1000;
const dir = mkdtempSync(path.join(tmpdir(), 'netloom-bench-slb-'));
try {
  cpSync('intents/slb1', dir, { recursive: true });
  const pools: Record<string, unknown> = {};
  const services: unknown[] = [];
  for (let i = 0; i < N; i++) {
    const kind = (['https', 'http', 'tcp'] as const)[i % 3];
    pools[`p${i}`] = {
      algorithm: kind === 'tcp' ? 'leastconn' : 'roundrobin',
      members: [{ endpoint: 'h1', port: 8000 + (i % 1000), weight: 2 }, { endpoint: 'h2', port: 8000 + (i % 1000), backup: i % 2 === 0 }],
      health_check: kind === 'tcp' ? { type: 'tcp' } : { type: 'http', path: `/health/${i}`, host: `s${i}.example.com` },
      ...(kind === 'tcp' ? {} : { persistence: { type: 'cookie', cookie: 'SRV' } }),
    };
    services.push({
      name: `svc${i}`, vrf: 'BLUE', vip: `10.10.${96 + (i >> 8)}.${i & 255}`, nodes: ['lb1', 'lb2'],
      listeners: [kind === 'https' ? { port: 443, protocol: 'https', certificates: ['shop'], alpn: ['h2', 'http/1.1'] } : { port: kind === 'http' ? 80 : 5432, protocol: kind }],
      ...(kind === 'tcp' ? {} : { rules: [{ host: `api.s${i}.example.com`, path_prefix: '/api/', pool: `p${i}` }] }),
      default_pool: `p${i}`,
    });
  }
  const slb = {
    certificates: { shop: { cert: '/etc/netloom/tls/shop.pem' } },
    vip_ranges: [{ vrf: 'BLUE', prefix: '10.10.96.0/20' }],
    nodes: {
      lb1: { attach: ['leaf1'], targets: ['haproxy', 'f5-as3'], vrfs: { BLUE: { network: 'web', ipv4: '10.10.10.51' } } },
      lb2: { attach: ['leaf2'], targets: ['haproxy', 'f5-as3'], vrfs: { BLUE: { network: 'web', ipv4: '10.10.10.52' } } },
    },
    pools,
    services,
  };
  writeFileSync(path.join(dir, 'slb.yaml'), stringify({ slb }));
  const { ms: modelMs, value: model } = await timed(() => loadModelSync(dir));
  process.stdout.write(`  ${N} virtual services, ${N} pools, 2 nodes x (haproxy + f5-as3); model (validate + resolve) ${modelMs.toFixed(0)} ms, not counted\n`);
  renderModel(model, { devices: ['lb1'] }); // compiles the templates once, as any later render finds them
  const { ms, value: out } = await timed(() => renderModel(model, { devices: ['lb1', 'lb2'] }));
  const cfg = out.artifacts.find((a) => a.path === 'lb1/haproxy.cfg')!;
  const bytes = out.artifacts.reduce((s, a) => s + a.bytes, 0);
  let ref: { name: string; value: number } | undefined;
  if (spawnSync('sh', ['-c', 'command -v haproxy']).status === 0) {
    const f = path.join(dir, 'haproxy.cfg');
    writeFileSync(f, cfg.content.replaceAll('/etc/netloom/tls/shop.pem', path.join(dir, 'shop.pem')));
    spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'shop.pem.key'), '-out', path.join(dir, 'shop.pem'), '-days', '2', '-subj', '/CN=bench'], { stdio: 'pipe' });
    const t0 = performance.now();
    const r = spawnSync('haproxy', ['-c', '-f', f], { encoding: 'utf8' });
    const hapMs = performance.now() - t0;
    if (r.status !== 0) throw new Error(`haproxy -c rejected the bench config: ${r.stdout}${r.stderr}`.slice(0, 800));
    ref = { name: 'haproxy -c reading lb1/haproxy.cfg', value: hapMs / 1000 };
  }
  report({
    name: `render ${N.toLocaleString('en')} virtual services on 2 load-balancer nodes (haproxy.cfg + AS3)`, value: ms / 1000, unit: 's', target: '<= 1 s', reference: ref,
    note: `${out.artifacts.length} files, ${(bytes / 1024).toFixed(0)} KiB; lb1/haproxy.cfg ${cfg.content.split('\n').filter((l) => l.startsWith('frontend ')).length} frontends`,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
