/**
 * The API server of the API load bench (test/bench/api.bench.ts), in a process of its own so
 * the load generator does not share its event loop: a generated fabric of about N devices, a
 * monitor whose target answers each BGP session the model expects Established and every other
 * show command empty (the RIB checks then find routes missing everywhere), one poll, then `netloom serve`'s server on
 * loopback without a rate limit. Prints one JSON line (port, devices, a path query, a leaf).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildServer } from '../../src/api/server.ts';
import { tokenCheck } from '../../src/api/tokens.ts';
import { generateFabricIntent, writeGeneratedIntent } from '../../src/intent/generate.ts';
import { loadModelSync } from '../../src/model/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { Monitor } from '../../src/service/monitor.ts';
import { openSqliteStore } from '../../src/service/sqlite-store.ts';
import { DeviceViews } from '../../src/service/views.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import type { Collector, CommandResult } from '../../src/verify/live/collector.ts';

const BENCH_READ_TOKEN = process.env.API_BENCH_TOKEN ?? 'bench-read-token-0123456789';

/** Every device's BGP sessions Established in the address families the model gives them. */
function healthyCollector(model: FabricModel): Collector {
  const summaries = new Map<string, string>();
  for (const d of model.devices) {
    const afis: Record<string, { peers: Record<string, unknown> }> = {};
    for (const s of model.bgpSessions) {
      const [me, peer] = s.a.device === d.name ? [s.a, s.b] : s.b.device === d.name ? [s.b, s.a] : [];
      if (!me || !peer) continue;
      for (const af of s.afiSafis) {
        const key = af === 'l2vpn-evpn' ? 'l2VpnEvpn' : af === 'ipv6-unicast' ? 'ipv6Unicast' : 'ipv4Unicast';
        (afis[key] ??= { peers: {} }).peers[me.interface ?? peer.address ?? peer.routerId] = { hostname: peer.device, remoteAs: peer.asn, state: 'Established', pfxRcd: 12 };
      }
    }
    summaries.set(d.name, JSON.stringify({ default: afis }));
  }
  return {
    name: 'simulated BGP',
    run: async (device: string, command: string): Promise<CommandResult> => ({ ok: true, stdout: command.startsWith('show bgp vrf all summary') ? (summaries.get(device) ?? '{}') : '{}' }),
    close: async () => {},
  };
}

const leaves = Number(process.argv[2] ?? 60);
const dir = mkdtempSync(path.join(tmpdir(), 'netloom-bench-api-'));
writeGeneratedIntent(dir, generateFabricIntent({ name: 'bench', pods: 2, spinesPerPod: 4, superSpines: 2, leavesPerPod: Math.max(2, Math.round(leaves / 2)), tenants: 2, networksPerVrf: 4, endpointsPerLeaf: 1 }));
const model = loadModelSync(dir);
const fg = buildFabricGraph(model);
const monitor = new Monitor(model, fg, { collector: healthyCollector(model), describe: 'simulated' }, openSqliteStore(path.join(dir, 'netloom.db')), { probes: false });
const poll = await monitor.pollOnce();
const app = await buildServer({ monitor, store: monitor.store, views: new DeviceViews(model, fg) }, tokenCheck({ read: BENCH_READ_TOKEN, admin: `${BENCH_READ_TOKEN}-admin` }, 'bench'), { ratePerMinute: 0 });
await app.listen({ host: '127.0.0.1', port: 0 });
const eps = model.endpoints;
const leaf = model.devices.find((d) => d.role === 'leaf')!.name;
process.stdout.write(`${JSON.stringify({ port: (app.server.address() as { port: number }).port, devices: model.devices.length, sessions: model.bgpSessions.length, findings: poll.findings.size, pollMs: poll.ms, src: eps[0].name, dst: eps[eps.length - 1].name, leaf })}\n`);
const stop = async () => {
  await app.close();
  await monitor.stop();
  monitor.store.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
