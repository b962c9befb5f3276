/**
 * FRR devices over SSH. Two artifacts: network.sh (idempotent Linux networking, run as is)
 * and frr.conf (checked with `vtysh -C -f`, applied with `frr-reload.py --reload`).
 *
 * Change detection: frr-reload.py's own diff is never empty (it always lists `frr version`,
 * `line vty` and defaults that `show running-config` hides), so a device is unchanged when
 * its installed frr.conf and network.sh equal the rendered ones AND its running config equals
 * the one recorded right after netloom's last apply (`<state>/applied-running.conf`): any
 * out-of-band change shows up as drift and the device is re-applied.
 *
 * Rollback material is the running config and the installed files from before the push
 * (journalled by the engine); rollback reloads that running config and re-runs the previous
 * network.sh, then checks that the running config is back to the snapshot.
 */
import { unifiedDiff } from '../render/diff.ts';
import type { DesiredConfig, DeviceDriver, DevicePlan, Disturbance, PushOptions, Snapshot } from './driver.ts';
import { frrDisturbance } from './frr-disturbance.ts';
import { DeviceError } from './errors.ts';
import { releaseDeviceLock, takeDeviceLock } from './device-lock.ts';
import { RetryingSsh, shq, type SshTarget } from './ssh-exec.ts';
import type { RetryListener } from './retry.ts';
import { evpnResyncShell } from '../domains/fabric/evpn-resync.ts';
import { NFT_ARTIFACT, NftPushStep, type NftStepSnapshot } from './nft-step.ts';

export interface FrrPaths {
  /** The file FRR loads at start. */
  frrConf: string;
  /** Where the node's start-up runs network.sh from. */
  networkScript: string;
  /** netloom's own files on the device: candidates, lock, last applied running config. */
  stateDir: string;
  frrReload: string;
}

export const DEFAULT_FRR_PATHS: FrrPaths = {
  frrConf: '/etc/frr/frr.conf',
  networkScript: '/etc/netloom/network.sh',
  stateDir: '/etc/frr/netloom',
  frrReload: '/usr/lib/frr/frr-reload.py',
};

export interface FrrSnapshot extends Snapshot {
  transport: 'ssh';
  running: string;
  frrConf?: string;
  networkScript?: string;
  /** Running config right after netloom's last apply. */
  baseline?: string;
  /** netloom's nftables tables per namespace, when the device has a rendered nftables.conf or netloom tables (nft-step.ts). */
  nft?: NftStepSnapshot;
}

const FRR_CONF = 'frr.conf';
const NETWORK_SH = 'network.sh';

export class FrrDriver implements DeviceDriver {
  readonly transport = 'ssh' as const;
  /** Commands whose session stops answering are re-run on a fresh connection. */
  private readonly ssh: RetryingSsh;
  readonly paths: FrrPaths;
  /** The firewall's nftables.conf, when the device has one: loaded where its VRFs route. */
  private readonly nft: NftPushStep;
  /** The device as this rollout found it (the engine snapshots every device before pushing). */
  private snap?: FrrSnapshot;

  constructor(
    readonly target: SshTarget,
    paths: Partial<FrrPaths> = {},
  ) {
    this.paths = { ...DEFAULT_FRR_PATHS, ...paths };
    this.ssh = new RetryingSsh(target);
    this.nft = new NftPushStep(target.device, this.ssh);
  }

  get onRetry(): RetryListener | undefined {
    return this.ssh.onRetry;
  }

  set onRetry(l: RetryListener | undefined) {
    this.ssh.onRetry = l;
  }

  get device(): string {
    return this.target.device;
  }

  async connect(): Promise<void> {
    await this.ssh.connect();
  }

  private get s(): RetryingSsh {
    return this.ssh;
  }

  exec(cmd: string): Promise<string> {
    return this.s.run(`'${cmd}'`, cmd, { timeoutMs: 30_000 });
  }

  private p(name: string): string {
    return `${this.paths.stateDir}/${name}`;
  }

  async lock(rolloutId: string): Promise<void> {
    await takeDeviceLock(this.s, this.device, this.paths.stateDir, rolloutId);
  }

  async unlock(rolloutId: string): Promise<void> {
    await releaseDeviceLock(this.s, this.paths.stateDir, rolloutId);
  }

  /** `show running-config` without vtysh's "Building configuration..." banner (frr-reload.py rejects it). */
  async runningConfig(): Promise<string> {
    return stripBanner(await this.s.run('show running-config', `vtysh -c 'show running-config'`, { timeoutMs: 30_000 }));
  }

  async snapshot(desired: DesiredConfig = {}): Promise<FrrSnapshot> {
    // nft: with a rendered ruleset, or with netloom tables left from one (deleted by the push).
    const [running, frrConf, networkScript, baseline, nft] = await Promise.all([
      this.runningConfig(),
      this.s.readFile(this.paths.frrConf),
      this.s.readFile(this.paths.networkScript),
      this.s.readFile(this.p('applied-running.conf')),
      this.nft.snapshot(desired),
    ]);
    const snap: FrrSnapshot = { transport: 'ssh', running };
    if (frrConf !== undefined) snap.frrConf = frrConf;
    if (networkScript !== undefined) snap.networkScript = networkScript;
    if (baseline !== undefined) snap.baseline = baseline;
    if (nft.namespaces.length) snap.nft = nft;
    this.snap = snap;
    return snap;
  }

  plan(current: Snapshot, desired: DesiredConfig): DevicePlan {
    const cur = current as FrrSnapshot;
    const parts: string[] = [];
    const what: string[] = [];
    for (const [name, have] of [[FRR_CONF, cur.frrConf], [NETWORK_SH, cur.networkScript]] as const) {
      const want = desired[name];
      if (want === undefined) throw new Error(`${this.device}: no rendered ${name}`);
      if (have === want) continue;
      parts.push(unifiedDiff(have ?? '', want, `a/${this.device}/${name}`, `b/${this.device}/${name}`));
      what.push(have === undefined ? `${name} (new)` : name);
    }
    if (cur.nft) {
      const fw = this.nft.plan(cur.nft, desired);
      if (fw.changed) {
        parts.push(fw.diff);
        what.push(fw.summary);
      }
    }
    const baseline = cur.baseline === undefined ? undefined : stripBanner(cur.baseline);
    if (baseline === undefined) {
      what.push('running config (never applied by netloom)');
    } else if (!sameRunningConfig(baseline, stripBanner(cur.running))) {
      parts.push(unifiedDiff(baseline, stripBanner(cur.running), `${this.device}/running-config (last applied)`, `${this.device}/running-config (now: drift)`));
      what.push('running config drifted');
    }
    return { changed: what.length > 0, diff: parts.join(''), summary: what.join(', ') };
  }

  disturbance(current: Snapshot, desired: DesiredConfig): Disturbance {
    const cur = current as FrrSnapshot;
    return frrDisturbance(stripBanner(cur.running), desired[FRR_CONF] ?? '', cur.networkScript ?? '', desired[NETWORK_SH] ?? '');
  }

  async push(desired: DesiredConfig, opts: PushOptions): Promise<void> {
    const snap = this.snap;
    const cand = this.p('frr.conf.candidate');
    const net = this.p('network.sh.candidate');
    await this.s.writeFileThen(cand, desired[FRR_CONF], 'vtysh -C -f (candidate check)', `vtysh -C -f ${shq(cand)}`, { kind: 'rejected' });
    const netChanged = (snap ? snap.networkScript : await this.s.readFile(this.paths.networkScript)) !== desired[NETWORK_SH];
    // Run even when unchanged: it is idempotent and repairs Linux state that drifted. The
    // installed copy is replaced only once the candidate ran cleanly.
    const install = netChanged ? ` && cat ${shq(net)} > ${shq(this.paths.networkScript)} && chmod 0755 ${shq(this.paths.networkScript)}` : '';
    const netOut = await this.s.writeFileThen(net, desired[NETWORK_SH], 'network.sh', `NETLOOM_DEFER_STALE=1 sh ${shq(net)}${install}`, { mode: '0755', timeoutMs: 120_000 });
    const last = netOut.trim().split('\n').pop();
    if (last) opts.log?.(last);
    // After network.sh: the VRF namespaces the inet table goes into exist now.
    // No ruleset and, as of the snapshot, no netloom table: nothing to do (no round trip).
    if (desired[NFT_ARTIFACT] !== undefined || !snap || snap.nft) await this.nft.push(desired);
    // With the netns VRF backend (zebra -n) the running config lists each VRF's namespace;
    // a reload without those lines would unbind the VRFs from their namespaces.
    const running = await this.runningConfig();
    // frr-reload.py's own diff is never empty (see the top of this file), so whether to reload
    // is decided here: an unchanged frr.conf on a device whose running config is the one netloom
    // last applied sends FRR no command at all (hitless by construction).
    const frrChanged = !snap || snap.frrConf !== desired[FRR_CONF];
    const drifted = !snap || snap.baseline === undefined || !sameRunningConfig(stripBanner(snap.baseline), running);
    const reloaded = frrChanged || drifted;
    if (reloaded) {
      opts.log?.(`${this.device}: frr-reload.py --reload (${[frrChanged ? 'frr.conf changed' : '', drifted ? 'running config differs from the last applied' : ''].filter(Boolean).join(', ')})`);
      await this.reload(withRuntimeVrfNetns(desired[FRR_CONF], running), running);
    } else opts.log?.(`${this.device}: frr.conf unchanged, running config as last applied: no reload`);
    await this.removeDeferred(net, netOut);
    if (reloaded || netChanged) await this.resyncEvpnVrfRoutes(desired[FRR_CONF]);
    await this.relearnMacs(netOut);
    // The installed frr.conf and the running config it produced, recorded in one round trip.
    await this.s.writeFileThen(this.paths.frrConf, desired[FRR_CONF], 'recording the applied running config', `vtysh -c 'show running-config' > ${shq(this.p('applied-running.conf'))}`);
  }

  /** frr-reload.py --reload of `config` (written to the state dir), `running` being the config it replaces. */
  private async reload(config: string, running: string): Promise<void> {
    // frr-reload.py removes BGP instances in an order bgpd refuses: take them apart first.
    const pre = instanceRemovalPreamble(config, running);
    const file = this.p('frr.conf.reload');
    if (pre.length) {
      await this.s.writeFile(file, config);
      await this.unhookInstances(pre);
    }
    const cmd = `${shq(this.paths.frrReload)} --reload ${shq(file)}`;
    const r = pre.length ? await this.s.exec(cmd, { timeoutMs: 120_000 }) : await this.execAfterWrite(file, config, cmd);
    if (r.code !== 0) {
      const errs = (r.stderr + r.stdout).split('\n').filter((l) => /ERROR|error|Failed|%/.test(l)).slice(-4).join(' | ');
      throw new DeviceError(this.device, 'command', `${this.device}: frr-reload.py --reload failed (exit ${r.code}): ${errs.slice(0, 600)}`);
    }
  }

  /** Writes `file` and runs `cmd` in one round trip, returning `cmd`'s exit code and output. */
  private async execAfterWrite(file: string, content: string, cmd: string) {
    const q = shq(file);
    return this.s.exec(`mkdir -p "$(dirname ${q})" && cat > ${q} || exit 97; ${cmd}`, { stdin: content, timeoutMs: 120_000 });
  }

  /**
   * zebra tells bgpd that an L3 VNI is gone asynchronously: `no router bgp X vrf V` right after
   * `no vni` can still meet "% Please unconfigure l3vni" (seen in CI). The VNIs go first, then
   * each instance is removed once bgpd has caught up (retried for up to 10 s).
   */
  private async unhookInstances(cmds: string[]): Promise<void> {
    const firstBgp = cmds.findIndex((c) => c.startsWith('no router bgp '));
    const vnis = cmds.slice(0, firstBgp < 0 ? cmds.length : firstBgp);
    if (vnis.length > 1) await this.s.run('unhook L3 VNIs of removed BGP VRF instances', `vtysh ${vnis.map((c) => `-c ${shq(c)}`).join(' ')}`);
    for (const cmd of firstBgp < 0 ? [] : cmds.slice(firstBgp)) {
      const line = `vtysh -c 'configure terminal' -c ${shq(cmd)}`;
      for (let attempt = 1; ; attempt++) {
        const r = await this.s.exec(line, { timeoutMs: 30_000 });
        if (r.code === 0) break;
        const msg = (r.stdout + r.stderr).trim();
        if (!/unconfigure l3vni/i.test(msg) || attempt >= 50) {
          throw new DeviceError(this.device, 'command', `${this.device}: ${cmd} (before the reload) failed (exit ${r.code}): ${msg.slice(0, 300)}`);
        }
        await new Promise((res) => setTimeout(res, 200));
      }
    }
  }

  /**
   * VRF namespaces network.sh left in place (`deferred:`) while FRR still configured their VRF:
   * gone from FRR now, so the script runs again to delete them.
   */
  private async removeDeferred(script: string, firstRun: string): Promise<void> {
    if (/^netloom: deferred: /m.test(firstRun)) await this.s.run('network.sh (deferred removals)', `sh ${shq(script)}`, { timeoutMs: 120_000 });
  }

  /** FRR 8.4 can lose router MACs when an EVPN route is replaced: re-announce (src/domains/fabric/evpn-resync.ts). */
  async resyncEvpnVrfRoutes(config: string): Promise<void> {
    const sh = evpnResyncShell(config);
    if (sh) await this.s.run('re-announce EVPN VRF routes to zebra', sh);
  }

  /**
   * Bridges whose VNI device network.sh (re)created had local MACs zebra may never have seen
   * (network.sh says `BRIDGE relearn MACs`): once FRR is configured again, the bridge forgets
   * them so it learns them anew and zebra hears of them (FRR 8.4; frames are flooded meanwhile).
   */
  private async relearnMacs(networkShOutput: string): Promise<void> {
    const bridges = [...networkShOutput.matchAll(/^netloom: (\S+) relearn MACs$/gm)].map((m) => m[1]).filter((b) => !b.includes('/'));
    if (bridges.length) await this.s.run('relearn local MACs', bridges.map((b) => `bridge fdb flush dev ${shq(b)} dynamic noextern_learn`).join('; '));
  }

  /** Nothing to do on the device: the engine's deadline is the confirm timeout. */
  async confirm(): Promise<void> {}

  async rollback(snapshot: Snapshot): Promise<void> {
    const snap = { ...(snapshot as FrrSnapshot) };
    let relearn = '';
    snap.running = stripBanner(snap.running);
    const net = this.p('network.sh.rollback');
    if (snap.networkScript !== undefined) {
      await this.s.writeFile(net, snap.networkScript, '0755');
      relearn = await this.s.run('previous network.sh', `NETLOOM_DEFER_STALE=1 sh ${shq(net)}`, { timeoutMs: 120_000 });
      await this.s.writeFile(this.paths.networkScript, snap.networkScript, '0755');
    }
    let left = '';
    for (let attempt = 0; attempt < 2; attempt++) {
      await this.reload(snap.running, await this.runningConfig());
      const now = await this.runningConfig();
      if (sameRunningConfig(now, snap.running)) {
        left = '';
        break;
      }
      left = unifiedDiff(snap.running, now, 'before', 'after rollback');
    }
    await this.removeDeferred(net, relearn);
    await this.resyncEvpnVrfRoutes(snap.running);
    await this.relearnMacs(relearn);
    if (snap.frrConf !== undefined) await this.s.writeFile(this.paths.frrConf, snap.frrConf);
    if (snap.baseline !== undefined) await this.s.writeFile(this.p('applied-running.conf'), snap.baseline);
    else await this.s.exec(`rm -f ${shq(this.p('applied-running.conf'))}`);
    if (snap.nft) await this.nft.rollback(snap.nft);
    if (left) throw new DeviceError(this.device, 'command', `${this.device}: running config differs from the snapshot after rollback:\n${left}`);
  }

  async close(): Promise<void> {
    this.ssh.close();
  }
}

/**
 * Two running configs that configure the same: bgpd prints prefix-lists in the order they were
 * created, so a list deleted and re-created (a rollback) moves to the end of its run of lines.
 */
export function sameRunningConfig(a: string, b: string): boolean {
  return a === b || canonicalRunning(a) === canonicalRunning(b);
}

function canonicalRunning(text: string): string {
  const out: string[] = [];
  let run: string[] = [];
  const flush = () => {
    // Stable by list name: entries of one list keep their order.
    out.push(...run.map((l, i) => ({ l, i, k: l.split(' ').slice(0, 3).join(' ') })).sort((x, y) => (x.k < y.k ? -1 : x.k > y.k ? 1 : x.i - y.i)).map((x) => x.l));
    run = [];
  };
  for (const line of stripBanner(text).split('\n')) {
    if (/^(ip|ipv6) prefix-list /.test(line)) run.push(line);
    else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out.join('\n');
}

export function stripBanner(running: string): string {
  const lines = running.split('\n');
  let i = 0;
  while (i < lines.length && (lines[i].trim() === '' || /^(Building configuration\.\.\.|Current configuration:)/.test(lines[i]))) i++;
  return lines.slice(i).join('\n');
}

/**
 * Copies the ` netns PATH` lines of the running config's `vrf NAME` blocks into the same
 * blocks of `config`. They are the device's runtime binding of a VRF to its network namespace
 * (zebra -n discovers them), not intent, and frr-reload.py would otherwise delete them. A VRF
 * without one is bound to the namespace of its name, beside the others.
 */
export function withRuntimeVrfNetns(config: string, running: string): string {
  const netns = new Map<string, string>();
  let vrf: string | undefined;
  for (const line of running.split('\n')) {
    const m = /^vrf (\S+)\s*$/.exec(line);
    if (m) vrf = m[1];
    else if (/^exit-vrf\b/.test(line) || /^\S/.test(line)) vrf = undefined;
    else if (vrf && /^\s+netns \S+\s*$/.test(line)) netns.set(vrf, line.trim());
  }
  if (netns.size === 0) return config;
  // A VRF whose namespace zebra does not hold bound (one retired by network.sh and now back)
  // is bound to its namespace explicitly, beside the others.
  const dir = /^netns (.*\/)[^/]+$/.exec([...netns.values()][0])?.[1] ?? '/run/netns/';
  const inConfig = new Set([...config.matchAll(/^vrf (\S+)\s*$/gm)].map((m) => m[1]));
  // A VRF leaving the config keeps its binding: its namespace stays (network.sh retires it),
  // and zebra 8.4 cannot bind a namespace again once unbound ("VRF n is already configured").
  const kept = [...netns].filter(([v]) => !inConfig.has(v)).map(([v, line]) => `vrf ${v}\n ${line}\nexit-vrf\n`);
  const out = config
    .split('\n')
    .flatMap((line) => {
      const m = /^vrf (\S+)\s*$/.exec(line);
      return m ? [line, ` ${netns.get(m[1]) ?? `netns ${dir}${m[1]}`}`] : [line];
    })
    .join('\n');
  return kept.length ? `${kept.join('')}${out}` : out;
}

/**
 * vtysh commands that must run before frr-reload.py when a BGP VRF instance goes away: bgpd
 * refuses `no router bgp X vrf V` while V still has an L3 VNI ("% Please unconfigure l3vni"),
 * and frr-reload.py sends both in one batch, before zebra has told bgpd the VNI is gone. The
 * L3 VNIs are unhooked first; the instances are removed one by one after (unhookInstances).
 * An ASN change removes every instance and the default one (bgpd will not delete `router bgp
 * OLD` while VRF instances hang off it); otherwise only the instances `config` no longer has.
 */
export function instanceRemovalPreamble(config: string, running: string): string[] {
  const asnOf = (text: string) => /^router bgp (\d+)\s*$/m.exec(text)?.[1];
  const oldAsn = asnOf(running);
  const newAsn = asnOf(config);
  if (!oldAsn) return [];
  const asnChange = !!newAsn && oldAsn !== newAsn;
  const keep = new Set([...config.matchAll(/^router bgp \d+ vrf (\S+)\s*$/gm)].map((m) => m[1]));
  const gone = [...running.matchAll(/^router bgp (\d+) vrf (\S+)\s*$/gm)].filter((m) => m[1] === oldAsn && (asnChange || !keep.has(m[2]))).map((m) => m[2]);
  if (!gone.length && !asnChange) return [];
  const cmds = ['configure terminal'];
  let vrf: string | undefined;
  for (const line of running.split('\n')) {
    const m = /^vrf (\S+)\s*$/.exec(line);
    if (m) vrf = m[1];
    else if (/^\S/.test(line)) vrf = undefined;
    else if (vrf && gone.includes(vrf)) {
      const v = /^\s+vni (\d+)/.exec(line);
      if (v) cmds.push(`vrf ${vrf}`, `no vni ${v[1]}`, 'exit-vrf');
    }
  }
  for (const v of gone) cmds.push(`no router bgp ${oldAsn} vrf ${v}`);
  if (asnChange) cmds.push(`no router bgp ${oldAsn}`);
  return cmds;
}
