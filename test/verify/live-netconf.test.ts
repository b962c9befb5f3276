/**
 * `verify --live` against an inventory (the file `netloom apply` reads) holding a NETCONF
 * device: a real yuma123 netconfd. Applied payload -> the NETCONF check passes; the running
 * datastore changed behind netloom's back -> exactly that device fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelSync, type FabricModel } from '../../src/model/index.ts';
import { loadInventory } from '../../src/push/inventory.ts';
import { runRollout } from '../../src/push/rollout.ts';
import { NetconfSession } from '../../src/push/netconf/index.ts';
import { verifyLive } from '../../src/verify/live/run.ts';
import { DEFAULT_MODULES, netconfdMissing, startNetconfd, type NetconfdServer } from '../support/netconfd.ts';
import { inCI } from '../support/ci.ts';

const missing = netconfdMissing();
if (missing && !inCI) console.log(`live NETCONF verification skipped: ${missing}`);

describe.skipIf(!!missing && !inCI)('verify --live with a NETCONF inventory', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'netloom-verifync-'));
  const prevState = process.env.NETLOOM_STATE_DIR;
  let srv: NetconfdServer;
  let model: FabricModel;
  let inventoryFile: string;

  beforeAll(async () => {
    process.env.NETLOOM_STATE_DIR = path.join(work, 'state');
    // dc2's payloads carry the management default route: the IPv4 unicast routing module too.
    srv = await startNetconfd({ name: 'verifync', modules: [...DEFAULT_MODULES, 'ietf-ipv4-unicast-routing'] });
    model = loadModelSync('intents/dc2');
    inventoryFile = path.join(work, 'inventory.yaml');
    writeFileSync(
      inventoryFile,
      stringify({ defaults: { username: 'root' }, devices: { leaf2: { address: '127.0.0.1', port: srv.port, transport: 'netconf', credentials: { key_file: srv.privateKeyFile }, host_key: { known_hosts: srv.knownHostsFile } } } }),
    );
    const r = await runRollout({ model, inventory: loadInventory(inventoryFile), confirmTimeoutS: 30 });
    expect(r.results.map((x) => x.action)).toEqual(['applied']);
  }, 120_000);

  afterAll(async () => {
    await srv?.stop();
    if (prevState === undefined) delete process.env.NETLOOM_STATE_DIR;
    else process.env.NETLOOM_STATE_DIR = prevState;
    rmSync(work, { recursive: true, force: true });
  });

  const netconfCheck = async () => (await verifyLive(model, inventoryFile, { probes: false })).results.find((r) => r.check.id === 'live-netconf-config')!;

  it('passes when the running datastore holds the rendered payload', async () => {
    const c = await netconfCheck();
    expect(c.findings).toEqual([]);
    expect(c.passed).toBe(true);
    expect(c.examined).toBe('1 NETCONF devices');
  }, 60_000);

  it('fails on exactly that device when running is changed behind netloom\'s back', async () => {
    const s = await NetconfSession.connect({ host: '127.0.0.1', port: srv.port, credentials: srv.credentials, hostKey: { knownHostsFile: srv.knownHostsFile } });
    try {
      await s.editConfig({
        target: 'candidate',
        config: '<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"><interface><name>et-0/0/9</name><description>changed by hand</description></interface></interfaces>',
      });
      await s.commit();
    } finally {
      await s.close();
    }
    const c = await netconfCheck();
    expect(c.passed).toBe(false);
    expect(c.findings.map((f) => f.message)).toEqual(['leaf2: running config differs from netconf-ietf.xml']);
    expect(c.findings[0].location).toMatchObject({ file: 'intents/dc2/nodes.yaml' });
  }, 60_000);
});
