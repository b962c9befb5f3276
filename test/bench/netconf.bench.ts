/**
 * NETCONF round trips against a real netconfd (behind sshd on loopback), netloom's client
 * against python3-ncclient in the same run: same server, same payloads, one session each.
 * Then 50 concurrent sessions each doing lock/edit-config/commit/unlock on the candidate
 * (netconfd grants the lock to one at a time; the others retry on lock-denied).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { NetconfRpcError, NetconfSession, type NetconfConnectOptions } from '../../src/push/netconf/index.ts';
import { netconfdMissing, startNetconfd } from '../support/netconfd.ts';
import { interfacesFilter, interfacesXml, parseInterfaces, type IfSpec } from '../push/fixtures/netconf/payloads.ts';
import { report, timed } from './harness.ts';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const GET_N = Number(process.env.NETCONF_BENCH_GETS ?? 200);
const EDIT_N = Number(process.env.NETCONF_BENCH_EDITS ?? 100);
const WARMUP = 10;
const SESSIONS = Number(process.env.NETCONF_BENCH_SESSIONS ?? 50);
const IFACES = 24;

function spec(i: number, round: number): IfSpec {
  return {
    name: `swp${i}`,
    description: `round ${round} port ${i}`,
    mtu4: 9000 - (round % 100),
    v4: [[`10.${i}.0.1`, 31]],
    v6: [[`2001:db8:${i.toString(16)}::1`, 64]],
  };
}
const editPayload = (round: number): string => interfacesXml(Array.from({ length: IFACES }, (_, i) => spec(i, round)));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const missing = netconfdMissing();
  if (missing) {
    process.stdout.write(`  netconf bench skipped: ${missing}\n`);
    return;
  }
  const srv = await startNetconfd({ name: 'nc-bench', logLevel: 'warn' });
  try {
    const opts: NetconfConnectOptions = { host: srv.host, port: srv.port, credentials: srv.credentials, hostKey: { knownHostsFile: srv.knownHostsFile } };
    // Seed running with the interfaces both clients read.
    const seed = await NetconfSession.connect(opts);
    await seed.editConfig({ target: 'candidate', config: editPayload(0) });
    await seed.commit();
    const filter = interfacesFilter();
    const seededBytes = Buffer.byteLength(await seed.getConfig({ filter: { subtree: filter } }));
    await seed.close();

    // netloom: one session, sequential RPCs.
    const s = await NetconfSession.connect(opts);
    for (let i = 0; i < WARMUP; i++) await s.getConfig({ filter: { subtree: filter } });
    const ncGet: number[] = [];
    for (let i = 0; i < GET_N; i++) ncGet.push((await timed(() => s.getConfig({ filter: { subtree: filter } }))).ms);
    const ncEdit: number[] = [];
    for (let i = 1; i <= EDIT_N; i++) {
      const cfg = editPayload(i);
      ncEdit.push(
        (
          await timed(async () => {
            await s.editConfig({ target: 'candidate', config: cfg });
            await s.commit();
          })
        ).ms,
      );
    }
    const check = parseInterfaces(await s.getConfig({ filter: { subtree: filter } }));
    if (check.get('swp3')?.description !== `round ${EDIT_N} port 3`) throw new Error('netloom edits did not land in running');
    await s.close();

    // ncclient: same payloads (rounds offset so every commit changes running), one session.
    const payloadFile = path.join(srv.dir, 'bench-payloads.json');
    writeFileSync(payloadFile, JSON.stringify({ filter, getN: GET_N, warmup: WARMUP, edits: Array.from({ length: EDIT_N }, (_, i) => editPayload(EDIT_N + 1 + i)) }));
    const py = await run(
      '/usr/bin/python3',
      [path.join(here, '../push/fixtures/netconf/ncclient_bench.py'), srv.host, String(srv.port), srv.username, srv.privateKeyFile, srv.knownHostsLine.split(' ')[2], payloadFile],
      { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
    );
    const ref = JSON.parse(py.stdout) as { get_ms: number[]; edit_commit_ms: number[] };
    const verify = await NetconfSession.connect(opts);
    if (parseInterfaces(await verify.getConfig({ filter: { subtree: filter } })).get('swp3')?.description !== `round ${2 * EDIT_N} port 3`) {
      throw new Error('ncclient edits did not land in running');
    }
    await verify.close();

    process.stdout.write(`  payload: ${IFACES} interfaces (IPv4+IPv6, MTU); get-config reply ${seededBytes} bytes; ${GET_N} gets, ${EDIT_N} edit+commit\n`);
    report({ name: 'get-config round trip (median)', value: median(ncGet), unit: 'ms', target: 'netloom >= 2x faster than ncclient', reference: { name: 'ncclient', value: median(ref.get_ms) } });
    report({ name: 'get-config round trip (p95)', value: pct(ncGet, 95), unit: 'ms', reference: { name: 'ncclient', value: pct(ref.get_ms, 95) } });
    report({ name: `get-config x${GET_N} total`, value: sum(ncGet), unit: 'ms', reference: { name: 'ncclient', value: sum(ref.get_ms) } });
    report({ name: 'edit-config+commit round trip (median)', value: median(ncEdit), unit: 'ms', target: 'netloom >= 2x faster than ncclient', reference: { name: 'ncclient', value: median(ref.edit_commit_ms) } });
    report({ name: 'edit-config+commit round trip (p95)', value: pct(ncEdit, 95), unit: 'ms', reference: { name: 'ncclient', value: pct(ref.edit_commit_ms, 95) } });

    // 50 concurrent sessions: lock / edit / commit / unlock, each its own interface.
    const conn = await timed(() => Promise.all(Array.from({ length: SESSIONS }, () => NetconfSession.connect({ ...opts, connectTimeoutMs: 60_000 }))));
    const sessions = conn.value;
    report({ name: `${SESSIONS} sessions connect (ssh + hello, concurrent)`, value: conn.ms, unit: 'ms' });
    let retries = 0;
    const latencies: number[] = [];
    const holdMs: number[] = [];
    const wall = await timed(() =>
      Promise.all(
        sessions.map(async (ss, k) => {
          const t0 = performance.now();
          for (;;) {
            try {
              await ss.lock('candidate');
              break;
            } catch (e) {
              if (!(e instanceof NetconfRpcError) || !e.hasTag('lock-denied')) throw e;
              retries++;
              await sleep(2 + Math.random() * 8);
            }
          }
          const t1 = performance.now();
          try {
            await ss.editConfig({ target: 'candidate', config: interfacesXml([{ name: `tenant${k}`, description: `session ${ss.sessionId}`, mtu4: 1500, v4: [[`172.16.${k}.1`, 24]] }]) });
            await ss.commit();
          } finally {
            await ss.unlock('candidate');
          }
          const t2 = performance.now();
          holdMs.push(t2 - t1);
          latencies.push(t2 - t0);
        }),
      ),
    );
    const after = await NetconfSession.connect(opts);
    const landed = [...parseInterfaces(await after.getConfig({ filter: { subtree: filter } })).keys()].filter((n) => n.startsWith('tenant')).length;
    await after.close();
    await Promise.all(sessions.map((x) => x.close()));
    if (landed !== SESSIONS) throw new Error(`only ${landed}/${SESSIONS} concurrent commits landed`);
    report({ name: `${SESSIONS}-session lock/edit/commit/unlock wall time`, value: wall.ms, unit: 'ms', note: `${landed}/${SESSIONS} landed in running, ${retries} lock-denied retries` });
    report({ name: 'per-session latency p50', value: median(latencies), unit: 'ms' });
    report({ name: 'per-session latency p95', value: pct(latencies, 95), unit: 'ms' });
    report({ name: 'per-session latency max', value: Math.max(...latencies), unit: 'ms' });
    report({ name: 'lock held (edit+commit+unlock) median', value: median(holdMs), unit: 'ms', note: 'serialised by the candidate lock' });
  } finally {
    await srv.stop();
  }
}

await main();
