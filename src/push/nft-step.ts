/**
 * The nftables ruleset of a Linux device as a step of its push (snapshot, plan, push, rollback),
 * built on the primitive of nft-ruleset.ts, for a driver that reaches the device through a
 * command runner (the FRR driver's SSH session).
 *
 * The rendered artifact (`nftables.conf` by default: the firewall domain's one file per device)
 * holds `table inet netloom` (routed traffic, NAT) and/or `table bridge netloom` (bridged
 * traffic). Where each table is loaded follows the device's VRF layout (lab/README.md
 * section 5): with VRFs as namespaces (netloom's VRF namespaces carry `netloom:vrf` as the
 * alias of their lo, as network.sh marks them), the inet table goes into every VRF namespace
 * (that is where the leaf routes) and the bridge table into the device's own namespace, with
 * br_netfilter's bridge-nf-call-ip(6)tables off; otherwise (kernel VRFs, no VRFs) both go into
 * the device's own namespace. A device without the artifact (its policy removed from the intent,
 * or it no longer enforces one) gets netloom's tables deleted, and only those: journalled in the
 * snapshot like any change, so a rollback puts them back.
 * The snapshot (one per namespace) is plain JSON for the journal.
 */
import type { DesiredConfig, DevicePlan } from './driver.ts';
import { unifiedDiff } from '../render/diff.ts';
import { compareNft, expectedFromText, readDeployedNft } from '../domains/firewall/live-nft.ts';
import { applyNft, disableBridgeNetfilter, restoreNft, snapshotNft, tablesNamed, withoutCounterValues, type CommandHost, type NftSnapshot, type NftTableRef } from './nft-ruleset.ts';

export const NFT_ARTIFACT = 'nftables.conf';

export interface NftStepSnapshot {
  /** '' for the device's own namespace. */
  vrfNamespaces: string[];
  namespaces: NftSnapshot[];
}

const INET: NftTableRef = { family: 'inet', name: 'netloom' };
const BRIDGE: NftTableRef = { family: 'bridge', name: 'netloom' };

/**
 * The candidate's statements grouped by the table they name, in file order (comments and
 * blank lines dropped): `{ 'inet netloom': '...', 'bridge netloom': '...' }`.
 */
export function splitByTable(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  const { tables } = tablesNamed(text);
  tables.forEach((t, i) => {
    const k = `${t.family} ${t.name}`;
    const end = i + 1 < tables.length ? tables[i + 1].line - 1 : lines.length;
    const chunk = lines.slice(t.line - 1, end).filter((l) => l.trim() && !/^\s*#/.test(l)).join('\n');
    out.set(k, (out.get(k) ?? '') + chunk + '\n');
  });
  return out;
}

export interface NftPart {
  netns?: string;
  /** The tables the namespace holds of netloom's. */
  tables: NftTableRef[];
  /** Its part of the device file. */
  text: string;
}

/**
 * Per namespace, what it is to hold of a device's nftables file (tables it manages and its part
 * of the file): with VRF namespaces the inet table in each of them and the bridge table at home,
 * else both at home. The push step writes by it; the live ruleset check reads back by it.
 */
export function nftLayout(text: string, vrfNamespaces: readonly string[]): NftPart[] {
  const parts = splitByTable(text);
  const inet = parts.get('inet netloom') ?? '';
  const bridge = parts.get('bridge netloom') ?? '';
  if (!vrfNamespaces.length) return [{ tables: [INET, BRIDGE], text: inet + bridge }];
  return [{ tables: [INET, BRIDGE], text: bridge }, ...vrfNamespaces.map((ns) => ({ netns: ns, tables: [INET], text: inet }))];
}

export class NftPushStep {
  /** Per namespace ('' = the device's own), the semantic differences found by snapshot(); absent when they could not be computed here. */
  private semantic = new Map<string, string[]>();

  constructor(
    readonly device: string,
    private readonly host: CommandHost,
    readonly artifact = NFT_ARTIFACT,
  ) {}

  /** netloom's VRF namespaces on the device (empty with kernel VRFs or without VRFs). */
  async vrfNamespaces(): Promise<string[]> {
    const r = await this.host.exec(
      `for f in /var/run/netns/*; do [ -e "$f" ] || continue; n=\${f##*/}; ip -n "$n" -o link show dev lo 2>/dev/null | grep -q 'alias netloom:vrf' && echo "$n"; done; true`,
      { timeoutMs: 30_000 },
    );
    return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean).sort();
  }

  /**
   * Whether any of netloom's tables is on the device (its own namespace, its VRF namespaces),
   * in one round trip: without the artifact and without them the step is a no-op, so a device
   * that never had a firewall costs one command, and one whose ruleset went away is cleaned.
   */
  async ownTablesPresent(): Promise<boolean> {
    const own = `nft list tables 2>/dev/null | grep -E -q '^table (${INET.family} ${INET.name}|${BRIDGE.family} ${BRIDGE.name})$' && echo present`;
    const vrfs = `for f in /var/run/netns/*; do [ -e "$f" ] || continue; n=\${f##*/}; ip -n "$n" -o link show dev lo 2>/dev/null | grep -q 'alias netloom:vrf' && ip netns exec "$n" nft list table ${INET.family} ${INET.name} >/dev/null 2>&1 && echo present; done`;
    const r = await this.host.exec(`command -v nft >/dev/null 2>&1 || exit 0; ${own}; ${vrfs}; true`, { timeoutMs: 30_000 });
    return r.stdout.includes('present');
  }

  async snapshot(desired: DesiredConfig): Promise<NftStepSnapshot> {
    this.semantic.clear();
    if (desired[this.artifact] === undefined && !(await this.ownTablesPresent())) return { vrfNamespaces: [], namespaces: [] };
    const vrfs = await this.vrfNamespaces();
    const namespaces = [await snapshotNft({ device: this.device, host: this.host })];
    for (const ns of vrfs) namespaces.push(await snapshotNft({ device: this.device, host: this.host, netns: ns, tables: [INET] }));
    const snap = { vrfNamespaces: vrfs, namespaces };
    await this.compareSemantically(snap, desired);
    return snap;
  }

  /**
   * The deployed tables against the candidate by meaning (live-nft.ts), so an unchanged policy
   * plans as unchanged although nft prints it in its own layout. Needs root and nft on this
   * host (the candidate is read by loading it into a throwaway namespace); without them plan()
   * falls back to text.
   */
  private async compareSemantically(snap: NftStepSnapshot, desired: DesiredConfig): Promise<void> {
    this.semantic.clear();
    try {
      for (const part of this.layout(snap, desired)) {
        const want = await expectedFromText(part.text);
        const have = await readDeployedNft(this.host, { netns: part.netns, tables: part.tables });
        this.semantic.set(part.netns ?? '', compareNft(want, have));
      }
    } catch {
      this.semantic.clear();
    }
  }

  private layout(snap: NftStepSnapshot, desired: DesiredConfig): NftPart[] {
    return nftLayout(desired[this.artifact] ?? '', snap.vrfNamespaces);
  }

  /**
   * Changed when a namespace's tables differ from its part of the candidate: by meaning when
   * snapshot() could compare them (the differences lead the diff), else as text without counter
   * values (then a device shows as changed whenever nft prints the rules in another layout than
   * the file's; applying is idempotent, so that costs only a reload).
   */
  plan(current: NftStepSnapshot, desired: DesiredConfig): DevicePlan {
    if (desired[this.artifact] === undefined && current.namespaces.every((n) => n.tables.every((t) => t.text === null))) return { changed: false, diff: '', summary: '' };
    const diffs: string[] = [];
    const where: string[] = [];
    for (const part of this.layout(current, desired)) {
      const have = current.namespaces.find((n) => (n.netns ?? '') === (part.netns ?? ''));
      const text = withoutCounterValues((have?.tables ?? []).map((t) => t.text ?? '').join(''));
      const meaning = this.semantic.get(part.netns ?? '');
      if (meaning ? meaning.length === 0 : text.replace(/\s+/g, ' ').trim() === part.text.replace(/\s+/g, ' ').trim()) continue;
      const label = part.netns ? `${this.artifact}@${part.netns}` : this.artifact;
      diffs.push((meaning ?? []).map((l) => `# ${this.device}${part.netns ? ` (${part.netns})` : ''}: ${l}\n`).join('') + unifiedDiff(text, part.text, `a/${this.device}/${label}`, `b/${this.device}/${label}`));
      where.push(label);
    }
    return { changed: where.length > 0, diff: diffs.join(''), summary: where.join(', ') };
  }

  /**
   * Every namespace's part, each checked (`nft -c`) and applied in one transaction. The VRF
   * namespaces are read again: the same push may have just created one (network.sh).
   */
  async push(desired: DesiredConfig): Promise<void> {
    // No ruleset rendered (policy gone, or the device no longer enforces one): netloom's own
    // tables are deleted (applying an empty candidate), where there are any.
    if (desired[this.artifact] === undefined && !(await this.ownTablesPresent())) return;
    const vrfNamespaces = await this.vrfNamespaces();
    const parts = this.layout({ vrfNamespaces, namespaces: [] }, desired);
    if (vrfNamespaces.length && desired[this.artifact] !== undefined) await disableBridgeNetfilter(this.device, this.host);
    for (const p of parts) await applyNft({ device: this.device, host: this.host, netns: p.netns, tables: p.tables }, p.text);
  }

  /** Every namespace back to its snapshot (tables that did not exist deleted); idempotent. */
  async rollback(snap: NftStepSnapshot): Promise<void> {
    for (const n of snap.namespaces) await restoreNft({ device: this.device, host: this.host }, n);
  }
}
