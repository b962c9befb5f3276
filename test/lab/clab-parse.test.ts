import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IntentError } from '../../src/util/errors.ts';
import { parseClabFile, parseClabText, planLab, validateClab, classifyImage } from '../../src/lab/index.ts';
import { splitCommandLine } from '../../src/lab/plan.ts';
import { labTag, mgmtHostVeth } from '../../src/lab/names.ts';
import { inferDaemons, parseDaemonsFile } from '../../src/lab/frr.ts';

const examples = fileURLToPath(new URL('../../lab/examples/', import.meta.url));

function intentMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IntentError);
    return (e as Error).message;
  }
  throw new Error('expected an IntentError');
}

describe('containerlab topology parsing', () => {
  it('accepts the hand-written examples and resolves groups, kinds and defaults', () => {
    const p = parseClabFile(path.join(examples, 'ospf-triangle.clab.yml'));
    const plan = planLab(p);
    expect(plan.nodes.map((n) => `${n.name}:${n.role}`)).toEqual(['r1:router', 'r2:router', 'r3:router', 'h1:host', 'h2:host']);
    const r1 = plan.nodes[0];
    // Group bind (daemons) and node bind (frr.conf), both made absolute against the file's directory.
    expect(r1.binds.map((b) => b.target).sort()).toEqual(['/etc/frr/daemons', '/etc/frr/frr.conf']);
    expect(r1.binds.every((b) => path.isAbsolute(b.source) && b.source.startsWith(examples))).toBe(true);
    expect(r1.interfaces).toEqual(['eth1', 'eth2', 'eth3']);
    expect(r1.netns).toBe('nl-ospf-triangle-r1');
    expect(plan.nodes[3].exec[0]).toBe('ip addr add 192.168.1.10/24 dev eth1');
    expect(plan.links[0]).toMatchObject({ a: { node: 'r1', iface: 'eth1' }, b: { node: 'r2', iface: 'eth1' }, mtu: 9500 });

    const bgp = planLab(parseClabFile(path.join(examples, 'bgp-unnumbered.clab.yml')), { name: 'other' });
    expect(bgp.nodes.map((n) => n.image)).toEqual(['quay.io/frrouting/frr:8.4.4', 'quay.io/frrouting/frr:8.4.4']);
    expect(bgp.nodes[0].netns).toBe('nl-other-r1');
  });

  it('concatenates exec lines defaults -> kind -> group -> node and merges env', () => {
    const plan = planLab({
      baseDir: '/',
      topology: validateClab({
        name: 'inh',
        topology: {
          defaults: { kind: 'linux', exec: ['echo d'], env: { A: '1', B: '1' } },
          kinds: { linux: { image: 'alpine:3', exec: ['echo k'] } },
          groups: { g: { exec: ['echo g'], env: { B: '2' } } },
          nodes: { h: { group: 'g', exec: ['echo n'], env: { C: 3 } } },
        },
      }),
    });
    expect(plan.nodes[0].exec).toEqual(['echo d', 'echo k', 'echo g', 'echo n']);
    expect(plan.nodes[0].env).toEqual({ A: '1', B: '2', C: '3' });
  });

  it('main process (entrypoint + cmd, split as a shell would), startup-delay, and foreign vs generated', () => {
    const plan = planLab(parseClabFile(path.join(examples, 'frr-ebgp/frr-ebgp.clab.yml')));
    const pc1 = plan.nodes.find((n) => n.name === 'pc1')!;
    expect(pc1.main).toEqual(['/bin/sh', '/config/pc.sh']);
    expect(pc1.env).toEqual({ ADDR: '198.51.100.10/24', GW: '198.51.100.1' });
    // Relative bind sources resolve against the file's directory, as containerlab does.
    expect(pc1.binds).toEqual([{ source: path.join(examples, 'frr-ebgp/hosts/pc.sh'), target: '/config/pc.sh', readOnly: true, isDir: false }]);
    expect(plan.generated).toBe(false);
    const ospf = planLab(parseClabFile(path.join(examples, 'frr-ospf-multiarea/frr-ospf-multiarea.clab.yml')));
    expect(ospf.nodes.map((n) => n.startupDelayS)).toEqual([0, 0, 2, 0, 0]);
    expect(ospf.nodes[0].binds).toEqual([{ source: path.join(examples, 'frr-ospf-multiarea/r1'), target: '/etc/frr', readOnly: false, isDir: true }]);
    const gen = planLab({ baseDir: '/', topology: validateClab({ name: 'g', topology: { nodes: { h: { kind: 'linux', image: 'alpine:3', labels: { 'netloom.role': 'endpoint' } } } } }) });
    expect(gen.generated).toBe(true);
    expect(splitCommandLine(`sh -c 'echo "a b"; sleep 1' "x\\"y" z\\ w`)).toEqual(['sh', '-c', 'echo "a b"; sleep 1', 'x"y', 'z w']);
    expect(splitCommandLine(`bash -c 'unterminated`)).toBeUndefined();
    const bad = (n: Record<string, unknown>) => intentMessage(() => planLab({ baseDir: '/', topology: validateClab({ name: 'b', topology: { nodes: { h: { kind: 'linux', image: 'alpine:3', ...n } } } }) }));
    expect(bad({ cmd: `sh -c 'x` })).toMatch(/node 'h': cmd .* \(unbalanced quotes\)/);
  });

  it('rejects a file that fails the containerlab schema, naming the line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nl-clab-'));
    const f = path.join(dir, 'bad.clab.yml');
    writeFileSync(f, 'name: bad\ntopology:\n  nodes:\n    r1:\n      kind: linux\n      binds: not-a-list\n');
    const msg = intentMessage(() => parseClabFile(f));
    expect(msg).toContain(`${f}:6:`);
    expect(msg).toMatch(/not a valid containerlab topology: topology\.nodes\.r1\.binds: must be array/);
    expect(intentMessage(() => parseClabText('name: x\ntopology:\n  nodes: {}\n  nodez: {}\n'))).toMatch(/unknown property 'nodez'/);
    expect(intentMessage(() => parseClabText('topology:\n  nodes: {}\n'))).toMatch(/must have required property 'name'/);
    expect(intentMessage(() => validateClab({ name: 'x', topology: { nodes: { a: { kind: 'no_such_kind' } } } }))).toMatch(/kind: must be one of/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects node kinds and images it cannot run, before anything is created', () => {
    const topo = (node: object) => ({ baseDir: '/', topology: validateClab({ name: 'k', topology: { nodes: { x: node } } }) });
    expect(intentMessage(() => planLab(topo({ kind: 'arista_ceos', image: 'ceos:4.32' })))).toMatch(/kind 'arista_ceos' cannot run/);
    expect(intentMessage(() => planLab(topo({ kind: 'nokia_srlinux', image: 'ghcr.io/nokia/srlinux' })))).toMatch(/kind 'nokia_srlinux'/);
    expect(intentMessage(() => planLab(topo({ kind: 'linux', image: 'nginx:latest' })))).toMatch(/image 'nginx:latest' is neither FRR/);
    expect(intentMessage(() => planLab(topo({ kind: 'linux', image: 'alpine', 'network-mode': 'host' })))).toMatch(/network-mode 'host'/);
    expect(intentMessage(() => planLab(topo({ kind: 'linux', image: 'alpine', binds: ['missing.sh:/x.sh'] })))).toMatch(/bind source 'missing.sh' does not exist/);
  });

  it('rejects links that leave the lab or reuse interfaces', () => {
    const t = (links: object[]) => ({
      baseDir: '/',
      topology: validateClab({ name: 'l', topology: { nodes: { a: { kind: 'linux', image: 'alpine' }, b: { kind: 'linux', image: 'alpine' } }, links } }),
    });
    expect(intentMessage(() => planLab(t([{ endpoints: ['a:eth1', 'host:veth9'] }])))).toMatch(/leaves the lab/);
    expect(intentMessage(() => planLab(t([{ endpoints: ['a:eth1', 'b:eth1'] }, { endpoints: ['a:eth1', 'b:eth2'] }])))).toMatch(/used twice/);
    expect(intentMessage(() => planLab(t([{ endpoints: ['a:eth0', 'b:eth1'] }])))).toMatch(/management interface/);
    expect(intentMessage(() => planLab(t([{ endpoints: ['a:eth1', 'c:eth1'] }])))).toMatch(/'c' is not defined/);
    expect(intentMessage(() => planLab(t([{ endpoints: ['a:averyveryverylongname', 'b:eth1'] }])))).toMatch(/1-15 characters/);
    const ok = planLab(t([{ type: 'veth', endpoints: [{ node: 'a', interface: 'e1' }, { node: 'b', interface: 'e1' }], mtu: 1500 }]));
    expect(ok.links[0]).toMatchObject({ a: { node: 'a', iface: 'e1' }, mtu: 1500 });
  });

  it('classifies images and keeps host-side names within 15 characters', () => {
    expect(classifyImage('quay.io/frrouting/frr:10.1.0')).toBe('router');
    expect(classifyImage('frrouting/frr')).toBe('router');
    expect(classifyImage('alpine:latest')).toBe('host');
    expect(classifyImage('nicolaka/netshoot')).toBe('host');
    expect(classifyImage('ceos:4.32')).toBeUndefined();
    const tag = labTag('a-very-long-lab-name');
    expect(tag.length).toBeLessThanOrEqual(7);
    expect(labTag('a-very-long-lab-name2')).not.toBe(tag);
    expect(mgmtHostVeth(tag, 9999).length).toBeLessThanOrEqual(15);
  });

  it('reads FRR daemons files and infers daemons from frr.conf', () => {
    expect(parseDaemonsFile('bgpd=yes\nospfd=no\nbfdd=yes\nfrr_profile="datacenter"\n')).toEqual({ enabled: ['zebra', 'bgpd', 'staticd', 'bfdd'], profile: 'datacenter' });
    expect(inferDaemons('router bgp 65000\n neighbor eth1 interface remote-as external\n!\ninterface eth1\n ip ospf area 0\n')).toEqual(['zebra', 'bgpd', 'ospfd', 'staticd']);
  });
});
