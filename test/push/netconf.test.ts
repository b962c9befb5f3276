// NETCONF client against a real yuma123 netconfd behind OpenSSH sshd on loopback.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NetconfHostKeyError,
  NetconfRpcError,
  NetconfSession,
  NetconfTimeoutError,
  NetconfTransportError,
  type NetconfConnectOptions,
} from '../../src/push/netconf/index.ts';
import { netconfdMissing, startNetconfd, type NetconfdServer } from '../support/netconfd.ts';
import { interfacesFilter, interfacesXml, parseInterfaces, type IfSpec } from './fixtures/netconf/payloads.ts';
import { inCI } from '../support/ci.ts';

const run = promisify(execFile);
const missing = netconfdMissing();
const skip = missing !== undefined && !inCI;
if (skip) console.warn(`skipping NETCONF server tests: ${missing}`);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip)('NETCONF client against netconfd', () => {
  let srv: NetconfdServer;
  let opts: NetconfConnectOptions;
  const open: NetconfSession[] = [];
  const connect = async (o: Partial<NetconfConnectOptions> = {}): Promise<NetconfSession> => {
    const s = await NetconfSession.connect({ ...opts, ...o });
    open.push(s);
    return s;
  };
  const runningIfs = async (s: NetconfSession, names?: string[]) =>
    parseInterfaces(await s.getConfig({ source: 'running', filter: { subtree: interfacesFilter(names) } }));

  /** Session ids the server lists in ietf-netconf-monitoring. */
  const serverSessionIds = async (s: NetconfSession): Promise<number[]> => {
    const xml = await s.get({ filter: { subtree: '<netconf-state xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"><sessions/></netconf-state>' } });
    return [...xml.matchAll(/<session-id>(\d+)<\/session-id>/g)].map((m) => Number(m[1]));
  };
  /** netconfd writes its log through stdio buffering: poll for a line. */
  const waitLog = async (line: string): Promise<void> => {
    for (let i = 0; i < 60 && !srv.netconfdLog().includes(line); i++) await sleep(50);
    expect(srv.netconfdLog()).toContain(line);
  };

  beforeAll(async () => {
    srv = await startNetconfd({ name: 'nc-client' });
    opts = { host: srv.host, port: srv.port, credentials: srv.credentials, hostKey: { knownHostsFile: srv.knownHostsFile }, rpcTimeoutMs: 15_000 };
  });
  afterAll(async () => {
    try {
      await Promise.allSettled(open.map((s) => s.close({ timeoutMs: 2000 })));
    } finally {
      await srv?.stop();
    }
  });

  it('exchanges hellos: session id, base:1.1 chunked framing, capabilities', async () => {
    const s = await connect();
    expect(s.sessionId).toBeGreaterThan(0);
    expect(s.framingMode).toBe('chunked');
    expect(s.hostKeyFingerprint).toBe(srv.hostKeyFingerprint);
    for (const c of [':candidate', ':confirmed-commit:1.1', ':rollback-on-error', ':validate:1.1', ':xpath']) expect(s.hasCapability(c), c).toBe(true);
    expect(s.hasCapability(':writable-running')).toBe(false);
    expect(s.hasCapability('urn:ietf:params:xml:ns:yang:ietf-interfaces')).toBe(true);
    expect(s.serverCapabilities.some((c) => c.includes('module=ietf-ip&'))).toBe(true);
    expect(await serverSessionIds(s)).toContain(s.sessionId);
  });

  it('speaks base:1.0 end-of-message framing when only 1.0 is offered', async () => {
    const s = await connect({ protocols: ['1.0'] });
    expect(s.framingMode).toBe('eom');
    expect(await s.getConfig({ source: 'running' })).toContain('ietf-netconf-acm');
    await s.close();
    expect(s.isOpen).toBe(false);
  });

  it('edit-config + validate + commit of interfaces with IPv4/IPv6 addresses and MTU; get-config subtree filter', async () => {
    const s = await connect();
    const specs: IfSpec[] = [
      { name: 'swp1', description: 'uplink to spine1', mtu4: 9000, v4: [['10.0.0.1', 31]], mtu6: 9000, v6: [['2001:db8::1', 127], ['2001:db8:1::1', 64]] },
      { name: 'swp2', mtu4: 1500, v4: [['10.0.0.3', 31], ['192.0.2.1', 24]] },
      { name: 'lo0', v4: [['10.255.0.1', 32]], v6: [['2001:db8:ff::1', 128]] },
    ];
    const config = interfacesXml(specs);
    const before = await runningIfs(s);
    expect(before.has('swp1')).toBe(false);
    expect((await s.editConfig({ target: 'candidate', config, defaultOperation: 'merge', errorOption: 'rollback-on-error' })).ok).toBe(true);
    // Running is untouched until commit.
    expect((await runningIfs(s)).has('swp1')).toBe(false);
    // Inline validation: netconfd 2.13's <validate><source><candidate/> makes the next commit a no-op (see lab/netconf/README.md).
    expect((await s.validate({ source: { config } })).ok).toBe(true);
    expect((await s.commit()).ok).toBe(true);
    const after = await runningIfs(s);
    expect(after.get('swp1')).toEqual({
      name: 'swp1',
      description: 'uplink to spine1',
      enabled: 'true',
      mtu4: '9000',
      v4: ['10.0.0.1/31'],
      mtu6: '9000',
      v6: ['2001:db8:1::1/64', '2001:db8::1/127'],
    });
    expect(after.get('swp2')?.v4).toEqual(['10.0.0.3/31', '192.0.2.1/24']);
    expect(after.get('lo0')?.v6).toEqual(['2001:db8:ff::1/128']);
    // Subtree filter by list key returns only the selected entry.
    const only = await runningIfs(s, ['swp2']);
    expect([...only.keys()]).toEqual(['swp2']);
    // XPath filter (the :xpath capability).
    const xp = parseInterfaces(
      await s.getConfig({ filter: { xpath: "/if:interfaces/if:interface[if:name='lo0']", namespaces: { if: 'urn:ietf:params:xml:ns:yang:ietf-interfaces' } } }),
    );
    expect([...xp.keys()]).toEqual(['lo0']);
    // get (config + state) also sees it.
    expect(await s.get({ filter: { subtree: interfacesFilter(['lo0']) } })).toContain('2001:db8:ff::1');

    // default-operation replace on the interfaces container drops what is not in the payload.
    await s.editConfig({ target: 'candidate', config: interfacesXml([specs[0], specs[1]]), defaultOperation: 'replace' });
    await s.commit();
    const replaced = await runningIfs(s);
    expect(replaced.has('lo0')).toBe(false);
    expect(replaced.has('swp1')).toBe(true);
  });

  it('ncclient (python3-ncclient) reads back what netloom wrote', async () => {
    const s = await connect();
    await s.editConfig({ target: 'candidate', config: interfacesXml([{ name: 'xcheck0', description: 'written by netloom', mtu4: 1600, v4: [['198.51.100.7', 29]], v6: [['2001:db8:abc::7', 64]] }]) });
    await s.commit();
    const hostKeyB64 = srv.knownHostsLine.split(' ')[2];
    const script = new URL('./fixtures/netconf/ncclient_get_config.py', import.meta.url).pathname;
    const { stdout } = await run('/usr/bin/python3', [script, srv.host, String(srv.port), srv.username, srv.privateKeyFile, hostKeyB64, 'running', interfacesFilter(['xcheck0'])], { timeout: 30_000 });
    const seen = parseInterfaces(stdout.replace(/^<\?xml[^>]*>/, '').replace(/^\s*<data[^>]*>/, '').replace(/<\/data>\s*$/, ''));
    expect(seen.get('xcheck0')).toEqual({ name: 'xcheck0', description: 'written by netloom', enabled: 'true', mtu4: '1600', v4: ['198.51.100.7/29'], v6: ['2001:db8:abc::7/64'] });
  }, 40_000);

  it('an invalid value comes back as a typed NetconfRpcError with its path', async () => {
    const s = await connect();
    const err = await s.editConfig({ target: 'candidate', config: interfacesXml([{ name: 'bad0', mtu4: 70000 }]) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetconfRpcError);
    const e = err as NetconfRpcError;
    expect(e.operation).toBe('edit-config');
    expect(e.tag).toBe('invalid-value');
    expect(e.errors[0]).toMatchObject({ type: 'protocol', severity: 'error', appTag: 'not-in-range', info: { 'bad-value': '70000' } });
    expect(e.path).toBe("/nc:rpc/nc:edit-config/nc:config/if:interfaces/if:interface[if:name='bad0']/ip:ipv4/ip:mtu");
    expect(e.message).toContain('invalid-value at /nc:rpc/nc:edit-config');
    // An out-of-range IPv4 prefix length too.
    const e2 = (await s.editConfig({ target: 'candidate', config: interfacesXml([{ name: 'bad1', v4: [['10.1.1.1', 33]] }]) }).catch((x: unknown) => x)) as NetconfRpcError;
    expect(e2).toBeInstanceOf(NetconfRpcError);
    expect(e2.path).toMatch(/ip:prefix-length$/);
    expect(s.isOpen).toBe(true);
    await s.discardChanges();
  });

  it('rollback-on-error: an edit with one failing part leaves the candidate unchanged', async () => {
    const s = await connect();
    await s.editConfig({ target: 'candidate', config: interfacesXml([{ name: 'rb-existing', mtu4: 1500 }]) });
    await s.commit();
    const err = (await s
      .editConfig({
        target: 'candidate',
        errorOption: 'rollback-on-error',
        config: interfacesXml([{ name: 'rb-new', mtu4: 1400 }, { name: 'rb-existing', operation: 'create', mtu4: 1300 }]),
      })
      .catch((e: unknown) => e)) as NetconfRpcError;
    expect(err).toBeInstanceOf(NetconfRpcError);
    expect(err.tag).toBe('data-exists');
    expect(err.path).toContain("if:interface[if:name='rb-existing']");
    const cand = parseInterfaces(await s.getConfig({ source: 'candidate', filter: { subtree: interfacesFilter() } }));
    expect(cand.has('rb-new')).toBe(false);
    expect(cand.get('rb-existing')?.mtu4).toBe('1500');
  });

  it('a confirmed commit that is not confirmed is reverted by the server', async () => {
    const s = await connect();
    const before = await runningIfs(s);
    await s.editConfig({ target: 'candidate', config: interfacesXml([{ name: 'cc-revert', v4: [['10.9.9.1', 24]] }]) });
    expect((await s.commit({ confirmed: true, confirmTimeout: 2 })).ok).toBe(true);
    expect((await runningIfs(s)).has('cc-revert')).toBe(true);
    // netconfd 2.13 runs its confirmed-commit timer only after ~1 s without any RPC on the
    // server (polling every 0.9 s starves it for ever), so poll more slowly than that.
    let reverted = false;
    for (let i = 0; i < 12 && !reverted; i++) {
      await sleep(1200);
      reverted = !(await runningIfs(s)).has('cc-revert');
    }
    expect(reverted).toBe(true);
    expect([...(await runningIfs(s)).keys()].sort()).toEqual([...before.keys()].sort());
  }, 30_000);

  it('a confirmed commit confirmed in time stays', async () => {
    const s = await connect();
    await s.editConfig({ target: 'candidate', config: interfacesXml([{ name: 'cc-keep', mtu4: 1450 }]) });
    await s.commit({ confirmed: true, confirmTimeout: 2 });
    await s.commit(); // the confirming commit
    await sleep(3500);
    expect((await runningIfs(s)).get('cc-keep')?.mtu4).toBe('1450');
  }, 30_000);

  it('a persistent confirmed commit is confirmed from another session with persist-id', async () => {
    const a = await connect();
    await a.editConfig({ target: 'candidate', config: interfacesXml([{ name: 'cc-persist' }]) });
    await a.commit({ confirmed: true, confirmTimeout: 3, persist: 'netloom-rollout-1' });
    await a.close();
    const b = await connect();
    expect((await runningIfs(b)).has('cc-persist')).toBe(true);
    const wrong = (await b.commit({ persistId: 'not-it' }).catch((e: unknown) => e)) as NetconfRpcError;
    expect(wrong).toBeInstanceOf(NetconfRpcError);
    await b.commit({ persistId: 'netloom-rollout-1' });
    await sleep(4000);
    expect((await runningIfs(b)).has('cc-persist')).toBe(true);
  }, 30_000);

  it('cancel-commit reverts a pending confirmed commit at once', async () => {
    const s = await connect();
    await s.editConfig({ target: 'candidate', config: interfacesXml([{ name: 'cc-cancel' }]) });
    await s.commit({ confirmed: true, confirmTimeout: 120 });
    expect((await runningIfs(s)).has('cc-cancel')).toBe(true);
    expect((await s.cancelCommit()).ok).toBe(true);
    expect((await runningIfs(s)).has('cc-cancel')).toBe(false);
    // Nothing pending any more: a second cancel is an error.
    await expect(s.cancelCommit()).rejects.toBeInstanceOf(NetconfRpcError);
  });

  it('two sessions contending for the lock: typed lock-denied carrying the holder session id', async () => {
    const a = await connect();
    const b = await connect();
    await a.lock('candidate');
    const err = (await b.lock('candidate').catch((e: unknown) => e)) as NetconfRpcError;
    expect(err).toBeInstanceOf(NetconfRpcError);
    expect(err.tag).toBe('lock-denied');
    expect(err.sessionId).toBe(a.sessionId);
    expect(err.message).toContain(`held by session ${a.sessionId}`);
    // The holder can edit, the other session cannot.
    await a.editConfig({ target: 'candidate', config: interfacesXml([{ name: 'lk0' }]) });
    await expect(b.editConfig({ target: 'candidate', config: interfacesXml([{ name: 'lk1' }]) })).rejects.toMatchObject({ tag: 'in-use' });
    await a.discardChanges();
    await a.unlock('candidate');
    expect((await b.lock('candidate')).ok).toBe(true);
    await b.unlock('candidate');
  });

  it('kill-session ends another session and releases its lock', async () => {
    const a = await connect();
    const b = await connect();
    await b.lock('candidate');
    expect((await a.killSession(b.sessionId)).ok).toBe(true);
    for (let i = 0; i < 40 && b.isOpen; i++) await sleep(50);
    expect(b.isOpen).toBe(false);
    expect(b.closeReason).toBeInstanceOf(NetconfTransportError);
    await expect(b.getConfig()).rejects.toBeInstanceOf(NetconfTransportError);
    expect((await a.lock('candidate')).ok).toBe(true);
    await a.unlock('candidate');
    await expect(a.killSession(a.sessionId)).rejects.toBeInstanceOf(NetconfRpcError);
  });

  it('pipelined RPCs are matched to their replies by message-id', async () => {
    const s = await connect();
    await s.editConfig({ target: 'candidate', config: interfacesXml(Array.from({ length: 8 }, (_, i) => ({ name: `pl${i}`, mtu4: 1300 + i }))) });
    await s.commit();
    const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => s.getConfig({ filter: { subtree: interfacesFilter([`pl${i}`]) } })));
    replies.forEach((x, i) => expect([...parseInterfaces(x).values()].map((v) => `${v.name}:${v.mtu4}`)).toEqual([`pl${i}:${1300 + i}`]));
  });

  it('an RPC without a reply in time fails with NetconfTimeoutError; the late reply is dropped and the session goes on', async () => {
    const s = await connect();
    srv.pauseNetconfd();
    let err: unknown;
    try {
      err = await s.getConfig({ timeoutMs: 500, filter: { subtree: interfacesFilter(['swp1']) } }).catch((e: unknown) => e);
    } finally {
      srv.resumeNetconfd();
    }
    expect(err).toBeInstanceOf(NetconfTimeoutError);
    expect((err as NetconfTimeoutError).timeoutMs).toBe(500);
    // The server answers the old RPC now; the next RPC must get its own reply, not the stale one.
    const next = await s.getConfig({ filter: { subtree: interfacesFilter(['swp2']) } });
    expect([...parseInterfaces(next).keys()]).toEqual(['swp2']);
    expect(s.isOpen).toBe(true);
  });

  it('SSH keepalive declares a silent peer dead and fails the pending RPC', async () => {
    const s = await connect({ keepaliveIntervalMs: 200, keepaliveCountMax: 2 });
    const paused = srv.pauseSshSessions();
    expect(paused.length).toBeGreaterThan(0);
    try {
      const t0 = Date.now();
      const err = await s.getConfig({ timeoutMs: 10_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NetconfTransportError);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect((err as Error).message).toMatch(/keepalive/i);
      expect(s.isOpen).toBe(false);
    } finally {
      srv.resumeSshSessions(paused);
    }
  });

  it('refuses a host key that does not match known_hosts, before authenticating', async () => {
    const kh = path.join(srv.dir, 'known_hosts_wrong');
    // Another real key for the same [127.0.0.1]:port entry.
    await run('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(srv.dir, 'other_host_key')]);
    const other = readFileSync(path.join(srv.dir, 'other_host_key.pub'), 'utf8').split(' ');
    writeFileSync(kh, `[127.0.0.1]:${srv.port} ${other[0]} ${other[1]}\n`);
    const accepted = (srv.sshdLog().match(/Accepted publickey/g) ?? []).length;
    const err = await connect({ hostKey: { knownHostsFile: kh, acceptNew: true } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetconfHostKeyError);
    expect((err as NetconfHostKeyError).problem).toBe('mismatch');
    expect((err as NetconfHostKeyError).presentedFingerprint).toBe(srv.hostKeyFingerprint);
    expect((err as Error).message).toContain('HOST KEY MISMATCH');
    expect(readFileSync(kh, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    // A wrong pinned fingerprint is refused too; the right one is accepted.
    await expect(connect({ hostKey: { fingerprints: ['SHA256:' + 'A'.repeat(43)] } })).rejects.toMatchObject({ problem: 'mismatch' });
    expect((srv.sshdLog().match(/Accepted publickey/g) ?? []).length).toBe(accepted);
    const ok = await connect({ hostKey: { fingerprints: [srv.hostKeyFingerprint] } });
    expect(ok.isOpen).toBe(true);
  });

  it('refuses an unknown host unless acceptNew, which records it to known_hosts', async () => {
    const kh = path.join(srv.dir, 'known_hosts_tofu');
    const err = await connect({ hostKey: { knownHostsFile: kh } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetconfHostKeyError);
    expect((err as NetconfHostKeyError).problem).toBe('unknown');
    expect(existsSync(kh)).toBe(false);
    const s = await connect({ hostKey: { knownHostsFile: kh, acceptNew: true } });
    expect(s.isOpen).toBe(true);
    expect(readFileSync(kh, 'utf8')).toBe(srv.knownHostsLine + '\n');
    // OpenSSH's own client accepts the recorded file.
    await run('/usr/bin/ssh-keygen', ['-F', `[127.0.0.1]:${srv.port}`, '-f', kh]);
    const again = await connect({ hostKey: { knownHostsFile: kh } });
    expect(again.hostKeyFingerprint).toBe(srv.hostKeyFingerprint);
  });

  it('close-session ends the session on the server', async () => {
    const s = await connect();
    const id = s.sessionId;
    const watcher = await connect();
    expect(await serverSessionIds(watcher)).toContain(id);
    await s.close();
    expect(s.isOpen).toBe(false);
    await expect(s.getConfig()).rejects.toBeInstanceOf(NetconfTransportError);
    expect(await serverSessionIds(watcher)).not.toContain(id);
    await waitLog(`Session ${id} closed`);
  });
});
