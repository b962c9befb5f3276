/**
 * Findings -> the smallest set of failed elements that explains them, on the model's graph.
 * Each finding names the elements whose failure would produce it: a BGP session its link and
 * its two devices (a session between loopbacks every link and device on the underlay paths
 * between its two devices); a missing or reduced underlay route every link and device on the
 * predicted shortest paths between its two ends; anything else the devices and endpoints it
 * names (with the devices whose loopback or VTEP address it names), and for traffic between
 * two endpoints the paths between their leaves. The
 * explanation is a set cover, chosen greedily (the classic ln n approximation of the
 * smallest one): the element explaining most unexplained findings first; among equals
 * the one with the smallest blast radius (a link before a device, a device with fewer
 * underlay adjacencies before one with more), so one spine link down is one link incident,
 * not its leaf or its spine.
 * A leaf's kernel entry for a remote VTEP (live-fabric-forwarding) depends on the underlay
 * between the two, so a link on the paths between them explains it. A link whose modelled
 * underlay session or adjacency has no finding is up: it is never inferred from a path, so
 * entries FRR 8.4 keeps dropped after the link is back (and the probes they break) name the
 * leaves, not the link.
 */
import { countPaths, type FabricGraph } from '../verify/graph.ts';
import type { Finding } from '../verify/findings.ts';

export interface Explanation {
  /** "link:<a:if--b:if>", "device:<name>" or "endpoint:<name>". */
  element: string;
  /** Keys of the findings it explains. */
  findings: string[];
}

/** Devices whose underlay distances the correlator keeps (4 bytes a device each: 5 MB at 5,000 devices). */
const DIST_CACHE = 256;

export class Correlator {
  private readonly fg: FabricGraph;
  /** Scratch for a breadth-first search: path counts (not read) and its queue. */
  private readonly bfs: { sigma: Float64Array; queue: Int32Array };
  private readonly pathCache = new Map<string, string[]>();
  /** Underlay distances from a device, by its index (the most recent DIST_CACHE kept). */
  private readonly distCache = new Map<number, Int32Array>();
  /** Scratch for one path walk: devices marked, and the walk's stack. */
  private readonly mark: Uint8Array;
  private readonly stack: Int32Array;
  /** Element names by device and by link index, built when first named. */
  private readonly deviceNames: string[] = [];
  private readonly linkNames: string[] = [];
  /** Loopback and VTEP addresses -> device. */
  private readonly byAddress = new Map<string, string>();
  /** Links carrying a modelled underlay BGP session or OSPF adjacency ("link:<name>"). */
  private readonly monitored = new Set<string>();
  constructor(fg: FabricGraph) {
    this.fg = fg;
    for (const d of fg.devices) for (const a of [d.loopback, d.vtep]) if (a) this.byAddress.set(a.split('/')[0], d.name);
    const ends = new Set<string>();
    for (const s of fg.model.bgpSessions) if (s.layer !== 'overlay') for (const e of [s.a, s.b]) ends.add(`${e.device}|${e.interface ?? e.address?.split('/')[0] ?? ''}`);
    for (const a of fg.model.ospfAdjacencies) for (const e of [a.a, a.b]) ends.add(`${e.device}|${e.interface}`);
    const watched = (e: { device: string; interface: string; ipv4?: string }) => ends.has(`${e.device}|${e.interface}`) || (!!e.ipv4 && ends.has(`${e.device}|${e.ipv4.split('/')[0]}`));
    for (const l of fg.model.links) if (watched(l.a) && watched(l.b)) this.monitored.add(`link:${fg.linkName(l)}`);
    const n = fg.underlay.n;
    this.bfs = { sigma: new Float64Array(n), queue: new Int32Array(n) };
    this.mark = new Uint8Array(n);
    this.stack = new Int32Array(n);
  }

  private distFrom(i: number): Int32Array {
    let d = this.distCache.get(i);
    if (d) return d;
    d = new Int32Array(this.fg.underlay.n);
    countPaths(this.fg.underlay, i, d, this.bfs.sigma, this.bfs.queue);
    if (this.distCache.size >= DIST_CACHE) this.distCache.delete(this.distCache.keys().next().value!);
    this.distCache.set(i, d);
    return d;
  }

  /**
   * Links and devices on the shortest underlay paths between two devices (ends included): the
   * devices in index order, each followed by its links toward `to`. One end's distances are
   * computed (or kept from an earlier pair: a link down asks one leaf about every origin), and
   * the paths walked from the other end downhill to it, so a pair costs its paths, not the graph.
   */
  pathElements(from: string, to: string): string[] {
    const key = `${from}>${to}`;
    const hit = this.pathCache.get(key);
    if (hit) return hit;
    const { fg, mark, stack } = this;
    const ia = fg.deviceIndex.get(from);
    const ib = fg.deviceIndex.get(to);
    const out: string[] = [];
    if (ia !== undefined && ib !== undefined && ia !== ib) {
      const toward = this.distCache.has(ib) || !this.distCache.has(ia);
      const d = this.distFrom(toward ? ib : ia);
      const start = toward ? ia : ib;
      if (d[start] > 0) {
        const { offsets, targets, link } = fg.underlay;
        const on: number[] = [start];
        mark[start] = 1;
        let top = 0;
        stack[top++] = start;
        while (top) {
          const u = stack[--top];
          for (let k = offsets[u]; k < offsets[u + 1]; k++) {
            const v = targets[k];
            if (!mark[v] && d[v] === d[u] - 1) {
              mark[v] = 1;
              on.push(v);
              stack[top++] = v;
            }
          }
        }
        on.sort((x, y) => x - y);
        // Toward `to`: down the distances to `to`, or up those from `from`.
        const step = toward ? -1 : 1;
        for (const u of on) {
          out.push((this.deviceNames[u] ??= `device:${fg.devices[u].name}`));
          for (let k = offsets[u]; k < offsets[u + 1]; k++) {
            const v = targets[k];
            if (mark[v] && d[v] === d[u] + step) out.push((this.linkNames[link[k]] ??= `link:${fg.linkName(fg.model.links[link[k]])}`));
          }
        }
        for (const u of on) mark[u] = 0;
      }
    }
    this.pathCache.set(key, out);
    return out;
  }

  /** The elements whose failure would produce this finding. */
  candidates(f: Finding): string[] {
    return [...this.candidateSets(f).all];
  }

  /** All candidates, and those the finding names itself (not inferred from a path). */
  private candidateSets(f: Finding): { all: Set<string>; direct: Set<string> } {
    const set = new Set<string>();
    const inferred = new Set<string>();
    for (const l of f.elements?.links ?? []) set.add(`link:${l}`);
    for (const d of f.elements?.devices ?? []) set.add(`device:${d}`);
    for (const e of f.elements?.endpoints ?? []) set.add(`endpoint:${e}`);
    const ev = f.evidence;
    const device = typeof ev.device === 'string' ? ev.device : undefined;
    // Underlay reachability between two devices: anything on the paths the model predicts.
    const peer = f.check === 'live-underlay-ecmp' ? ev.peer : f.check === 'live-fabric-rib' ? (ev.predicted as { origin?: string } | null)?.origin : undefined;
    if (device && typeof peer === 'string' && peer !== device) for (const x of this.pathElements(peer, device)) inferred.add(x);
    // A session between loopbacks (multihop, no link of its own) rides the underlay between its
    // two devices: a link on those paths explains it going down.
    const ends = f.elements?.devices ?? [];
    if (f.check === 'live-bgp-sessions' && !f.elements?.links?.length && ends.length === 2 && ends[0] !== ends[1]) for (const x of this.pathElements(ends[0], ends[1])) inferred.add(x);
    const vtepOwner = f.check === 'live-fabric-forwarding' && typeof ev.address === 'string' ? this.byAddress.get(ev.address) : undefined;
    if (device && vtepOwner && vtepOwner !== device) for (const x of this.pathElements(vtepOwner, device)) inferred.add(x);
    // A device whose loopback or VTEP the finding names (a missing next hop, a missing remote VTEP).
    for (const a of `${f.message} ${JSON.stringify(ev)}`.match(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g) ?? []) {
      const d = this.byAddress.get(a);
      if (d) set.add(`device:${d}`);
    }
    // Traffic between endpoints (a probe), or a device's view of a remote endpoint (its MAC),
    // crosses the underlay between their leaves.
    const leaves = [...new Set([...(device ? [device] : []), ...(f.elements?.endpoints ?? []).map((e) => this.fg.endpoints.get(e)?.leaf)].filter((l): l is string => !!l))];
    for (const l of leaves) set.add(`device:${l}`);
    for (let i = 0; i < leaves.length; i++) for (let j = i + 1; j < leaves.length; j++) for (const x of this.pathElements(leaves[i], leaves[j])) inferred.add(x);
    const all = new Set([...set, ...inferred]);
    return { all, direct: set };
  }

  /** Blast radius of an element: how many underlay adjacencies its failure takes down. */
  private radius(element: string): number {
    if (element.startsWith('link:')) return 1;
    if (element.startsWith('device:')) {
      const i = this.fg.deviceIndex.get(element.slice(7));
      return i === undefined ? 1 : 1 + this.fg.underlay.offsets[i + 1] - this.fg.underlay.offsets[i];
    }
    return 0.5;
  }

  /**
   * Links whose session or adjacency is reported down (or not up), or an interface of which is
   * down: those may have failed; the other monitored links are up.
   */
  reportedLinks(findings: Map<string, Finding>): Set<string> {
    const reported = new Set<string>();
    for (const f of findings.values()) if (f.check === 'live-bgp-sessions' || f.check === 'live-ospf' || (f.check === 'live-fabric-interfaces' && f.severity === 'error')) for (const l of f.elements?.links ?? []) reported.add(`link:${l}`);
    return reported;
  }

  explain(findings: Map<string, Finding>): Explanation[] {
    const byElement = new Map<string, Set<string>>();
    const sets = new Map<string, Set<string>>();
    const reported = this.reportedLinks(findings);
    const up = (e: string) => this.monitored.has(e) && !reported.has(e);
    for (const [key, f] of findings) {
      const c = this.candidateSets(f);
      const all = new Set([...c.all].filter((e) => c.direct.has(e) || !up(e)));
      sets.set(key, all);
      for (const e of all) {
        let s = byElement.get(e);
        if (!s) byElement.set(e, (s = new Set()));
        s.add(key);
      }
    }
    const unexplained = new Set(findings.keys());
    const out: Explanation[] = [];
    // Findings that name no element at all are explained by themselves.
    for (const [key] of findings) {
      if (sets.get(key)!.size === 0) {
        out.push({ element: `finding:${key}`, findings: [key] });
        unexplained.delete(key);
      }
    }
    while (unexplained.size) {
      let best: { element: string; n: number; r: number } | undefined;
      for (const [element, keys] of byElement) {
        let n = 0;
        for (const k of keys) if (unexplained.has(k)) n++;
        if (!n) continue;
        const r = this.radius(element);
        if (!best || n > best.n || (n === best.n && (r < best.r || (r === best.r && element < best.element)))) best = { element, n, r };
      }
      if (!best) break;
      const keys = [...byElement.get(best.element)!].filter((k) => unexplained.has(k)).sort();
      for (const k of keys) unexplained.delete(k);
      out.push({ element: best.element, findings: keys });
    }
    return out.sort((a, b) => a.element.localeCompare(b.element));
  }
}
