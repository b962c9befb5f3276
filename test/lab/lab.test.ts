import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { Client } from 'ssh2';
import { IntentError } from '../../src/util/errors.ts';
import { getLabState, labCapture, labDown, labExec, labStatus, labUp, waitConverged, type LabState } from '../../src/lab/index.ts';
import { hostLinks, labSkipReason, namespaces, processesMentioning, sh } from './helpers.ts';

const skip = labSkipReason();
if (skip) console.warn(`skipping lab tests: ${skip}`);
const examples = fileURLToPath(new URL('../../lab/examples/', import.meta.url));
const stateRoot = mkdtempSync(path.join(tmpdir(), 'nl-labtest-'));
process.env.NETLOOM_STATE_DIR = stateRoot;
// Unique per run so parallel test files (and leftovers of a killed run) never clash.
const suffix = process.pid.toString(36).slice(-4);
const TRI = `tri${suffix}`;

afterAll(() => rmSync(stateRoot, { recursive: true, force: true }));

async function pingUntil(state: LabState, node: string, dst: string, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const r = await labExec(state, node, ['ping', '-c', '1', '-W', '1', dst]);
    if (r.code === 0) return true;
  }
  return false;
}

function assertGone(state: LabState): void {
  const prefix = `nl-${state.name}-`;
  expect(namespaces().filter((n) => n.startsWith(prefix))).toEqual([]);
  expect(hostLinks().filter((l) => l === `nl-${state.tag}` || l.startsWith(`nl-${state.tag}-`))).toEqual([]);
  expect(processesMentioning(prefix)).toEqual([]);
  expect(processesMentioning(state.stateDir)).toEqual([]);
  expect(existsSync(state.stateDir)).toBe(false);
  for (const n of state.nodes) {
    expect(existsSync(`/etc/frr/${n.netns}`)).toBe(false);
    expect(existsSync(`/var/run/frr/${n.netns}`)).toBe(false);
  }
  const routes = sh('ip', ['-4', 'route', 'show', 'table', 'all']);
  expect(routes).not.toContain(`nl-${state.tag}`);
}

function sshRun(state: LabState, node: string, command: string): Promise<{ out: string; code: number }> {
  const n = state.nodes.find((x) => x.name === node)!;
  return new Promise((resolve, reject) => {
    const c = new Client();
    let out = '';
    c.on('ready', () => {
      c.exec(command, (err, stream) => {
        if (err) return reject(err);
        stream.on('data', (d: Buffer) => (out += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (out += d.toString()));
        stream.on('close', (code: number) => {
          c.end();
          resolve({ out, code });
        });
      });
    });
    c.on('error', reject);
    c.connect({
      host: n.mgmtIpv4,
      port: n.sshPort,
      username: n.sshUser,
      privateKey: readFileSync(state.ssh.privateKey),
      // The lab recorded each node's host key fingerprint: accept that key and no other.
      hostVerifier: (key: Buffer) => 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '') === n.hostKeyFingerprint,
      readyTimeout: 10_000,
    });
  });
}

describe.skipIf(!!skip)('lab driver on network namespaces (ospf-triangle)', () => {
  let state: LabState;

  beforeAll(async () => {
    state = await labUp(path.join(examples, 'ospf-triangle.clab.yml'), { name: TRI, runtime: 'netns' });
  }, 120_000);

  afterAll(async () => {
    await labDown(TRI).catch(() => {});
  }, 120_000);

  it('converges: OSPF Full between the three routers, as FRR reports it', async () => {
    const r = await waitConverged(TRI, { timeoutMs: 60_000 });
    expect(r.pending).toEqual([]);
    expect(r.converged).toBe(true);
    const st = await labStatus(TRI);
    for (const name of ['r1', 'r2', 'r3']) {
      const n = st.nodes.find((x) => x.name === name)!;
      expect(n.daemons.map((d) => `${d.name}:${d.alive}`)).toEqual(['zebra:true', 'ospfd:true', 'staticd:true']);
      expect(n.ospf).toHaveLength(2);
      expect(n.ospf.every((o) => o.state.startsWith('Full'))).toBe(true);
    }
    expect(st.nodes.find((x) => x.name === 'r1')!.ospf.map((o) => o.routerId).sort()).toEqual(['10.255.0.2', '10.255.0.3']);
  }, 120_000);

  it('an expected session that does not exist keeps it unconverged', async () => {
    const r = await waitConverged(TRI, { timeoutMs: 0, expected: [{ node: 'r1', protocol: 'ospf', peer: '10.255.0.99' }] });
    expect(r.converged).toBe(false);
    expect(r.pending).toEqual(['r1: expected OSPF neighbor 10.255.0.99 is not seen']);
    const ok = await waitConverged(TRI, { timeoutMs: 10_000, expected: [{ node: 'r1', protocol: 'ospf', peer: '10.255.0.3' }] });
    expect(ok.converged).toBe(true);
  }, 120_000);

  it('hosts behind r1 and r3 ping each other across the routers', async () => {
    expect(await pingUntil(state, 'h1', '192.168.3.10')).toBe(true);
    const tr = await labExec(state, 'h1', ['ip', 'route', 'get', '192.168.3.10']);
    expect(tr.stdout).toContain('via 192.168.1.1 dev eth1');
  }, 120_000);

  it('logs in over ssh with the lab key, checks the host key, and vtysh reaches that node', async () => {
    const r = await sshRun(state, 'r2', "hostname; vtysh -c 'show version'; vtysh -c 'show ip ospf neighbor'");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^r2\n/);
    expect(r.out).toContain('FRRouting');
    expect(r.out).toContain('10.255.0.1');
    expect(r.out).toContain('10.255.0.3');
    // Plain OpenSSH with the generated config/known_hosts (strict host key checking).
    const out = sh('ssh', ['-F', state.ssh.config, '-o', 'BatchMode=yes', 'r3', 'cat /etc/frr/frr.conf; vtysh -C -f /etc/frr/frr.conf && echo CHECK-OK']);
    expect(out).toContain('hostname r3');
    expect(out).toContain('CHECK-OK');
  }, 120_000);

  it('frr-reload.py works unmodified over ssh on the node', async () => {
    const r = await sshRun(state, 'r1', 'python3 /usr/lib/frr/frr-reload.py --test /etc/frr/frr.conf');
    expect(r.code).toBe(0);
    // It compared the file with the running config of this node's daemons: they agree except
    // for the version line, which FRR prints in full (8.4.4) when running.
    const lines = r.out.split('\n').filter((l) => l.trim() && !/ INFO: /.test(l));
    const toAdd = lines.slice(lines.indexOf('Lines To Add') + 2);
    expect(lines).toContain('Lines To Add');
    expect(toAdd.filter((l) => !l.startsWith('frr version'))).toEqual([]);
  }, 120_000);

  it('captures OSPF hellos on r1:eth1 into a pcap tshark reads', async () => {
    const file = path.join(stateRoot, 'r1-eth1.pcap');
    const r = await labCapture(TRI, 'r1:eth1', { seconds: 2.5, out: file });
    expect(r.packets).toBeGreaterThan(0);
    const hellos = execFileSync('tshark', ['-r', file, '-Y', 'ospf.msg == 1', '-T', 'fields', '-e', 'ospf.srcrouter'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean);
    expect(hellos.length).toBeGreaterThanOrEqual(2);
    expect(new Set(hellos)).toEqual(new Set(['10.255.0.1', '10.255.0.2']));
  }, 120_000);

  it('keeps lab addresses inside the lab: no host routes but the mgmt subnet, no default routes in nodes', async () => {
    const routes = JSON.parse(sh('ip', ['-j', '-4', 'route', 'show'])) as { dst: string; dev: string }[];
    const viaLab = routes.filter((r) => r.dev === state.mgmt!.bridge || r.dev.startsWith(`nl-${state.tag}-`));
    expect(viaLab.map((r) => r.dst)).toEqual([state.mgmt!.subnet]);
    for (const pfx of ['10.0.12.0', '192.168.1.0', '192.168.3.0', '10.255.0.1']) {
      expect(routes.some((r) => r.dst.startsWith(pfx))).toBe(false);
    }
    for (const n of state.nodes) {
      expect(sh('ip', ['-n', n.netns, 'route', 'show', 'default'])).toBe('');
      expect(sh('ip', ['-n', n.netns, '-6', 'route', 'show', 'default'])).toBe('');
    }
    expect(readFileSync(`/proc/sys/net/ipv4/conf/${state.mgmt!.bridge}/forwarding`, 'utf8').trim()).toBe('0');
    expect(readFileSync(`/proc/sys/net/ipv6/conf/${state.mgmt!.bridge}/disable_ipv6`, 'utf8').trim()).toBe('1');
    // No NAT anywhere for the lab.
    const nft = existsSync('/usr/sbin/nft') ? sh('nft', ['list', 'ruleset']) : '';
    expect(nft).not.toContain(state.mgmt!.subnet);
    // The host reaches every node's management address.
    for (const n of state.nodes) sh('ping', ['-c', '1', '-W', '2', n.mgmtIpv4!]);
  }, 120_000);

  it('up again with the same topology is a no-op; another topology under the same name is refused', async () => {
    const again = await labUp(path.join(examples, 'ospf-triangle.clab.yml'), { name: TRI, runtime: 'netns' });
    expect(again.createdAt).toBe(state.createdAt);
    await expect(labUp(path.join(examples, 'bgp-unnumbered.clab.yml'), { name: TRI, runtime: 'netns' })).rejects.toThrow(/different topology/);
    expect(getLabState(TRI).status).toBe('running');
  }, 120_000);

  it('down removes every namespace, link, process, mount point and file; down twice is fine', async () => {
    const before = getLabState(TRI);
    expect(await labDown(TRI)).toBe(true);
    assertGone(before);
    expect(await labDown(TRI)).toBe(false);
  }, 120_000);
});

describe.skipIf(!!skip)('lab driver: BGP unnumbered, two labs side by side, rejection before creation', () => {
  const A = `bua${suffix}`;
  const B = `bub${suffix}`;
  afterAll(async () => {
    await labDown(A).catch(() => {});
    await labDown(B).catch(() => {});
  }, 120_000);

  it('two labs of the same topology come up side by side and establish BGP over IPv6 link-local', async () => {
    const [a, b] = await Promise.all([
      labUp(path.join(examples, 'bgp-unnumbered.clab.yml'), { name: A, runtime: 'netns' }),
      labUp(path.join(examples, 'bgp-unnumbered.clab.yml'), { name: B, runtime: 'netns' }),
    ]);
    expect(a.mgmt!.subnet).not.toBe(b.mgmt!.subnet);
    for (const s of [a, b]) {
      const r = await waitConverged(s, { timeoutMs: 60_000 });
      expect(r.pending).toEqual([]);
      const r1 = r.status.nodes.find((n) => n.name === 'r1')!;
      expect(r1.bgp).toHaveLength(1);
      expect(r1.bgp[0]).toMatchObject({ peer: 'eth1', state: 'Established', remoteAs: 65002, hostname: 'r2' });
      expect(r1.bgp[0].address).toMatch(/^fe80::/);
      // The IPv4 loopback learnt over an IPv6 next hop (RFC 5549), and it forwards.
      expect(await pingUntil(s, 'r1', '10.255.1.2')).toBe(true);
      const route = await labExec(s, 'r1', ['ip', 'route', 'show', '10.255.1.2']);
      expect(route.stdout).toMatch(/^10\.255\.1\.2 .*via inet6 fe80::/);
    }
    // Taking one down leaves the other untouched.
    expect(await labDown(A)).toBe(true);
    assertGone(a);
    const still = await waitConverged(B, { timeoutMs: 10_000 });
    expect(still.converged).toBe(true);
    expect(await labDown(B)).toBe(true);
    assertGone(b);
  }, 120_000);

  it("one lab's down leaves the binds of another intact, on mount points the first created", async () => {
    // Unlinking a mount point detaches the binds on it in every namespace: the first lab up
    // creates /opt/nl-bind-*/probe.txt, the second binds onto it too, the first goes down.
    const dir = mkdtempSync(path.join(tmpdir(), 'nl-binds-'));
    const target = `/opt/nl-bind-${suffix}/probe.txt`;
    try {
      cpSync(path.join(examples, 'bgp-unnumbered'), path.join(dir, 'bgp-unnumbered'), { recursive: true });
      writeFileSync(path.join(dir, 'probe.txt'), 'bound\n');
      const topo = readFileSync(path.join(examples, 'bgp-unnumbered.clab.yml'), 'utf8').replace('        - bgp-unnumbered/r1/frr.conf:/etc/frr/frr.conf\n', `        - bgp-unnumbered/r1/frr.conf:/etc/frr/frr.conf\n        - probe.txt:${target}\n`);
      writeFileSync(path.join(dir, 'binds.clab.yml'), topo);
      const C = `bnc${suffix}`;
      const D = `bnd${suffix}`;
      await labUp(path.join(dir, 'binds.clab.yml'), { name: C, runtime: 'netns' });
      await labUp(path.join(dir, 'binds.clab.yml'), { name: D, runtime: 'netns' });
      expect((await labExec(D, 'r1', ['cat', target])).stdout).toBe('bound\n');
      expect(await labDown(C)).toBe(true);
      expect(existsSync(target)).toBe(true);
      expect((await labExec(D, 'r1', ['cat', target])).stdout).toBe('bound\n');
      expect(await labDown(D)).toBe(true);
      expect(existsSync(path.dirname(target))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a node kind it cannot run is rejected before anything is created', async () => {
    const name = `bad${suffix}`;
    const nsBefore = namespaces();
    const linksBefore = hostLinks();
    const err = await labUp(
      {
        name,
        topology: {
          nodes: { r1: { kind: 'linux', image: 'quay.io/frrouting/frr:8.4.4' }, c1: { kind: 'arista_ceos', image: 'ceos:4.32.0F' } },
          links: [{ endpoints: ['r1:eth1', 'c1:eth1'] }],
        },
      },
      { runtime: 'netns' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntentError);
    expect((err as Error).message).toMatch(/kind 'arista_ceos' cannot run/);
    expect(namespaces()).toEqual(nsBefore);
    expect(hostLinks()).toEqual(linksBefore);
    expect(existsSync(path.join(stateRoot, 'labs', name))).toBe(false);
  }, 120_000);

  it('a topology failing the containerlab schema is rejected with a clear message', async () => {
    const err = await labUp({ name: 'schemabad', topology: { nodes: { r1: { kind: 'linux', image: 'alpine', exec: 'not-a-list' } } } } as never, { runtime: 'netns' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntentError);
    expect((err as Error).message).toContain('not a valid containerlab topology: topology.nodes.r1.exec: must be array');
    expect(existsSync(path.join(stateRoot, 'labs', 'schemabad'))).toBe(false);
  }, 120_000);
});
