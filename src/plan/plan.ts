/**
 * `netloom plan`: what merging a change of the intent does to the network, from the models
 * of two revisions alone (nothing is contacted): the semantic changes, the blast radius
 * (rendered configs, sessions reset, tenants, renumbering), the behavioural difference
 * (reachability predictions, firewall verdicts), the static verification of the head with the
 * findings new since base, and the waves `apply` would push in.
 */
import { isLeafRole } from '../domains/fabric/roles.ts';
import type { FabricModel } from '../model/types.ts';
import type { SourceLocation } from '../util/errors.ts';
import { Renderer, renderNodes, selectDevices, type RenderedArtifact } from '../render/index.ts';
import { sessionOrder } from '../push/session-order.ts';
import { inputHashes } from '../render/incremental.ts';
import { IntentError } from '../util/errors.ts';
import { diffLines } from '../render/diff.ts';
import { describeDisturbance, frrDisturbance } from '../push/frr-disturbance.ts';
import type { Disturbance } from '../push/driver.ts';
import { heldDown, planWaves } from '../push/rollout.ts';
import { disturbedFlows, endpointFlows, type Flow } from '../verify/flows.ts';
import { runCheck } from '../verify/static.ts';
import { buildFabricGraph } from '../verify/graph.ts';
import { makeContext, type CheckContext } from '../verify/checks/index.ts';
import type { CheckResult, FindingElements, Severity } from '../verify/findings.ts';
import { allStaticChecks } from '../domains/index.ts';
import { createHash } from 'node:crypto';
import { firewallPolicies } from '../domains/firewall/checks.ts';
import { policyChanges, type DiffEntry, type PolicyChange } from '../domains/firewall/policy-diff.ts';
import { renumbering, same, semanticDiff, type ObjectChange, type RenumberAlarm } from './semantic-diff.ts';
import { IntentText } from './intent-text.ts';
import { PlanTables } from './sim-tables.ts';
import { fabricFrom } from './incremental-head.ts';

/** One side of the plan: the intent at a revision. */
export interface PlanSide {
  /** The revision as given (`main`, `HEAD~1`), or `working tree`. */
  rev: string;
  /** The commit it resolved to; absent for the working tree. */
  commit?: string;
  /** Absent when the intent directory did not exist there. */
  model?: FabricModel;
  /** Intent file path as the model records it -> path relative to the repository root. */
  repoPath(file: string): string;
  /** Intent file path as the model records it -> where to read it (default: from the working directory). */
  filePath?(file: string): string;
  /**
   * What was computed from this revision's model before (the model cache's entry): its
   * render-input hashes, static check results and endpoint flows. Read where present, filled
   * where computed; absent for the working tree.
   */
  memo?: SideMemo;
  /**
   * The side's static check results and flows computed elsewhere (a worker thread that loaded
   * the same revision itself, src/plan/side-analysis.ts), asked where the memo has nothing;
   * undefined from it means computed here.
   */
  analysis?: SideAnalysis;
}

/** A side's analysis done elsewhere, with the results as this module would compute them. */
export interface SideAnalysis {
  checks(ids: string[]): Map<string, MemoCheck> | undefined;
  flows(endpoints: Set<string>): Flow[] | undefined;
}

/** A revision's derived results, stored with its cached model (src/plan/model-cache.ts). */
export interface SideMemo {
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  /** Bytes kept beside the memo (a simulated routing table's runs: src/plan/sim-tables.ts). */
  blob?(key: string): Buffer | undefined;
  hasBlob?(key: string): boolean;
  /** `data` as a function: asked when the entry is written (undefined: nothing to write). */
  setBlob?(key: string, data: BlobData): void;
}

export type BlobData = Buffer | (() => Buffer | undefined);

/** A static check's result as the plan reports it (paths repository-relative), without `new`. */
export interface MemoCheck {
  title: string;
  passed: boolean;
  examined: string;
  findings: Omit<PlanFinding, 'new'>[];
}

export interface FileStat {
  file: string;
  added: number;
  removed: number;
}

export interface DeviceImpact {
  device: string;
  change: 'added' | 'removed' | 'changed';
  files: FileStat[];
  /** What the push disturbs (FRR devices changed in place), one line. */
  disturbs?: string;
}

export interface SessionReset {
  device: string;
  /** The neighbour as FRR names it, with the attribute that resets it. */
  neighbor: string;
  /** The model's session, when the neighbour is one. */
  session?: string;
}

export interface PairChange {
  src: string;
  dst: string;
  /** gains / loses reachability, or the prediction changes and the answer does not. */
  change: 'gains' | 'loses' | 'changes';
  before?: { predicted: string; answers: boolean };
  after?: { predicted: string; answers: boolean };
}

export interface PlanFinding {
  check: string;
  severity: Severity;
  message: string;
  location?: SourceLocation;
  /** The devices, links and endpoints at fault (the fabric picture marks them). */
  elements?: FindingElements;
  /** Not among the base's findings. */
  new: boolean;
}

export interface PlanCheck {
  id: string;
  title: string;
  passed: boolean;
  examined: string;
  findings: PlanFinding[];
}

export interface Plan {
  schema: 'netloom-plan/1';
  fabric: string;
  /** The intent directory, relative to the repository root. */
  intentDir: string;
  base: { rev: string; commit?: string; revision?: string; exists: boolean };
  head: { rev: string; commit?: string; revision?: string; exists: boolean };
  changes: ObjectChange[];
  blastRadius: {
    devices: DeviceImpact[];
    sessionsReset: SessionReset[];
    /** Devices whose reset cannot be predicted (not FRR, or everything on it). */
    unpredicted: string[];
    tenants: string[];
    renumbering: RenumberAlarm[];
    /** Endpoint flows the rollout may disturb while it runs, with why. */
    disturbedFlows: { src: string; dst: string; why: string }[];
  };
  /** `reachabilityScope`: which endpoint pairs were compared (all, or those among the endpoints the change affects). */
  behaviour: { reachabilityScope: string; reachability: PairChange[]; firewall: PolicyChange[] };
  verification: { checks: PlanCheck[] };
  /** `unsafe`: why apply would refuse these waves (RolloutResult.unsafe). */
  rollout: { canary: number; waveSize: number; waves: string[][]; unsafe?: string[] };
}

export interface PlanOptions {
  canary: number;
  waveSize: number;
  /**
   * Take the head's results from the base's where they are proven equal (default, unless
   * NETLOOM_PLAN_REUSE=off): control-plane tables over equal inputs, and the checks that read
   * only the fabric's part of a head built from its base. The report is the same bytes.
   */
  reuse?: boolean;
  /** Filled with what was taken from the other revision (the bench and tests print it). */
  reused?: string[];
  /** Filled with each phase's milliseconds (the bench prints them). */
  timings?: Record<string, number>;
}

const byDevice = (arts: RenderedArtifact[]) => {
  const m = new Map<string, Map<string, string>>();
  for (const a of arts) {
    if (!m.has(a.device)) m.set(a.device, new Map());
    m.get(a.device)!.set(a.artifact, a.content);
  }
  return m;
};

/** Each side's renderer, and its analysis context (one graph; the control plane simulated once), built on first use. */
class SideTools {
  private renderers = new Map<PlanSide, Renderer>();
  private contexts = new Map<PlanSide, CheckContext>();
  private readonly tables?: PlanTables;
  constructor(
    sides: PlanSide[],
    readonly reuse: boolean,
    readonly reused: string[],
  ) {
    if (reuse) this.tables = new PlanTables(sides, reused);
  }
  renderer(s: PlanSide): Renderer {
    let r = this.renderers.get(s);
    if (!r) this.renderers.set(s, (r = new Renderer(s.model!)));
    return r;
  }
  context(s: PlanSide): CheckContext {
    let c = this.contexts.get(s);
    if (!c) this.contexts.set(s, (c = makeContext(buildFabricGraph(s.model!), this.tables?.forSide(s))));
    return c;
  }
}

/** Each device's render-input hash (the incremental renderer's key), from the side's memo when it has them. */
function deviceHashes(s: PlanSide, tools: SideTools): Map<string, string> {
  if (!s.model) return new Map();
  const memo = s.memo?.get<[string, string][]>('input-hashes');
  if (memo) return new Map(memo);
  const r = tools.renderer(s);
  const names = selectDevices(r.model);
  const h = inputHashes(r, names);
  const out = names.map((n, i): [string, string] => [n, h[i]]);
  s.memo?.set('input-hashes', out);
  return new Map(out);
}

/**
 * The devices whose render inputs (the incremental renderer's key: the device, its sessions
 * with the peers' loopbacks, its OSPF adjacencies, and the fabric-wide part: fabric settings,
 * name, site, every domain's section) differ, read off the semantic diff, which compares every
 * one of those objects field by field: a changed, added or removed device; both ends of a
 * changed session or adjacency; the session peers of a device whose loopback moved; a device
 * whose session list is ordered differently (the diff leaves it out). Undefined when the
 * fabric-wide part differs (every device's key does) or a side is absent: then every device's
 * inputs are hashed.
 */
export function staleFromDiff(base: PlanSide, head: PlanSide, changes: ObjectChange[]): string[] | undefined {
  const b = base.model;
  const h = head.model;
  if (!b || !h) return undefined;
  const global = (m: FabricModel) => ({ fabric: m.fabric, name: m.name, site: m.site, domains: m.domains });
  if (!same(global(b), global(h))) return undefined;
  const stale = new Set<string>();
  // Both ends of the changed sessions and adjacencies, looked up in each model (a tenant's
  // change has none: 60,000 sessions are not indexed for it).
  const changedIds = { 'bgp-session': new Set<string>(), 'ospf-adjacency': new Set<string>() };
  const moved = new Set<string>();
  for (const c of changes) {
    if (c.kind === 'device') {
      stale.add(c.key);
      if (c.fields.some((f) => f.field === 'loopback')) moved.add(c.key);
    }
    if (c.kind === 'bgp-session' || c.kind === 'ospf-adjacency') changedIds[c.kind].add(c.key);
  }
  for (const m of [b, h]) {
    for (const [ids, list] of [
      [changedIds['bgp-session'], m.bgpSessions],
      [changedIds['ospf-adjacency'], m.ospfAdjacencies],
    ] as const) {
      if (ids.size) for (const x of list) if (ids.has(x.id)) stale.add(x.a.device).add(x.b.device);
    }
    if (moved.size) {
      for (const s of m.bgpSessions) {
        if (moved.has(s.a.device)) stale.add(s.b.device);
        if (moved.has(s.b.device)) stale.add(s.a.device);
      }
    }
  }
  const before = new Map(b.devices.map((d) => [d.name, d.bgpSessionIds]));
  const sameIds = (x: string[], y: string[]) => x === y || (x.length === y.length && x.every((id, i) => id === y[i]));
  for (const d of h.devices) {
    const ids = before.get(d.name);
    if (ids && !sameIds(ids, d.bgpSessionIds)) stale.add(d.name);
  }
  return [...stale];
}

/**
 * An intent error of one side with its places where the side's files are (both sides name
 * their files alike: the caller tells them apart by where they are).
 */
function sideError(s: PlanSide, e: unknown): unknown {
  if (!(e instanceof IntentError) || !s.filePath) return e;
  return new IntentError(e.diagnostics.map((d) => ({ ...d, loc: { ...d.loc, file: s.filePath!(d.loc.file) } })));
}

/**
 * The files of the devices whose render inputs differ between the two models (the incremental
 * renderer's key): a device with equal inputs renders equal files, so it is never rendered.
 */
function renderChanged(base: PlanSide, head: PlanSide, changes: ObjectChange[], tools: SideTools): { baseArts: Map<string, Map<string, string>>; headArts: Map<string, Map<string, string>> } {
  let stale = staleFromDiff(base, head, changes);
  if (!stale) {
    const hb = deviceHashes(base, tools);
    const hh = deviceHashes(head, tools);
    stale = [...new Set([...hb.keys(), ...hh.keys()])].filter((n) => hb.get(n) !== hh.get(n));
  }
  const render = (s: PlanSide) => {
    const has = new Set(s.model?.devices.map((d) => d.name));
    const names = stale.filter((n) => has.has(n));
    if (!s.model || !names.length) return new Map<string, Map<string, string>>();
    const r = tools.renderer(s);
    const views = names.map((n) => r.view(n));
    const diags = views.flatMap((v) => r.check(v));
    if (diags.length) throw sideError(s, new IntentError(diags));
    return byDevice(views.flatMap((v) => r.renderView(v)));
  };
  return { baseArts: render(base), headArts: render(head) };
}

/**
 * The changed devices in the order `apply` pushes them (sessionOrder): a device's running
 * configuration is its base rendering, none for a device the change adds.
 */
function rolloutOrder(model: FabricModel | undefined, baseArts: Map<string, Map<string, string>>, changed: Set<string>): string[] {
  if (!model) return [];
  const devices = model.devices.filter((d) => changed.has(d.name));
  return sessionOrder(devices, model, (d) => d.name, (d) => (d.platform === 'frr' ? baseArts.get(d.name)?.get('frr.conf') ?? '' : undefined)).map((d) => d.name);
}

const lines = (s: string) => (s === '' ? [] : s.replace(/\n$/, '').split('\n'));

function fileStats(before: Map<string, string> | undefined, after: Map<string, string> | undefined): FileStat[] {
  const names = [...new Set([...(before?.keys() ?? []), ...(after?.keys() ?? [])])].sort();
  const out: FileStat[] = [];
  for (const f of names) {
    const a = before?.get(f) ?? '';
    const b = after?.get(f) ?? '';
    if (a === b) continue;
    let added = 0;
    let removed = 0;
    for (const e of diffLines(lines(a), lines(b))) {
      if (e.op === '+') added++;
      else if (e.op === '-') removed++;
    }
    out.push({ file: f, added, removed });
  }
  return out;
}

/** The model's session behind an FRR neighbour name (an interface for unnumbered sessions, else an address). */
function sessionOf(model: FabricModel, device: string, neighbor: string): string | undefined {
  for (const s of model.bgpSessions) {
    for (const [me, peer] of [[s.a, s.b], [s.b, s.a]] as const) {
      if (me.device !== device) continue;
      if (me.interface === neighbor || peer.address === neighbor || peer.routerId === neighbor) return s.id;
    }
  }
  return undefined;
}

/** Findings are the same across revisions when check and message match, line numbers aside. */
const findingKey = (check: string, message: string) => `${check}\t${message.replace(/:\d+:\d+\b/g, ':L')}`;

function relocate(side: PlanSide, loc: SourceLocation | undefined): SourceLocation | undefined {
  return loc ? { file: side.repoPath(loc.file), line: loc.line, col: loc.col } : undefined;
}

/** A compared value with every source place in it repository-relative (a copy where one is). */
function relocateValue(side: PlanSide, v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => relocateValue(side, x));
  if (!v || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if (typeof o.file === 'string' && typeof o.line === 'number' && typeof o.col === 'number') return { ...o, file: side.repoPath(o.file) };
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, relocateValue(side, x)]));
}

/** A `file:line:col` string, repository-relative. */
function relocateLoc(side: PlanSide, text: string): string {
  const m = /^(.*):(\d+):(\d+)$/.exec(text);
  return m ? `${side.repoPath(m[1])}:${m[2]}:${m[3]}` : text;
}

/** Intent paths inside a message (the firewall names related rules with theirs), repository-relative. */
function relocateText(side: PlanSide, text: string, files: string[]): string {
  let out = text;
  for (const f of files) out = out.split(`${f}:`).join(`${side.repoPath(f)}:`);
  return out;
}

function intentFiles(model: FabricModel | undefined, changes: { location?: SourceLocation }[]): string[] {
  const files = new Set<string>();
  if (model) for (const o of [...model.devices, ...model.networks, ...model.vrfs, ...model.endpoints, ...firewallPolicies(model)]) files.add(o.source.file);
  for (const c of changes) if (c.location) files.add(c.location.file);
  // Longest first: a path that prefixes another is replaced after it.
  return [...files].sort((a, b) => b.length - a.length);
}

/** A check's result as the plan reports it: messages and locations repository-relative. */
export function memoCheck(side: PlanSide, r: CheckResult, files: string[]): MemoCheck {
  return {
    title: r.check.title,
    passed: r.passed,
    examined: r.examined,
    findings: r.findings.map((f) => ({
      check: r.check.id,
      severity: f.severity,
      message: relocateText(side, f.message, files),
      ...(f.location ? { location: relocate(side, f.location) } : {}),
      ...(f.elements ? { elements: f.elements } : {}),
    })),
  };
}

/** Results of the static checks `ids` (in registry order) on a side's shared context. */
export function runChecks(side: PlanSide, ctx: CheckContext, ids: string[]): (MemoCheck & { id: string })[] {
  const files = intentFiles(side.model, []);
  return allStaticChecks()
    .filter((c) => ids.includes(c.id))
    .map((c) => ({ id: c.id, ...memoCheck(side, runCheck(c, ctx), files) }));
}

/**
 * A side's static check results, `ids` only (default every check): from its memo where
 * present, then from its analysis elsewhere, the others run on the side's shared context; all
 * stored in the memo.
 */
function checkResults(side: PlanSide, tools: SideTools, ids?: string[], from?: PlanSide): (MemoCheck & { id: string })[] {
  const want = ids ?? allStaticChecks().map((c) => c.id);
  const got = new Map<string, MemoCheck>();
  for (const id of want) {
    const m = side.memo?.get<MemoCheck>(`check:${id}`);
    if (m) got.set(id, m);
  }
  let missing = want.filter((id) => !got.has(id));
  // A head built from the base: a check reading only the fabric's part answers as at the base
  // (its places are in files the change left as they were, so repository-relative they are the
  // same). From the base's memo; computed here, it is the base's too.
  const shared = tools.reuse && from?.model && side.model && fabricFrom.get(side.model) === from.model ? new Set(allStaticChecks().filter((c) => c.reads === 'fabric').map((c) => c.id)) : undefined;
  if (shared) {
    for (const id of missing) {
      const m = shared.has(id) ? from!.memo?.get<MemoCheck>(`check:${id}`) : undefined;
      if (!m) continue;
      side.memo?.set(`check:${id}`, m);
      got.set(id, m);
      tools.reused.push(`${side.rev}: check ${id} from ${from!.rev}`);
    }
    missing = missing.filter((id) => !got.has(id));
  }
  const elsewhere = missing.length ? side.analysis?.checks(missing) : undefined;
  if (elsewhere) {
    for (const id of missing) {
      const m = elsewhere.get(id);
      if (!m) continue;
      side.memo?.set(`check:${id}`, m);
      got.set(id, m);
    }
    missing = missing.filter((id) => !got.has(id));
  }
  if (missing.length) {
    for (const { id, ...m } of runChecks(side, tools.context(side), missing)) {
      side.memo?.set(`check:${id}`, m);
      if (shared?.has(id)) from!.memo?.set(`check:${id}`, m);
      got.set(id, m);
    }
  }
  return want.map((id) => ({ id, ...got.get(id)! }));
}

function verification(base: PlanSide, head: PlanSide, tools: SideTools): PlanCheck[] {
  if (!head.model) return [];
  const results = checkResults(head, tools, undefined, base);
  // The base's findings only tell the head's apart as new or not: a check without findings at
  // the head is not run at the base (most of a small change's checks).
  const ask = results.filter((r) => r.findings.length).map((r) => r.id);
  const seen = new Set<string>();
  if (base.model && ask.length) for (const r of checkResults(base, tools, ask)) for (const f of r.findings) seen.add(findingKey(f.check, f.message));
  return results.map((r) => ({
    id: r.id,
    title: r.title,
    passed: r.passed,
    examined: r.examined,
    findings: r.findings.map((f) => ({ ...f, new: !seen.has(findingKey(f.check, f.message)) })),
  }));
}

/** A side's flows among `endpoints`, from its memo when this scope was compared before. */
function sideFlows(s: PlanSide, endpoints: Set<string>, tools: SideTools): Flow[] {
  if (!s.model || s.model.endpoints.filter((e) => e.ipv4 && endpoints.has(e.name)).length < 2) return [];
  const key = `flows:${createHash('sha256').update([...endpoints].sort().join('\n')).digest('hex').slice(0, 16)}`;
  const memo = s.memo?.get<Flow[]>(key);
  if (memo) return memo;
  let flows = s.analysis?.flows(endpoints);
  if (!flows) {
    const ctx = tools.context(s);
    flows = endpointFlows(s.model, endpoints, ctx.fg, ctx);
  }
  s.memo?.set(key, flows);
  return flows;
}

function reachability(baseFlows: Flow[], headFlows: Flow[]): PairChange[] {
  const key = (f: Flow) => `${f.src}>${f.dst}`;
  const before = new Map(baseFlows.map((f) => [key(f), f]));
  const after = new Map(headFlows.map((f) => [key(f), f]));
  const out: PairChange[] = [];
  for (const k of [...new Set([...before.keys(), ...after.keys()])]) {
    const a = before.get(k);
    const b = after.get(k);
    if (a && b && a.predicted === b.predicted && a.answers === b.answers) continue;
    const ans = (f?: Flow) => f?.answers ?? false;
    if (!ans(a) && !ans(b) && (!a || !b)) continue; // an isolated pair appearing or leaving
    const f = (b ?? a)!;
    out.push({
      src: f.src,
      dst: f.dst,
      change: ans(b) && !ans(a) ? 'gains' : ans(a) && !ans(b) ? 'loses' : 'changes',
      ...(a ? { before: { predicted: a.predicted, answers: a.answers } } : {}),
      ...(b ? { after: { predicted: b.predicted, answers: b.answers } } : {}),
    });
  }
  return out.sort((x, y) => x.src.localeCompare(y.src) || x.dst.localeCompare(y.dst));
}

function tenantsTouched(base: PlanSide, head: PlanSide, changes: ObjectChange[], disturbances: Map<string, Disturbance>): string[] {
  const t = new Set<string>();
  const tenantOf = (m: FabricModel | undefined, kind: string, key: string): string | string[] | undefined => {
    if (!m) return undefined;
    if (kind === 'tenant') return m.tenants.find((x) => x.name === key)?.name;
    if (kind === 'vrf') return m.vrfs.find((x) => x.name === key)?.tenant;
    if (kind === 'network') return m.networks.find((x) => x.name === key)?.tenant;
    if (kind === 'endpoint') return m.endpoints.find((x) => x.name === key)?.tenant;
    if (kind === 'policy') {
      const e = firewallPolicies(m).find((x) => x.name === key)?.enforcement;
      const vrfs = e?.kind === 'inter-vrf' ? e.vrfs : e?.kind === 'network' ? e.networks.map((n) => m.networks.find((x) => x.name === n)?.vrf) : [];
      return vrfs.map((v) => m.vrfs.find((x) => x.name === v)?.tenant).filter((x): x is string => !!x);
    }
    if (kind === 'vni') return m.vrfs.find((x) => String(x.l3vni) === key)?.tenant ?? m.networks.find((x) => String(x.l2vni) === key)?.tenant;
    return undefined;
  };
  for (const c of changes) {
    for (const m of [base.model, head.model]) {
      for (const x of [tenantOf(m, c.kind, c.key) ?? []].flat()) t.add(x);
    }
  }
  const m = head.model;
  if (m) {
    for (const d of disturbances.values()) {
      for (const v of d.vrfs) for (const x of m.vrfs.filter((y) => y.name === v)) t.add(x.tenant);
      for (const n of d.vlans) for (const x of m.networks.filter((y) => y.vlan === n)) t.add(x.tenant);
      for (const n of d.vnis) for (const x of [...m.networks.filter((y) => y.l2vni === n), ...m.vrfs.filter((y) => y.l3vni === n)]) t.add(x.tenant);
    }
  }
  return [...t].sort();
}

/** Endpoints whose pairs are compared in full; past this only those the change affects. */
export const FLOW_ENDPOINT_LIMIT = 300;

/**
 * Which endpoints' pairs the behavioural diff compares. Every pair is traced, so a large
 * fabric (the 5,000-device shape has 4,770 endpoints: 22 million pairs) is narrowed to the
 * endpoints the change affects: changed, added or removed ones, those of a changed network or
 * VRF, and those behind a leaf whose configuration changes. A change outside the leaves (a
 * spine) affects every pair: then nothing is narrowed and past the limit nothing is compared.
 */
function flowScope(base: FabricModel | undefined, head: FabricModel | undefined, changes: ObjectChange[], changedDevices: Set<string>): { endpoints?: Set<string>; text: string } {
  const all = new Set([...(base?.endpoints ?? []), ...(head?.endpoints ?? [])].map((e) => e.name));
  if (all.size <= FLOW_ENDPOINT_LIMIT) return { endpoints: all, text: `every pair of ${all.size} endpoints` };
  const leaves = new Set([...(base?.devices ?? []), ...(head?.devices ?? [])].filter((d) => isLeafRole(d.role)).map((d) => d.name));
  if ([...changedDevices].some((d) => !leaves.has(d)) || changes.some((c) => c.kind === 'fabric' || c.kind === 'link' || c.kind === 'bgp-session')) {
    return { text: `not compared: the change reaches beyond the leaves and the fabric has ${all.size} endpoints (more than ${FLOW_ENDPOINT_LIMIT})` };
  }
  const nets = new Set(changes.filter((c) => c.kind === 'network').map((c) => c.key));
  const vrfs = new Set(changes.filter((c) => c.kind === 'vrf').map((c) => c.key));
  const named = new Set(changes.filter((c) => c.kind === 'endpoint').map((c) => c.key));
  const hit = new Set<string>();
  for (const e of [...(base?.endpoints ?? []), ...(head?.endpoints ?? [])]) {
    if (named.has(e.name) || nets.has(e.network) || vrfs.has(e.vrf) || changedDevices.has(e.leaf)) hit.add(e.name);
  }
  if (hit.size > FLOW_ENDPOINT_LIMIT) return { text: `not compared: the change affects ${hit.size} endpoints (more than ${FLOW_ENDPOINT_LIMIT})` };
  return { endpoints: hit, text: `pairs among the ${hit.size} endpoints the change affects (of ${all.size})` };
}

export function buildPlan(intentDir: string, base: PlanSide, head: PlanSide, opts: PlanOptions): Plan {
  let t = performance.now();
  const lap = (phase: string) => {
    const now = performance.now();
    if (opts.timings) opts.timings[phase] = now - t;
    t = now;
  };
  const raw = semanticDiff(base.model, head.model);
  const text = new IntentText();
  const touched = (c: ObjectChange) => {
    if (!c.location || !c.baseLocation) return true;
    const a = text.at(c.baseLocation, base.filePath);
    const b = text.at(c.location, head.filePath);
    return a === undefined || b === undefined || a !== b;
  };
  // The ports of the endpoints the change edits, at both revisions (a moved endpoint leaves one, joins another).
  const edited = new Set<string>();
  const endpointChanges = new Set(raw.filter((c) => c.kind === 'endpoint').map((c) => c.key));
  if (endpointChanges.size) for (const m of [base.model, head.model]) for (const e of m?.endpoints ?? []) if (endpointChanges.has(e.name)) edited.add(`${e.leaf}|${e.port}`);
  const alarms = renumbering(raw, touched, edited).map((a) => ({ ...a, location: relocate(head, a.location) }));
  const changes = raw.map((c) => {
    const { baseLocation: _b, ...rest } = c;
    // The values compared carry their own places too (an added interface's, a rule's).
    const fields = c.fields.map((f) => ({ ...f, ...('before' in f ? { before: relocateValue(base, f.before) } : {}), ...('after' in f ? { after: relocateValue(head, f.after) } : {}) }));
    return { ...rest, fields, location: relocate(c.change === 'removed' ? base : head, c.location) };
  });

  lap('semantic diff');
  const tools = new SideTools([base, head], opts.reuse ?? process.env.NETLOOM_PLAN_REUSE !== 'off', opts.reused ?? []);
  const { baseArts, headArts } = renderChanged(base, head, raw, tools);
  lap('render changed devices');
  const devices: DeviceImpact[] = [];
  const disturbances = new Map<string, Disturbance>();
  const sessionsReset: SessionReset[] = [];
  const unpredicted: string[] = [];
  const baseSessions = new Set(base.model?.bgpSessions.map((x) => x.id));
  const headSessions = new Set(head.model?.bgpSessions.map((x) => x.id));
  const headNames = new Set(head.model?.devices.map((d) => d.name));
  const order = [...(head.model?.devices ?? []), ...(base.model?.devices ?? []).filter((d) => !headNames.has(d.name))];
  for (const d of order) {
    const a = baseArts.get(d.name);
    const b = headArts.get(d.name);
    const files = fileStats(a, b);
    if (!files.length) continue;
    const impact: DeviceImpact = { device: d.name, change: !a ? 'added' : !b ? 'removed' : 'changed', files };
    if (a && b) {
      if (b.has('frr.conf') && a.has('frr.conf')) {
        const dist = frrDisturbance(a.get('frr.conf')!, b.get('frr.conf')!, a.get('network.sh') ?? '', b.get('network.sh') ?? '');
        // A session the change creates is not reset: only those that exist before count.
        const attrs = new Map<string, string[]>();
        dist.sessions = dist.sessions.filter((x) => {
          const [, neighbor, attr] = /^(\S+) \((.*)\)$/.exec(x) ?? [x, x, ''];
          const id = sessionOf(head.model!, d.name, neighbor) ?? sessionOf(base.model!, d.name, neighbor);
          if (id !== undefined && !baseSessions.has(id)) return false;
          // A removed session disturbs its flows, but is listed as removed, not reset.
          if (id === undefined || headSessions.has(id)) attrs.set(neighbor, [...(attrs.get(neighbor) ?? []), attr]);
          return true;
        });
        disturbances.set(d.name, dist);
        impact.disturbs = describeDisturbance(dist);
        // Sessions listed as reset with everything on the device are not listed again by attribute.
        const everything = new Set<string>();
        if (dist.all) {
          unpredicted.push(d.name);
          for (const id of d.bgpSessionIds) {
            if (!baseSessions.has(id) || !headSessions.has(id)) continue;
            everything.add(id);
            sessionsReset.push({ device: d.name, neighbor: `every session (${dist.all})`, session: id });
          }
        }
        for (const [neighbor, why] of attrs) {
          const session = sessionOf(head.model!, d.name, neighbor);
          if (session !== undefined && everything.has(session)) continue;
          sessionsReset.push({ device: d.name, neighbor: `${neighbor} (${why.join(', ')})`, ...(session ? { session } : {}) });
        }
      } else unpredicted.push(d.name);
    }
    devices.push(impact);
  }

  // Service nodes (load balancers, DNS servers, firewall nodes): their files, pushed after the
  // devices one node a wave. Few, and rendered from many parts of the model: all are compared.
  const nodesOf = (s: PlanSide) => {
    try {
      return s.model ? byDevice(renderNodes(s.model)) : new Map<string, Map<string, string>>();
    } catch (e) {
      throw sideError(s, e);
    }
  };
  const baseNodes = nodesOf(base);
  const headNodes = nodesOf(head);
  const changedNodes: string[] = [];
  for (const name of [...headNodes.keys(), ...[...baseNodes.keys()].filter((n) => !headNodes.has(n))]) {
    const a = baseNodes.get(name);
    const b = headNodes.get(name);
    const files = fileStats(a, b);
    if (!files.length) continue;
    devices.push({ device: name, change: !a ? 'added' : !b ? 'removed' : 'changed', files });
    if (b) changedNodes.push(name);
  }
  lap('file stats and disturbance');
  const scope = flowScope(base.model, head.model, raw, new Set(devices.map((d) => d.device)));
  // One graph per revision, for the flows and the static checks alike (SideTools).
  const baseFlows = scope.endpoints ? sideFlows(base, scope.endpoints, tools) : [];
  const headFlows = scope.endpoints ? sideFlows(head, scope.endpoints, tools) : [];
  const baseKeys = new Set(baseFlows.map((f) => `${f.src}>${f.dst}`));
  const fw = policyChanges(base.model ? firewallPolicies(base.model) : [], head.model ? firewallPolicies(head.model) : [])
    .filter((p) => p.change !== 'changed' || p.newlyAccepted.length + p.newlyDenied.length + p.denialChanged.length > 0)
    .map((p) => {
      const sides = (list: DiffEntry[]) => list.map((x) => ({ ...x, before: { ...x.before, location: relocateLoc(base, x.before.location) }, after: { ...x.after, location: relocateLoc(head, x.after.location) } }));
      return { ...p, newlyAccepted: sides(p.newlyAccepted), newlyDenied: sides(p.newlyDenied), denialChanged: sides(p.denialChanged) };
    });
  lap('behaviour');
  const checks = verification(base, head, tools);
  lap('static verification (head; base where the head has findings)');
  const changed = new Set(devices.filter((d) => d.change !== 'removed').map((d) => d.device));
  const waves = [...planWaves(rolloutOrder(head.model, baseArts, changed), opts.canary, opts.waveSize), ...changedNodes.map((n) => [n])];
  // What apply would refuse: waves holding adjacencies down until a later wave.
  // A device's running FRR config is its base rendering (rendered here when the change left it alone).
  const frrOf = (device: string) => {
    let running = baseArts.get(device)?.get('frr.conf');
    if (running === undefined && base.model?.devices.some((d) => d.name === device && d.platform === 'frr')) {
      const r = tools.renderer(base);
      running = byDevice(r.renderView(r.view(device))).get(device)?.get('frr.conf');
    }
    return running === undefined ? undefined : { running, desired: headArts.get(device)?.get('frr.conf') ?? running };
  };
  const unsafe = head.model ? heldDown(head.model, waves.map((w) => w.map((device) => ({ device, disturbs: disturbances.get(device) }))), frrOf) : [];
  const side = (s: PlanSide) => ({ rev: s.rev, ...(s.commit ? { commit: s.commit } : {}), ...(s.model ? { revision: s.model.revision } : {}), exists: !!s.model });
  return {
    schema: 'netloom-plan/1',
    fabric: head.model?.name ?? base.model?.name ?? '',
    intentDir,
    base: side(base),
    head: side(head),
    changes,
    blastRadius: {
      devices,
      sessionsReset,
      unpredicted,
      tenants: tenantsTouched(base, head, raw, disturbances),
      renumbering: alarms,
      // Only flows that exist before the change can be disturbed by it.
      disturbedFlows: head.model ? disturbedFlows(head.model, headFlows.filter((f) => baseKeys.has(`${f.src}>${f.dst}`)), disturbances).map((x) => ({ src: x.flow.src, dst: x.flow.dst, why: x.why })) : [],
    },
    behaviour: { reachabilityScope: scope.text, reachability: reachability(baseFlows, headFlows), firewall: fw },
    verification: { checks },
    rollout: { canary: opts.canary, waveSize: opts.waveSize, waves, ...(unsafe.length ? { unsafe } : {}) },
  };
}

const RANK: Record<Severity, number> = { error: 3, warning: 2, info: 1 };

/** Findings of the head at or above `level` ('never': none). */
/**
 * Findings of the head at or above `level` ('never': none), then the waves apply would refuse
 * (`rollout.unsafe`, check `rollout`, one per peering): a merge whose apply would be refused
 * fails the pull request's plan as a finding would.
 */
export function failingFindings(plan: Plan, level: Severity | 'never'): PlanFinding[] {
  if (level === 'never') return [];
  const refused = (plan.rollout.unsafe ?? []).map((u): PlanFinding => ({ check: 'rollout', severity: 'error', message: `apply would refuse the waves: ${u}`, elements: { devices: [u.split(' ')[0]] }, new: true }));
  return [...plan.verification.checks.flatMap((c) => c.findings).filter((f) => RANK[f.severity] >= RANK[level]), ...refused];
}
