/**
 * The slb domain's files, checked by the real tools: every rendered haproxy.cfg by
 * `haproxy -c -f`, every nginx.conf by `nginx -t` in a scratch prefix (inside a network
 * namespace of its own where binding the VIPs is allowed: nginx -t binds its listeners), with
 * throwaway certificates made by openssl; F5 AS3 declarations by golden files and their
 * structure (classes, and every pool, monitor, TLS profile and persistence they use exists).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadModelSync } from '../../../src/model/index.ts';
import { renderModel, type RenderedArtifact } from '../../../src/render/index.ts';
import { IntentError, formatDiagnostic } from '../../../src/util/errors.ts';
import { inCI } from '../../support/ci.ts';
import { cleanupCopies, nginxCapable, repoRoot, scratchDir, slb1Copy, withTestCerts } from './fixtures.ts';

const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const missing = ['haproxy', 'nginx', 'openssl', 'unshare'].filter((b) => !have(b));
const isRoot = process.getuid?.() === 0;
afterAll(cleanupCopies);

/** The slb domain's own files of its nodes (service-node files - FRR, node.sh - are the core's). */
const nodeFiles = (dir: string, devices?: string[]): RenderedArtifact[] => renderModel(loadModelSync(dir), { artifactSets: [], devices }).artifacts.filter((a) => a.device.startsWith('lb') && a.platform !== 'service-node');
const renderErrors = (dir: string): string[] => {
  try {
    renderModel(loadModelSync(dir), { artifactSets: [] });
  } catch (e) {
    if (e instanceof IntentError) return e.diagnostics.map(formatDiagnostic);
    throw e;
  }
  return [];
};

/** Every feature at once, with strings that need escaping in every target. */
function allFeatures(slb: any): void {
  slb.pools['shop-web'].algorithm = 'uri';
  slb.pools['shop-web'].members.push({ address: '10.10.10.77', port: 8080, drain: true });
  slb.pools['shop-api'].algorithm = 'static-rr';
  slb.pools['orders-web'].algorithm = 'source';
  slb.pools['orders-web'].persistence = { type: 'source', timeout: '10m' };
  slb.pools['orders-db'].algorithm = 'random';
  slb.pools['orders-db'].timeouts = { connect: '2s', server: '1h' };
  slb.services[0].rules.push(
    { name: 'canary', header: { name: 'X-Canary', value: "1 $HOME 'q' #;{}" }, pool: 'shop-api' },
    { name: 'wild', host: '*.shop.example.com', path_prefix: "/a$b'c;d(e)*f", pool: 'shop-web' },
  );
  slb.services[0].maxconn = 5000;
  slb.services[0].timeouts = { client: '1m' };
  slb.defaults = { timeouts: { connect: '3s', client: '20s', server: '40s' }, maxconn: 50000 };
}

describe('which files a load-balancer node gets', () => {
  const files = nodeFiles(path.join(repoRoot, 'intents/slb1'));

  it('per node, one file set per target it lists; AS3 one declaration per tenant it serves', () => {
    expect(files.map((a) => a.path).sort()).toEqual(['lb1/as3-blue.json', 'lb1/as3-red.json', 'lb1/haproxy.cfg', 'lb2/as3-blue.json', 'lb2/haproxy.cfg']);
    expect(files.find((a) => a.path === 'lb1/haproxy.cfg')!.platform).toBe('haproxy');
    // dc1 has no slb section: no node files, and rendering a device alone never renders nodes.
    expect(nodeFiles(path.join(repoRoot, 'intents/dc1'))).toEqual([]);
    expect(nodeFiles(path.join(repoRoot, 'intents/slb1'), ['leaf1'])).toEqual([]);
    expect(nodeFiles(path.join(repoRoot, 'intents/slb1'), ['lb2']).map((a) => a.path)).toEqual(['lb2/haproxy.cfg', 'lb2/as3-blue.json']);
  });

  const nginxFiles = nodeFiles(slb1Copy((slb) => {
    nginxCapable(slb);
    for (const m of slb.pools['orders-db'].members) m.backup = false;
    for (const n of Object.values<any>(slb.nodes)) n.targets = ['nginx'];
  }));
  it.each([
    ['slb1', files],
    ['slb1-nginx', nginxFiles],
  ])('%s matches test/render/golden/%s (UPDATE_GOLDEN=1 rewrites it)', (name, list) => {
    const dir = path.join(repoRoot, 'test/render/golden', name);
    for (const a of list) {
      const file = path.join(dir, a.path);
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, a.content);
      }
      expect(existsSync(file), `${file} missing (UPDATE_GOLDEN=1)`).toBe(true);
      expect(a.content, a.path).toBe(readFileSync(file, 'utf8'));
    }
    const onDisk = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.relative(dir, path.join(d.parentPath, d.name)));
    expect(onDisk.sort()).toEqual(list.map((a) => a.path).sort());
  });

  it('members follow their endpoints: renumbering a network needs no slb edit', () => {
    const dir = slb1Copy(undefined, (f) => {
      const h1 = f['endpoints.yaml'].endpoints.find((e: any) => e.name === 'h1');
      h1.ipv4 = '10.10.10.111/24';
    });
    const cfg = nodeFiles(dir).find((a) => a.path === 'lb1/haproxy.cfg')!.content;
    expect(cfg).toContain('server h1 10.10.10.111:8080 weight 3 ');
    expect(cfg).not.toContain('10.10.10.11:8080');
  });

  it('the CLI writes node files into the manifest; render --device lb1 writes only lb1', () => {
    const out = scratchDir('out');
    const cli = (...a: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), ...a], { encoding: 'utf8' });
    const r = cli('render', path.join(repoRoot, 'intents/slb1'), '--out', out);
    expect(r.status, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { artifacts: { path: string; platform: string }[] };
    expect(manifest.artifacts.filter((a) => a.path.startsWith('lb')).map((a) => `${a.path} ${a.platform}`).sort()).toEqual([
      'lb1/announce.sh service-node', 'lb1/as3-blue.json f5-as3', 'lb1/as3-red.json f5-as3', 'lb1/daemons service-node', 'lb1/frr.conf service-node', 'lb1/haproxy.cfg haproxy', 'lb1/node.sh service-node',
      'lb2/announce.sh service-node', 'lb2/as3-blue.json f5-as3', 'lb2/daemons service-node', 'lb2/frr.conf service-node', 'lb2/haproxy.cfg haproxy', 'lb2/node.sh service-node',
    ]);
    for (const a of files) expect(readFileSync(path.join(out, a.path), 'utf8')).toBe(a.content);
    const one = scratchDir('out1');
    const r1 = cli('render', path.join(repoRoot, 'intents/slb1'), '--out', one, '--device', 'lb1');
    expect(r1.status, r1.stderr).toBe(0);
    expect(readdirSync(one).sort()).toEqual(['lb1', 'manifest.json']);
  });
});

describe('escaping: every intent string stays in its place', () => {
  const dir = slb1Copy((slb) => {
    allFeatures(slb);
    for (const n of Object.values<any>(slb.nodes)) n.targets = ['haproxy', 'nginx'];
    nginxCapable(slb);
    delete slb.services[0].maxconn;
    slb.pools['orders-db'].algorithm = 'leastconn';
    slb.pools['orders-db'].members[1].backup = false;
    slb.pools['orders-web'].algorithm = 'roundrobin';
  });
  const files = nodeFiles(dir);
  const hap = files.find((a) => a.path === 'lb1/haproxy.cfg')!.content;
  const ngx = files.find((a) => a.path === 'lb1/nginx.conf')!.content;

  it('HAProxy: inside double quotes, "$" escaped (no environment expansion)', () => {
    expect(hap).toContain(`acl r3_hdr req.hdr(X-Canary) -m str "1 \\$HOME 'q' #;{}"`);
    expect(hap).toContain(`acl r4_path path -m beg "/a\\$b'c;d(e)*f"`);
    expect(hap).toContain('acl r4_host req.hdr(host),field(1,:),lower -m end ".shop.example.com"');
    expect(hap).toContain('use_backend shop-web if r4_host r4_path  # wild');
  });

  it('nginx: one map per condition, regexes escaped, then quoted', () => {
    expect(ngx).toContain(`"~^1 \\\\$HOME 'q' #;\\\\{\\\\}$" "1";`);
    expect(ngx).toContain(`"~^\\\\/a\\\\$b'c;d\\\\(e\\\\)\\\\*f" "1";`);
    expect(ngx).toMatch(/map "\$(nl_l\d+)_c1\$\1_c2\$\1_c3\$\1_c4\$\1_c5\$\1_c6" \$\1_pool \{\n {8}default "shop-web";\n {8}"~\^1\.{5}" "shop-api";\n {8}"~\^\.11\.{3}" "shop-api";\n {8}"~\^\.{3}1\.\." "shop-api";\n {8}"~\^\.{4}11" "shop-web";\n/);
    expect(ngx).toMatch(/map "\$host" \$nl_l\d+_c5 \{\n {8}hostnames;\n {8}default "0";\n {8}"\*\.shop\.example\.com" "1";/);
  });
});

describe('what a target cannot express is an error naming feature, target and intent line', () => {
  it('nginx: active health checks, cookie persistence, slow start; AS3: hash algorithms', () => {
    const dir = slb1Copy((slb) => {
      slb.nodes.lb2.targets = ['nginx'];
      slb.pools['shop-api'].algorithm = 'source';
    });
    const errs = renderErrors(dir);
    const f = `${dir}/slb.yaml`;
    expect(errs).toEqual(expect.arrayContaining([
      `${f}:51:9: load-balancer node lb2: target nginx cannot express active health checks (NGINX Plus only; OSS nginx marks members down only from failed requests) (pool 'shop-web')`,
      `${f}:41:5: load-balancer node lb2: target nginx cannot express slow start (NGINX Plus only) (pool 'shop-web')`,
      `${f}:62:9: load-balancer node lb2: target nginx cannot express cookie persistence (sticky is NGINX Plus only) (pool 'shop-web')`,
      `${f}:70:11: load-balancer node lb2: target nginx cannot express a backup member with algorithm source (nginx refuses backup with hash and random) (member h2 of pool 'shop-api')`,
      `${f}:65:5: load-balancer node lb1: target f5-as3 cannot express algorithm source (no BIG-IP load-balancing mode; it needs an iRule) (pool 'shop-api')`,
    ]));
    expect(errs.length).toBe(7);
    // Nothing is half-written: the CLI exits non-zero with file:line:col lines only.
    const out = scratchDir('gap-out');
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'render', dir, '--out', out], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('target nginx cannot express');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe.skipIf((missing.length > 0 || !isRoot) && !inCI)(`the real tools accept every file [needs root, ${['haproxy', 'nginx', 'openssl', 'unshare'].join(', ')}]`, () => {
  const haproxyCheck = (content: string) => {
    const d = scratchDir('hap');
    const f = path.join(d, 'haproxy.cfg');
    writeFileSync(f, content);
    return spawnSync('haproxy', ['-c', '-f', f], { encoding: 'utf8' });
  };
  const nginxCheck = (content: string) => {
    const prefix = scratchDir('ngx');
    writeFileSync(path.join(prefix, 'nginx.conf'), content);
    // nginx -t binds the listeners: in a namespace of its own, allowed to bind addresses it lacks.
    const script = `ip link set lo up && sysctl -qw net.ipv4.ip_nonlocal_bind=1 net.ipv6.ip_nonlocal_bind=1 && nginx -t -q -e stderr -p '${prefix}' -c nginx.conf`;
    return spawnSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8' });
  };

  const variants: [string, (slb: any) => void][] = [
    ['slb1', () => {}],
    ['all features', (slb) => allFeatures(slb)],
  ];
  for (const [label, edit] of variants) {
    it(`haproxy -c accepts every haproxy.cfg of ${label}`, () => {
      const certs = scratchDir('certs');
      const files = nodeFiles(slb1Copy((slb) => {
        edit(slb);
        for (const n of Object.values<any>(slb.nodes)) n.targets = ['haproxy'];
        withTestCerts(slb, certs);
      })).filter((a) => a.artifact === 'haproxy.cfg');
      expect(files.length).toBe(2);
      for (const a of files) {
        const r = haproxyCheck(a.content);
        expect(r.status, `${a.path}: ${r.stdout}${r.stderr}`).toBe(0);
        expect(r.stdout).toContain('Configuration file is valid');
      }
    });

    it(`nginx -t accepts every nginx.conf of ${label} (what OSS nginx can express)`, () => {
      const certs = scratchDir('certs');
      const files = nodeFiles(slb1Copy((slb) => {
        edit(slb);
        nginxCapable(slb);
        delete slb.services[0].maxconn;
        for (const p of Object.values<any>(slb.pools)) {
          if (['source', 'uri', 'random'].includes(p.algorithm) || p.persistence) for (const m of p.members) m.backup = false;
          if (p.persistence?.type === 'source') p.algorithm = 'source';
          delete p.timeouts;
        }
        for (const n of Object.values<any>(slb.nodes)) n.targets = ['nginx'];
        withTestCerts(slb, certs);
      })).filter((a) => a.artifact === 'nginx.conf');
      expect(files.length).toBe(2);
      for (const a of files) {
        const r = nginxCheck(a.content);
        expect(r.status, `${a.path}: ${r.stdout}${r.stderr}`).toBe(0);
      }
      // The stream module is loaded only where a tcp listener needs it (lb1: orders-db).
      expect(files.find((a) => a.device === 'lb1')!.content).toContain('load_module /usr/lib/nginx/modules/ngx_stream_module.so;');
      expect(files.find((a) => a.device === 'lb2')!.content).not.toContain('load_module');
    });
  }

  it('the oracles fail on a broken file (they can fail)', () => {
    const certs = scratchDir('certs');
    const dir = slb1Copy((slb) => {
      slb.nodes.lb1.targets = ['haproxy', 'nginx'];
      nginxCapable(slb);
      for (const m of slb.pools['orders-db'].members) m.backup = false;
      withTestCerts(slb, certs);
    });
    const files = nodeFiles(dir);
    const hap = files.find((a) => a.path === 'lb1/haproxy.cfg')!.content;
    expect(haproxyCheck(hap.replace(/^backend shop-api$/m, 'backend shop-apj')).status).not.toBe(0);
    const ngx = files.find((a) => a.path === 'lb1/nginx.conf')!.content;
    expect(nginxCheck(ngx).status).toBe(0);
    expect(nginxCheck(ngx.replace('proxy_timeout', 'proxy_timeuot')).status).not.toBe(0);
    // nginx -t cannot see a proxy_pass through a variable naming no upstream (it would resolve
    // the name by DNS at run time): every name the routing maps pick is an upstream here.
    const upstreams = new Set([...ngx.matchAll(/^ {4}upstream (\S+) \{$/gm)].map((x) => x[1]));
    const picked = [...ngx.matchAll(/^ {8}(?:default )?"(?:~\^[.1]+" )?"?([A-Za-z][\w.-]*)";$/gm)].map((x) => x[1]).filter((x) => x !== '0' && x !== '1');
    expect(picked.length).toBeGreaterThan(0);
    for (const p of picked) expect(upstreams, p).toContain(p);
  });
});

describe('AS3 declarations: structure', () => {
  const CLASSES = new Set(['Application', 'Service_HTTP', 'Service_HTTPS', 'Service_TCP', 'Pool', 'Monitor', 'TLS_Server', 'Certificate', 'Persist', 'Endpoint_Policy']);
  const files = nodeFiles(path.join(repoRoot, 'intents/slb1')).filter((a) => a.artifact.endsWith('.json'));

  it('valid JSON, one tenant per file, known classes, every reference resolves in its application', () => {
    expect(files.length).toBe(3);
    let refs = 0;
    for (const a of files) {
      const d = JSON.parse(a.content);
      expect(d.class).toBe('ADC');
      expect(d.schemaVersion).toMatch(/^3\.\d+\.\d+$/);
      const tenants = Object.entries<any>(d).filter(([, v]) => v && typeof v === 'object' && v.class === 'Tenant');
      expect(tenants.map(([k]) => `${a.device}/as3-${k}.json`)).toEqual([a.path]);
      for (const [, app] of Object.entries<any>(tenants[0][1]).filter(([k]) => k !== 'class')) {
        expect(app.class).toBe('Application');
        const cls = (name: string) => app[name]?.class;
        for (const [name, obj] of Object.entries<any>(app).filter(([k]) => !['class', 'remark'].includes(k))) {
          expect(CLASSES.has(obj.class), `${a.path} ${name}: class ${obj.class}`).toBe(true);
          if (obj.class.startsWith('Service_')) {
            expect(cls(obj.pool), `${name}.pool`).toBe('Pool');
            refs++;
            if (obj.class === 'Service_HTTPS') expect(cls(obj.serverTLS)).toBe('TLS_Server');
            if (obj.policyEndpoint) expect(cls(obj.policyEndpoint)).toBe('Endpoint_Policy');
            for (const p of obj.persistenceMethods ?? []) expect(cls(p.use)).toBe('Persist');
          }
          if (obj.class === 'Pool') {
            for (const m of obj.monitors ?? []) expect(cls(m.use)).toBe('Monitor');
            for (const m of obj.members) expect(m.serverAddresses.length).toBe(1);
          }
          if (obj.class === 'TLS_Server') for (const c of obj.certificates) expect(cls(c.certificate)).toBe('Certificate');
          if (obj.class === 'Endpoint_Policy') {
            expect(obj.strategy).toBe('first-match');
            for (const r of obj.rules) for (const act of r.actions) {
              expect(cls(act.select.pool.use), `${name} ${r.name}`).toBe('Pool');
              refs++;
            }
          }
        }
      }
    }
    expect(refs).toBe(2 * (1 + 2) + 2);
  });

  it('no key material, only file references', () => {
    for (const a of files) expect(a.content).not.toMatch(/BEGIN [A-Z ]*KEY/);
    const blue = JSON.parse(files.find((a) => a.path === 'lb1/as3-blue.json')!.content);
    expect(blue.blue.shop.shop).toEqual({ class: 'Certificate', certificate: { url: 'file:///etc/netloom/tls/shop.example.com.pem' }, privateKey: { url: 'file:///etc/netloom/tls/shop.example.com.pem.key' } });
  });
});
