/**
 * The fabric's live state polled incrementally (`netloom serve`): one comparison lives across
 * polls; each command's answer is hashed, an unchanged answer keeps its parsed part (no JSON
 * parse, no re-check), and a device whose answers all match its last poll is not re-checked at
 * all. A changed answer re-parses that command only and re-checks only the parts it feeds
 * (LiveComparison.updateMany compares parts by reference); an answer that changed only in what
 * is not read (FRR's peer uptimes tick every poll) parses to the same part and keeps the old one.
 * The findings equal a full
 * comparison of the same observations (test/verify/live-incremental.test.ts).
 * Each device is fed to the comparison as soon as its answers are in (LiveComparison.feed, then
 * settle at the end of the poll), and its default table is kept as compared when read
 * (ObservedDefaultTable: its differences from the expectation), not as routes.
 * The default table (every loopback and VTEP of the fabric: the answers that grow with the square
 * of the fabric) is not even asked for while bgpd's IPv4 unicast table version, in the BGP
 * summary read first, has not moved since it was read (FRR bumps it on every best-path and
 * multipath change: an ECMP path lost and back took leaf1 from 16 to 18 to 20 in the lab); with
 * an OSPF underlay it is always read. zebra's route counts per type (`show ip route summary
 * json`, read with the summary) stand for what bgpd does not see (connected, kernel and static
 * routes): a table whose version and counts both held is read again only at its slow refresh,
 * every SLOW_REFRESH_ROUNDS-th poll of the device (spread over the devices), for a change that
 * moves neither (a connected route's next hop). Where the counts are not answered, every
 * TABLE_REFRESH_ROUNDS-th poll. On a large fabric both are longer: a poll refreshes at most
 * TableReads.refresh tables, and admits TableReads.admit devices until every one is (the first
 * full read spread over polls).
 */
import { hash } from 'node:crypto';
import type { FabricModel } from '../../model/types.ts';
import type { CheckResult } from '../findings.ts';
import type { FabricGraph } from '../graph.ts';
import { assembleFrrObservation, frrCommands, readFrrOutput, runFrrCommands, type CommandResult, type FrrCommand } from './collector.ts';
import { LiveComparison, type LiveBasis, type ObservedState } from './compare.ts';
import { ObservedDefaultTable } from './default-table.ts';
import type { DeviceObservation, ObservedRoute } from './observed.ts';
import { runProbes } from './probes.ts';
import { collectionOf, type LiveTarget } from './run.ts';

interface Answer {
  /** Of the raw answer. */
  digest: string;
  /** Of what was read from it. */
  sig: string;
  out: { part: unknown } | { error: string };
}

export interface IncrementalPoll {
  observed: ObservedState;
  results: CheckResult[];
  /** Devices whose observation changed (and were re-checked). */
  changed: string[];
  /** Commands whose answer changed (and were parsed). */
  parsed: number;
  /** Devices not admitted yet (the first full read is spread over polls: see TableReads). */
  pending: number;
  /** Default tables whose version or counts moved and that wait for a later poll (TableReads.changed). */
  owed: number;
  /** Their devices. */
  owedDevices: string[];
}

/**
 * How many default tables a poll reads beyond those whose version or counts moved: a fabric's
 * default tables grow with the square of its size (9,768 routes, some 6 MB of JSON, per leaf at
 * 4,998 devices), so neither the first read nor the slow refresh reads them all at once.
 *  - `admit`: devices taken into the comparison per poll, in name order, until every device is:
 *    the first full read is spread over ceil(devices / admit) polls (a device not admitted is
 *    not asked anything, so not observed: no finding judges it, as for a device not collected;
 *    0 admits no more);
 *  - `refresh`: tables read for their slow refresh per poll (on average: a fraction reads one
 *    every few polls): the refresh period is
 *    SLOW_REFRESH_ROUNDS polls, or ceil(devices / refresh) on a fabric larger than
 *    SLOW_REFRESH_ROUNDS * refresh devices (see refreshRounds);
 *  - `changed`: routes of the tables read per poll because their version or counts moved,
 *    each table counted at the size it was last read (the scan's cost goes with its routes).
 *    One spine link down moves the tables of its whole pod and of the super-spines (278 at 4,998
 *    devices, 10,000 routes and some 8 MB of JSON each): read at once, that round took 48 s of
 *    CPU. Beyond the budget a moved table is owed to a later poll, the oldest owed first (the
 *    oldest is read whatever its size); until read, its device is judged by the table read
 *    before, as between two polls. The sessions that moved are read in the same poll whatever
 *    the budget, so the incident opens at once and gathers the owed tables' findings as they
 *    come in.
 */
export interface TableReads {
  admit: number;
  refresh: number;
  changed: number;
}

/**
 * 24 devices admitted a poll (a first read costs some 0.14-0.19 s of CPU for a device at 4,998
 * devices: 3.5-4.6 s a poll with the admitted devices' answers hashed; the fabric is all
 * observed after 209 polls there, 35 minutes at 10 s), 24
 * tables refreshed (a refresh mostly finds the table unchanged: hashed, not parsed; every 209
 * polls at 4,998 devices, the 60 of SLOW_REFRESH_ROUNDS up to 1,440), 250,000 routes of moved
 * tables (some 25 leaves' tables at 4,998 devices, 4-5 s of CPU here; every table that moves on
 * a fabric of a few hundred devices).
 */
export const DEFAULT_TABLE_READS: TableReads = { admit: 24, refresh: 24, changed: 250_000 };

const isDefault = (x: FrrCommand) => x.key === 'routes' && x.vrf === 'default';

/** Routes in a default table as kept (compared when read, or parsed). */
const routesOf = (part: unknown) => (part instanceof ObservedDefaultTable ? part.size : Array.isArray(part) ? part.length : 1);

const digestOf = (r: CommandResult) => (r.ok ? `+${hash('sha1', r.stdout, 'base64')}` : `-${r.error ?? ''}`);

/** Polls of a device between reads of its default table when its BGP table version stays (no route counts answered). */
export const TABLE_REFRESH_ROUNDS = 6;
/** The same when zebra's route counts held too (10 minutes at the default 10 s period). */
export const SLOW_REFRESH_ROUNDS = 60;
/** zebra's RIB and FIB route counts per type in the default table (FRR 8.4: `routes`, `routesTotal`, `routesTotalFib`). */
export const ROUTE_SUMMARY = 'show ip route summary json';

/** The counts of a route summary, whatever the layout of the answer; undefined when it is not one. */
export function routeCounts(summary: string): string | undefined {
  try {
    const j = JSON.parse(summary) as { routes?: { type?: string; rib?: number; fib?: number }[]; routesTotal?: number; routesTotalFib?: number };
    if (!Array.isArray(j.routes) || typeof j.routesTotal !== 'number') return undefined;
    return JSON.stringify([j.routes.map((r) => [r.type, r.rib, r.fib]), j.routesTotal, j.routesTotalFib]);
  } catch {
    return undefined;
  }
}

/** bgpd's IPv4 unicast table version in the default VRF, from `show bgp vrf all summary json`. */
export function defaultTableVersion(summary: string): string | undefined {
  return /"default":\s*\{\s*"ipv4Unicast":\s*\{[^{}]*?"tableVersion":\s*(\d+)/.exec(summary)?.[1];
}

/** Polls of a device between two reads of a default table whose version and counts held (`counted`: counts answered). */
export function refreshRounds(devices: number, reads: TableReads, counted = true): number {
  return Math.max(counted ? SLOW_REFRESH_ROUNDS : TABLE_REFRESH_ROUNDS, Math.ceil(devices / reads.refresh));
}

/** Polls the first full read takes (devices admitted `admit` a poll). */
export const admitPolls = (devices: number, reads: TableReads) => Math.ceil(devices / reads.admit);

export class IncrementalLive {
  readonly comparison: LiveComparison;
  private readonly model: FabricModel;
  /** "<device>\n<command>" -> the last answer, hashed, with its parsed part. */
  private readonly answers = new Map<string, Answer>();
  private readonly devices = new Map<string, DeviceObservation>();
  private state: ObservedState = { devices: [], probes: [] };
  /** Device names in the order `verify --live` lists observations. */
  private readonly order: string[];
  /** Device -> its place in `order`: refreshes are spread by it. */
  private readonly index: Map<string, number>;
  /** Device -> the BGP table version and route counts its default table was read at. */
  private readonly tableVersions = new Map<string, string>();
  /** Whether bgpd's table version tells when the default table changed (a BGP underlay). */
  private readonly versioned: boolean;
  private round = 0;
  /** Default tables not asked for, last poll (their version had not moved). */
  skippedTables = 0;
  /** Default tables read last poll. */
  readTables = 0;
  /** As given (read at each poll: a caller may change them between polls); `reads` with the defaults. */
  private readonly given: Partial<TableReads>;
  /** Devices taken into the comparison so far: the first `admitted` of `order`. */
  private admitted = 0;
  /** Device -> the routes of its moved default table as last read, owed to a later poll (TableReads.changed), oldest first. */
  private readonly owed = new Map<string, number>();
  /** This poll's: the owed tables read before any newly moved one, and the routes left for those. */
  private reserved = new Set<string>();
  private free = 0;

  constructor(model: FabricModel, fg?: FabricGraph, basis?: LiveBasis, reads: Partial<TableReads> = {}) {
    this.model = model;
    this.comparison = new LiveComparison(model, fg, basis);
    this.order = model.devices.map((d) => d.name).sort((a, b) => a.localeCompare(b));
    this.index = new Map(this.order.map((n, i) => [n, i]));
    this.versioned = model.fabric.underlay !== 'ospf';
    this.given = reads;
  }

  get reads(): TableReads {
    return { ...DEFAULT_TABLE_READS, ...this.given };
  }

  refreshRounds(counted = true): number {
    return refreshRounds(this.order.length, this.reads, counted);
  }

  /**
   * The device's answers, in command order. With a BGP underlay the summary and the route counts
   * are read first (a table read after them is at least as new as what they give), and the
   * default table only when the version or the counts moved, its last answer failed, or its
   * refresh is due; a table not read is `undefined`.
   */
  private async answersOf(target: LiveTarget, d: FabricModel['devices'][number], index: number): Promise<{ x: FrrCommand; r?: CommandResult }[]> {
    if (!this.versioned) return runFrrCommands(target.collector, d, this.model);
    const plan = frrCommands(d, this.model);
    const run = (x: FrrCommand) => target.collector.run(d.name, x.command).catch((e: Error): CommandResult => ({ ok: false, stdout: '', error: e.message }));
    const bgp = plan.find((x) => x.key === 'bgp')!;
    const [summary, counted] = await Promise.all([run(bgp), run({ key: 'counts', command: ROUTE_SUMMARY })]);
    const bgpVersion = summary.ok ? defaultTableVersion(summary.stdout) : undefined;
    const counts = counted.ok ? routeCounts(counted.stdout) : undefined;
    const version = bgpVersion === undefined ? undefined : `${bgpVersion}\n${counts ?? ''}`;
    const table = plan.find((x) => x.key === 'routes' && x.vrf === 'default');
    const last = table && this.answers.get(`${d.name}\n${table.command}`);
    const due = (this.round + index) % this.refreshRounds(counts !== undefined) === 0;
    const readable = !!last && 'part' in last.out && version !== undefined && !due;
    const held = readable && this.tableVersions.get(d.name) === version;
    // Moved: read within the budget (the owed first), else owed to a later poll.
    let owe = false;
    if (readable && !held && !this.reserved.has(d.name)) {
      const size = routesOf((last.out as { part: unknown }).part);
      owe = this.owed.has(d.name) || size > this.free;
      if (!owe) this.free -= size;
      else if (!this.owed.has(d.name)) this.owed.set(d.name, size);
    }
    const skip = held || owe;
    if (!owe) this.owed.delete(d.name);
    if (skip) this.skippedTables++;
    else if (table) this.readTables++;
    const out = await Promise.all(plan.map(async (x) => ({ x, r: x === bgp ? summary : skip && x === table ? undefined : await run(x) })));
    if (table && !skip) {
      if (version === undefined) this.tableVersions.delete(d.name);
      else this.tableVersions.set(d.name, version);
    }
    return out;
  }

  async poll(target: LiveTarget, opts: { probes?: boolean } = {}): Promise<IncrementalPoll> {
    const t0 = performance.now();
    // Probes first: they make hosts speak, so MACs are learned by the time state is read.
    const probes = opts.probes !== false && target.lab ? await runProbes(target.lab, this.model) : [];
    const changed: DeviceObservation[] = [];
    let parsed = 0;
    this.skippedTables = 0;
    this.readTables = 0;
    this.round++;
    const admitted = new Set(this.order.slice(0, (this.admitted = Math.min(this.order.length, this.admitted + Math.max(0, this.reads.admit)))));
    // The owed tables first, oldest first (the oldest whatever its size); the rest of the budget for newly moved ones.
    this.reserved = new Set();
    this.free = Math.max(0, this.reads.changed);
    for (const [device, size] of this.owed) {
      if (this.reserved.size && size > this.free) break;
      this.reserved.add(device);
      this.free = Math.max(0, this.free - size);
    }
    await Promise.all(
      this.model.devices.map(async (d) => {
        if (!admitted.has(d.name)) return;
        const how = collectionOf(target, d);
        if (how === 'skip') return;
        if (how !== 'frr') {
          const prev = this.devices.get(d.name);
          if (!prev || JSON.stringify(prev.errors) !== JSON.stringify(how.errors)) {
            this.devices.set(how.device, how);
            this.comparison.feed(how);
            changed.push(how);
          }
          return;
        }
        const results = await this.answersOf(target, d, this.index.get(d.name)!);
        const read: { x: FrrCommand; out: Answer['out'] }[] = [];
        const fresh = new Set<string>();
        for (const { x, r } of results) {
          const key = `${d.name}\n${x.command}`;
          let a = this.answers.get(key);
          if (!r) {
            // Not asked for: unchanged since it was read.
            read.push({ x, out: a!.out });
            continue;
          }
          const digest = digestOf(r);
          if (a?.digest !== digest) {
            parsed++;
            // The default table is compared now and kept as that, not as its routes (read
            // straight from the text where it can be: 10,000 routes at 5,000 devices, whose
            // parsed tree was most of a first read's CPU); its signature is of what is kept
            // (its routes are not written out again).
            let table = isDefault(x) && r.ok ? this.comparison.defaultFromText(d.name, r.stdout) : undefined;
            let out = table ? { part: table } : readFrrOutput(x, r);
            if (!table && isDefault(x) && 'part' in out) table = this.comparison.compactDefault(d.name, out.part as ObservedRoute[]);
            if (table) out = { part: table };
            // An answer that differs only in what is not read (uptimes, timers) parses to the same part: kept.
            const sig = hash('sha1', table ? table.signature() : JSON.stringify(out), 'base64');
            if (a?.sig === sig) a.digest = digest;
            else {
              a = { digest, sig, out };
              this.answers.set(key, a);
              fresh.add(x.key === 'routes' ? `routes:${x.vrf}` : x.key);
            }
          }
          read.push({ x, out: a.out });
        }
        const prev = this.devices.get(d.name);
        if (prev && !fresh.size) return;
        const table = read.find((r) => isDefault(r.x) && 'part' in r.out && r.out.part instanceof ObservedDefaultTable);
        const o = assembleFrrObservation(d.name, read.filter((r) => r !== table));
        if (table) {
          o.defaultTable = (table.out as { part: ObservedDefaultTable }).part;
          o.routes ??= {};
        }
        // A VRF's table assembled from two commands (IPv4, IPv6) is the previous object while neither changed.
        for (const vrf of Object.keys(o.routes ?? {})) if (!fresh.has(`routes:${vrf}`) && prev?.routes?.[vrf]) o.routes![vrf] = prev.routes[vrf];
        // Compared as soon as read: the poll holds one device's parsed answers at a time, not the fabric's.
        this.devices.set(o.device, o);
        this.comparison.feed(o);
        changed.push(o);
      }),
    );
    changed.sort((a, b) => a.device.localeCompare(b.device));
    this.comparison.settle();
    for (const p of probes) this.comparison.updateProbe(p);
    if (changed.length || probes.length || !this.state.devices.length) {
      this.state = { devices: this.order.flatMap((n) => this.devices.get(n) ?? []), probes };
    }
    return { observed: this.state, results: this.comparison.results(performance.now() - t0), changed: changed.map((o) => o.device), parsed, pending: this.order.length - this.admitted, owed: this.owed.size, owedDevices: [...this.owed.keys()] };
  }
}
