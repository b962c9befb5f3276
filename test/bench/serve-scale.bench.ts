// Continuous verification at scale: the service's real per-poll path (Monitor: every domain's
// incremental poll, damping, finding keys, correlation, metrics and baselines, the SQLite store)
// over AVD-shaped fabrics, with a collector that answers each show command with the FRR 8.4 JSON
// a healthy device would print (synthesized from the model's own simulation), so the figures are
// netloom's cost, not SSH's.
//
// Replayed with changes: as on real FRR (peer uptimes tick), every device's BGP summary differs
// from its last answer at every round (hashed, parsed, found equal in what is read), and 1% of
// the leaves answer a VRF table that changed (same routes, another order) and new prefix counts,
// as does one spine on one session: those devices are re-checked.
// Then one spine link fails (the fabric re-simulated without it, its session Active at both
// ends): one incident must explain every finding; then it recovers.
//
// Reference, measured in the same run on the same answers: the full path the service ran before
// (collect and parse every answer, compare the whole fabric afresh each round).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AVD_BENCHMARK_SHAPE, generateFabricIntent, writeGeneratedIntent } from '../../src/intent/generate.ts';
import { loadModelSync } from '../../src/model/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { compareLive, LiveBasis, LiveComparison } from '../../src/verify/live/compare.ts';
import { collectObserved } from '../../src/verify/live/run.ts';
import { basisOf } from '../../src/domains/fabric/index.ts';
import { Monitor } from '../../src/service/monitor.ts';
import { openSqliteStore } from '../../src/service/sqlite-store.ts';
import { FabricAnswers, linkDown, ReplayCollector } from '../support/replay-fabric.ts';
import { referenceOf } from '../support/reference-control-plane.ts';
import type { ControlPlane } from '../../src/verify/sim/control-plane.ts';
import type { FabricGraph } from '../../src/verify/graph.ts';
import { admitPolls, DEFAULT_TABLE_READS, refreshRounds, type TableReads } from '../../src/verify/live/incremental.ts';
import { peakRssMiB, report } from './harness.ts';

const PERIOD_MS = 10_000;
/** Routes of expectations the replay keeps (a few leaves' at 5,000 devices: it synthesizes one device's answers at a time). */
const REPLAY_CACHE_ROUTES = 100_000;
const REFERENCE_MAX = Number(process.env.NETLOOM_BENCH_SERVE_REFERENCE_MAX ?? 1000);
/** Above this many devices the link-down and recovery rounds (each re-reads every default table) are not run. */
const LINK_DOWN_MAX = Number(process.env.NETLOOM_BENCH_SERVE_LINK_DOWN_MAX ?? Infinity);
const ROUNDS = Number(process.env.NETLOOM_BENCH_SERVE_ROUNDS ?? 10);
/** Devices per role whose expectation is derived by both ways (derivation()). */
const DERIVE = Number(process.env.NETLOOM_BENCH_SERVE_DERIVE ?? 12);
/** Set: only the set-up and the derivation figures. */
const SETUP_ONLY = !!process.env.NETLOOM_BENCH_SERVE_SETUP_ONLY;
/**
 * Set: the first full read stops after this many polls and the steady rounds run over the
 * devices admitted by then (the rest not asked anything); the first read's figures are then
 * extrapolated to the fabric from its mean per device.
 */
const ADMIT_POLLS = Number(process.env.NETLOOM_BENCH_SERVE_ADMIT_POLLS ?? Infinity);
/** Devices admitted and default tables refreshed per poll (the service's TableReads; its defaults unless set). */
const TABLES: TableReads = {
  admit: Number(process.env.NETLOOM_BENCH_SERVE_ADMIT ?? DEFAULT_TABLE_READS.admit),
  refresh: Number(process.env.NETLOOM_BENCH_SERVE_REFRESH ?? DEFAULT_TABLE_READS.refresh),
  changed: Number(process.env.NETLOOM_BENCH_SERVE_CHANGED ?? DEFAULT_TABLE_READS.changed),
};
/** Set: a CPU profile of the link-down episode's first poll is written to this file. */
const PROFILE_FAIL = process.env.NETLOOM_BENCH_SERVE_PROFILE_FAIL;
let profiled = false;
/** Starts the inspector's CPU profiler; the function returned stops it and writes PROFILE_FAIL. */
async function startProfile(): Promise<() => Promise<void>> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(PROFILE_FAIL!, JSON.stringify(profile));
    session.disconnect();
  };
}
/** Polls after a link fails (or recovers) before the bench gives up waiting for every moved table to be read. */
const CATCH_UP_POLLS = 200;

/** One poll of a link-down or recovery episode (synthesis left out). */
interface EpisodePoll {
  ms: number;
  cpuMs: number;
  /** Default tables read in the poll. */
  tables: number;
  /** Default tables owed after it. */
  owed: number;
  /** Incidents open after it. */
  incidents: number;
  /** Findings announced after it. */
  findings: number;
}

interface Scale {
  devices: number;
  load: number;
  rounds: number;
  roundMs: number[];
  cpuMs: number;
  updates: number;
  recheck: number[];
  recheckCpu: number[];
  /** The link-down polls, until no moved table is owed; then the recovery's, until none is and no incident is open. */
  fail: EpisodePoll[];
  recover: EpisodePoll[];
  slowest: string;
  fullMs: number;
  /** The first full read, spread over `firstPolls` polls: every answer read, parsed and compared (synthesis left out). */
  firstMs: number;
  /** Its CPU (the bench process's, synthesis left out). */
  firstCpuMs: number;
  firstPolls: number;
  /** Devices admitted when the steady rounds ran (all, unless NETLOOM_BENCH_SERVE_ADMIT_POLLS stopped the first read). */
  admitted: number;
  /** The slowest of those polls (wall, synthesis left out). */
  firstMaxMs: number;
  /** Default tables read per steady round (changed, refreshed). */
  tables: number;
  /** The replay's kept answers (MiB), inside `held`. */
  replayMiB: number;
  commands: number;
  incidents: string[];
  findings: number;
  rss: number;
  /** Heap and RSS held once the first poll is done (after a full GC when node runs with --expose-gc). */
  held: { heap: number; rss: number; gc: boolean; expectations: { devices: number; routes: number }; replayed: { devices: number; routes: number } };
}

/** What the process holds now: heap in use after a full collection where `global.gc` is exposed, and RSS, in MiB. */
function heldMiB(): { heap: number; rss: number; gc: boolean } {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed / 2 ** 20, rss: m.rss / 2 ** 20, gc: !!gc };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};

const BGP = 'show bgp vrf all summary json';

/**
 * The healthy answers as a later poll gives them, each synthesized when asked: every BGP
 * summary's peer uptimes ticked (read by nothing, so parsed to the same state), and 1% of the
 * leaves with a VRF table in another order and a prefix count changed on each of their
 * sessions, and one spine's count on one peer.
 */
function ticked(model: FabricModel, healthy: FabricAnswers, tick: number): (device: string, command: string) => string | undefined {
  const leaves = model.devices.filter((d) => d.vtep && d.vrfs.length);
  const changed = new Map<string, string>();
  for (let i = tick % 100; i < leaves.length; i += 100) changed.set(leaves[i].name, `show ip route vrf ${leaves[i].vrfs[0].name} json`);
  const spines = model.devices.filter((d) => d.role === 'spine');
  const spine = spines[tick % spines.length].name;
  return (device, command) => {
    const a = healthy.answer(device, command);
    if (a === undefined) return a;
    if (command === BGP) {
      const up = a.replace(/"state":"Established"/g, `"state":"Established","peerUptimeMsec":${tick}`);
      if (changed.has(device)) return up.replace(/"pfxRcd":1/g, `"pfxRcd":${tick + 1}`);
      return device === spine ? up.replace('"pfxRcd":1', `"pfxRcd":${tick + 1}`) : up;
    }
    if (changed.get(device) === command) return JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(a)).reverse()));
    return a;
  };
}

const cpuMsOf = (fn: () => void) => {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};

/**
 * One device's expectation derived (what the first poll pays per device, and a re-check whose
 * device left the cache), CPU per device by role: the service's derivation against the
 * reference, every origin asked one pair at a time (test/support/reference-control-plane.ts),
 * on the same simulated tables. Paired: each sampled device derived by both in turn, which one
 * first alternating; each way's one-time work (prefix order, route-target index) done before.
 */
function derivation(model: FabricModel, fg: FabricGraph, cp: ControlPlane): void {
  if (DERIVE <= 0) return;
  const fast = new LiveBasis(model, fg, { cp, cacheRoutes: 0 });
  const slow = new LiveBasis(model, fg, { cp: referenceOf(cp), cacheRoutes: 0 });
  const byRole = new Map<string, string[]>();
  for (const d of model.devices) {
    const l = byRole.get(d.role) ?? [];
    byRole.set(d.role, l);
    l.push(d.name);
  }
  let flip = 0;
  for (const [role, names] of byRole) {
    const step = Math.max(1, Math.floor(names.length / DERIVE));
    const sample = names.filter((_, i) => i % step === 0).slice(0, DERIVE);
    const f: number[] = [];
    const r: number[] = [];
    for (const name of sample) {
      // cacheRoutes 0 keeps only the last device derived: another device is derived before each.
      const other = model.devices.find((d) => d.name !== name)!.name;
      const ways: [LiveBasis, number[]][] = flip++ % 2 ? [[slow, r], [fast, f]] : [[fast, f], [slow, r]];
      for (const [b, out] of ways) {
        b.expectation(other);
        out.push(cpuMsOf(() => b.expectation(name)));
      }
    }
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)} ms`;
    const ratios = f.map((x, i) => r[i] / x);
    const plural = role.endsWith('leaf') ? `${role.slice(0, -4)}leaves` : `${role}s`;
    report({ name: `one ${role}'s expectation derived, ${model.devices.length} devices, median CPU`, value: pct(f, 0.5), unit: 'ms', reference: { name: 'every origin asked per pair (before), same devices', value: pct(r, 0.5) }, note: `${f.length} ${plural}: ${range(f)}, before ${range(r)}; paired ratio ${Math.min(...ratios).toFixed(1)}-${Math.max(...ratios).toFixed(1)}x` });
  }
}

async function measure(model: FabricModel, label: string): Promise<Scale> {
  const t0 = performance.now();
  const fg = buildFabricGraph(model);
  const basis = basisOf(model, fg);
  // The replayed devices derive their answers from a basis of their own (sharing the simulation),
  // so the service's re-checks find no expectation the replay derived for them.
  const opts = { versions: true, summaries: true, keep: true };
  // Its cache is small: the devices' expectations are not the service's heap (which they would
  // otherwise double, and its collections with it).
  const replayBasis = new LiveBasis(model, fg, { cp: basis.cp, cacheRoutes: REPLAY_CACHE_ROUTES });
  const healthy = new FabricAnswers(model, new LiveComparison(model, fg, replayBasis), new Set(), opts);
  const load = performance.now() - t0;
  derivation(model, fg, basis.cp);

  const dir = mkdtempSync(path.join(tmpdir(), `netloom-bench-serve-${label}-`));
  const collector = new ReplayCollector();
  // The service reads them at each poll: admission is stopped through them (ADMIT_POLLS).
  const reads = { ...TABLES };
  let tables = 0;
  const counting = (answer: (d: string, c: string) => string | undefined) => (d: string, c: string) => {
    if (c === 'show ip route json') tables++;
    return answer(d, c);
  };
  collector.answer = counting((d, c) => healthy.answer(d, c));
  const store = openSqliteStore(path.join(dir, 'netloom.db'));
  const monitor = new Monitor(model, fg, { collector, describe: 'replayed FRR JSON' }, store, { probes: false, capture: false, tables: reads });
  const recheck: number[] = [];
  const recheckCpu: number[] = [];
  try {
    // The first full read: devices admitted TABLES.admit a poll until every one is.
    const fc0 = process.cpuUsage();
    let firstMs = 0;
    let firstMaxMs = 0;
    let firstPolls = 0;
    let pending = Infinity;
    for (; pending > 0 && firstPolls < ADMIT_POLLS; firstPolls++) {
      const s0 = collector.cpuMs;
      const t = performance.now();
      const first = await monitor.pollOnce();
      const ms = performance.now() - t - (collector.cpuMs - s0);
      firstMs += ms;
      firstMaxMs = Math.max(firstMaxMs, ms);
      pending = first.pending;
      const c = process.cpuUsage(fc0);
      if (first.failing) throw new Error(`${label}: a healthy synthesized round has ${first.failing} failing findings, e.g. ${first.results.flatMap((r) => r.findings)[0]?.message}`);
      if (process.env.NETLOOM_BENCH_SERVE_VERBOSE) process.stderr.write(`  ${label} first read, poll ${firstPolls + 1}: ${(ms / 1000).toFixed(2)} s, ${pending} devices pending, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB, CPU so far ${((c.user + c.system) / 1000 - collector.cpuMs) / 1000} s\n`);
    }
    // The steady rounds over what is admitted now.
    const admitted = model.devices.length - pending;
    reads.admit = 0;
    const fc1 = process.cpuUsage(fc0);
    const firstCpuMs = (fc1.user + fc1.system) / 1000 - collector.cpuMs;
    const held = { ...heldMiB(), expectations: basis.cached(), replayed: replayBasis.cached() };
    const replayMiB = healthy.heldChars() / 2 ** 20;
    // The path before: every answer parsed, the whole fabric compared afresh (same basis; the
    // replay's synthesis time left out). It holds every parsed answer at once: not run above
    // NETLOOM_BENCH_SERVE_REFERENCE_MAX devices.
    let fullMs = NaN;
    if (model.devices.length <= REFERENCE_MAX) {
      const tf = performance.now();
      const s0 = collector.cpuMs;
      const full = compareLive(model, await collectObserved({ collector, describe: 'replay' }, model, { probes: false }), fg, basis);
      fullMs = performance.now() - tf - (collector.cpuMs - s0);
      if (full.some((r) => !r.passed)) throw new Error(`${label}: the full comparison of healthy answers fails`);
    }
    const worst: [string, number][] = [];
    monitor.onRecheck = (device, ms, cpuMs) => {
      recheck.push(ms);
      recheckCpu.push(cpuMs);
      worst.push([device, ms]);
    };
    // Wall and CPU of a round leave out the replay's synthesis (the devices' work, not the service's).
    const roundMs: number[] = [];
    collector.commands = 0;
    tables = 0;
    const synth0 = collector.cpuMs;
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < ROUNDS; i++) {
      collector.answer = counting(ticked(model, healthy, 1 + (i % 2)));
      const s0 = collector.cpuMs;
      const t = performance.now();
      const r = await monitor.pollOnce();
      roundMs.push(performance.now() - t - (collector.cpuMs - s0));
      if (r.failing) throw new Error(`${label}: a replayed healthy round has ${r.failing} failing findings`);
      if (process.env.NETLOOM_BENCH_SERVE_VERBOSE) process.stderr.write(`  ${label} round ${i + 1}: ${(roundMs[i] / 1000).toFixed(2)} s\n`);
    }
    const steadyTables = tables / ROUNDS;
    const cpu = process.cpuUsage(cpu0);
    const synthMs = collector.cpuMs - synth0;
    const updates = recheck.length;
    const commands = collector.commands / ROUNDS;
    monitor.onRecheck = undefined;
    const steady = { devices: model.devices.length, load, rounds: ROUNDS, roundMs, cpuMs: (cpu.user + cpu.system) / 1000 - synthMs, updates, recheck, recheckCpu, slowest: worst.sort((a, b) => b[1] - a[1]).slice(0, 3).map(([d, ms]) => `${d} ${ms.toFixed(1)} ms`).join(', '), fullMs, firstMs, firstCpuMs, firstPolls, firstMaxMs, admitted, tables: steadyTables, replayMiB, commands, held };
    if (model.devices.length > LINK_DOWN_MAX) return { ...steady, fail: [], recover: [], incidents: [], findings: 0, rss: peakRssMiB() };
    // One poll of an episode, with what it read and what it left owed.
    const episodePoll = async (): Promise<EpisodePoll> => {
      const s0 = collector.cpuMs;
      const w0 = collector.wallMs;
      const c0 = process.cpuUsage();
      const t = performance.now();
      tables = 0;
      const profiling = PROFILE_FAIL && !profiled && model.devices.length > 1000 ? await startProfile() : undefined;
      const r = await monitor.pollOnce();
      // The synthesis left out of the wall by its wall time (its CPU counts the collector's threads too).
      const ms = performance.now() - t - (collector.wallMs - w0);
      const c = process.cpuUsage(c0);
      // The profile written after the poll is measured, not in it.
      if (profiling) {
        profiled = true;
        await profiling();
      }
      const e = { ms, cpuMs: (c.user + c.system) / 1000 - (collector.cpuMs - s0), tables, owed: r.owed, incidents: monitor.openIncidents().length, findings: r.findings.size };
      if (process.env.NETLOOM_BENCH_SERVE_VERBOSE) process.stderr.write(`  ${label} episode poll: ${(ms / 1000).toFixed(2)} s wall, ${(e.cpuMs / 1000).toFixed(2)} s CPU, ${e.tables} tables read, ${e.owed} owed, ${e.incidents} incidents, ${e.findings} findings\n`);
      return e;
    };
    const failed = linkDown(model, opts);
    // The replay's simulation of the failed fabric is built before the poll, not in it.
    failed.answer(model.devices[0].name, 'show bgp vrf all summary json');
    collector.answer = counting((d, c) => failed.answer(d, c));
    const fail = [await episodePoll()];
    while (fail.at(-1)!.owed > 0 && fail.length < CATCH_UP_POLLS) fail.push(await episodePoll());
    const incidents = monitor.openIncidents().map((i) => i.summary);
    const findings = fail.at(-1)!.findings;
    collector.answer = counting((d, c) => healthy.answer(d, c));
    const recover = [await episodePoll()];
    while ((recover.at(-1)!.owed > 0 || recover.at(-1)!.incidents > 0) && recover.length < CATCH_UP_POLLS) recover.push(await episodePoll());
    if (monitor.openIncidents().length) throw new Error(`${label}: incidents still open after recovery`);
    return { ...steady, fail, recover, incidents, findings, rss: peakRssMiB() };
  } finally {
    await monitor.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function avd(pods: number): FabricModel {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-bench-serve-intent-'));
  try {
    writeGeneratedIntent(dir, generateFabricIntent({ ...AVD_BENCHMARK_SHAPE, pods, name: `avd${pods}p` }));
    return loadModelSync(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function print(s: Scale, what: string): void {
  const mean = s.roundMs.reduce((a, b) => a + b, 0) / s.rounds;
  const share = s.cpuMs / s.rounds / PERIOD_MS;
  process.stdout.write(`  ${what}: ${s.devices} devices, ${s.commands} show commands per round, ${s.rounds} rounds with changes (set up in ${(s.load / 1000).toFixed(1)} s); ${!s.fail.length ? 'link down not run' : `one spine link down -> ${s.findings} findings, ${s.incidents.length} incident${s.incidents.length === 1 ? '' : 's'}: ${s.incidents.join(' | ')}`}\n`);
  const fit = s.roundMs.filter((x) => x <= PERIOD_MS).length;
  const refresh = refreshRounds(s.devices, TABLES);
  const part = s.admitted < s.devices;
  const whole = admitPolls(s.devices, TABLES);
  const perDevice = (ms: number) => ms / s.admitted;
  report({
    name: part ? `first full read, ${s.devices} devices, its first ${s.firstPolls} of ${whole} polls (${TABLES.admit} devices admitted a poll: ${s.admitted} devices)` : `first full read, ${s.devices} devices, spread over ${s.firstPolls} polls (${TABLES.admit} devices admitted a poll)`,
    value: s.firstMs / 1000, unit: 's wall in all', target: `each poll <= ${PERIOD_MS / 1000} s period`,
    note: `${(s.firstCpuMs / 1000).toFixed(1)} s CPU (${perDevice(s.firstCpuMs).toFixed(0)} ms a device, wall ${perDevice(s.firstMs).toFixed(0)} ms); slowest poll ${(s.firstMaxMs / 1000).toFixed(2)} s (${s.firstMaxMs <= PERIOD_MS ? 'fits' : 'over'} the period); at the period, the fabric is all observed after ${whole} polls, ${((whole * PERIOD_MS) / 60_000).toFixed(0)} min${part ? `; the whole first read at this rate: ${((perDevice(s.firstCpuMs) * s.devices) / 60_000).toFixed(0)} min of CPU (extrapolated)` : ''}`,
  });
  const over = part ? ` (steady over the ${s.admitted} devices admitted)` : '';
  report({ name: `poll round with changes, ${s.devices} devices${over}`, value: mean / 1000, unit: 's', target: `<= ${PERIOD_MS / 1000} s period`, ...(Number.isNaN(s.fullMs) ? {} : { reference: { name: 'full re-parse and re-compare (the path before), same answers', value: s.fullMs / 1000 } }), note: `rounds ${s.roundMs.map((x) => (x / 1000).toFixed(2)).join(', ')} s; ${((mean / PERIOD_MS) * 100).toFixed(0)}% of the period; ${fit} of ${s.rounds} rounds fit the period; ${s.tables.toFixed(1)} default tables read a round (slow refresh every ${refresh} polls, ${((refresh * PERIOD_MS) / 60_000).toFixed(0)} min at the period, ${TABLES.refresh} tables a poll)` });
  const wall = s.roundMs.reduce((a, b) => a + b, 0) / 1000;
  const recheckCpu = s.recheckCpu.reduce((a, b) => a + b, 0) / 1000;
  report({ name: `updates processed, ${s.devices} devices${over}`, value: Math.round(s.updates / recheckCpu), unit: 'updates/s of re-check CPU', note: `${s.updates / s.rounds} device updates per round of ${s.admitted} devices polled (every BGP summary ticks: hashed, parsed, unchanged; 1% of leaves and one spine change what is read); ${Math.round((s.commands * s.rounds) / wall)} answers/s hashed per wall second` });
  report({ name: `incremental re-check per update, ${s.devices} devices${over}, median CPU`, value: pct(s.recheckCpu, 0.5), unit: 'ms', target: '<= 1 ms', note: `CPU mean ${(s.recheckCpu.reduce((x, y) => x + y, 0) / Math.max(1, s.recheckCpu.length)).toFixed(3)} ms, p99 ${pct(s.recheckCpu, 0.99).toFixed(3)} ms (CPU counts the collector's threads: a collection during a re-check lands in it); wall median ${pct(s.recheck, 0.5).toFixed(3)} ms, p99 ${pct(s.recheck, 0.99).toFixed(3)} ms (wall includes other processes' time slices and GC) over ${s.recheck.length} updates; slowest wall: ${s.slowest}` });
  report({ name: `service CPU share at a ${PERIOD_MS / 1000} s period, ${s.devices} devices${over}`, value: Math.round(share * 1000) / 10, unit: '% of one core', note: `${(s.cpuMs / s.rounds).toFixed(0)} ms CPU per round (2 cores here)` });
  if (s.fail.length) {
    const episode = (e: EpisodePoll[]) => {
      const tables = e.reduce((a, x) => a + x.tables, 0);
      const slowest = Math.max(...e.map((x) => x.ms));
      return `${e.length} poll${e.length === 1 ? '' : 's'} to read every moved table (${tables} tables read; moved ones at most ${TABLES.changed.toLocaleString("en-US")} routes a poll), ${(e.reduce((a, x) => a + x.ms, 0) / 1000).toFixed(2)} s wall and ${(e.reduce((a, x) => a + x.cpuMs, 0) / 1000).toFixed(2)} s CPU in all, slowest poll ${(slowest / 1000).toFixed(2)} s (${e.filter((x) => x.ms <= PERIOD_MS).length} of ${e.length} within the period); incidents open after each poll: ${e.map((x) => x.incidents).join(', ')}; findings: ${e.map((x) => x.findings).join(', ')}`;
    };
    const [first] = s.fail;
    report({ name: `poll round, ${s.devices} devices${over}, one spine link down (raise + correlate)`, value: first.ms / 1000, unit: 's', target: `<= ${PERIOD_MS / 1000} s period`, note: `${(first.cpuMs / 1000).toFixed(2)} s CPU; ${first.tables} default tables read, ${first.owed} owed to later polls; ${first.incidents} incident, ${first.findings} findings after it` });
    report({ name: `one spine link down, ${s.devices} devices${over}, until every moved table is read`, value: s.fail.length, unit: 'polls', note: episode(s.fail) });
    report({ name: `recovery, ${s.devices} devices${over}, until every moved table is read and the incident closed`, value: s.recover.length, unit: 'polls', note: episode(s.recover) });
  }
  report({ name: `peak memory (RSS) after ${s.devices} devices`, value: Math.round(s.rss), unit: 'MiB' });
  report({ name: `held after the first full read, ${s.devices} devices${over}`, value: Math.round(s.held.heap), unit: `MiB of heap${s.held.gc ? ' after a full GC' : ' (no --expose-gc: before GC)'}`, note: `RSS then ${Math.round(s.held.rss)} MiB; of it the replay's kept answers ${Math.round(s.replayMiB)} MiB (the devices' side); the expectation cache then: ${s.held.expectations.devices} devices, ${s.held.expectations.routes} routes (the replay's own: ${s.held.replayed.devices} devices, ${s.held.replayed.routes} routes)` });
}

const full = AVD_BENCHMARK_SHAPE.pods!;
print(await measure(loadModelSync(path.join(import.meta.dirname, '../../intents/dc1')), 'dc1'), 'dc1');
const pods = (process.env.NETLOOM_BENCH_SERVE_PODS ?? '1,2').split(',').map(Number);
const figures: Scale[] = [];
for (const p of pods) {
  const model = avd(p);
  if (SETUP_ONLY) {
    const t0 = performance.now();
    const fg = buildFabricGraph(model);
    const basis = basisOf(model, fg);
    process.stdout.write(`  AVD shape, ${p} of ${full} pods: ${model.devices.length} devices, graph and simulation ${((performance.now() - t0) / 1000).toFixed(1)} s (set-up only)\n`);
    derivation(model, fg, basis.cp);
    report({ name: `peak memory (RSS) after ${model.devices.length} devices, set-up only`, value: Math.round(peakRssMiB()), unit: 'MiB' });
    continue;
  }
  const s = await measure(model, `avd${p}p`);
  figures.push(s);
  print(s, `AVD shape, ${p} of ${full} pods`);
}
if (figures.length >= 2) {
  // Growth between the two largest sizes, extrapolated to the full 18-pod, 4,998-device shape.
  const [a, b] = figures.slice(-2);
  const m = (s: Scale) => s.roundMs.reduce((x, y) => x + y, 0) / s.rounds;
  const k = Math.log(m(b) / m(a)) / Math.log(b.devices / a.devices);
  const at5k = m(b) * (4998 / b.devices) ** k;
  report({ name: 'poll round at 4998 devices (18 pods), extrapolated', value: at5k / 1000, unit: 's', target: `<= ${PERIOD_MS / 1000} s period`, reference: { name: 'default period', value: PERIOD_MS / 1000 }, note: `round time grows as devices^${k.toFixed(2)} between ${a.devices} and ${b.devices} devices; the full shape is not run (see README)` });
}
