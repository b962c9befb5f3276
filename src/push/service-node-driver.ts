/**
 * Service nodes (load balancers, DNS servers...) over SSH, in the same rollout as the fabric's
 * devices: their FRR (eBGP to the leaf), the announcement loop, the setup script, and the
 * domain's service files, each taken into use the way the model says (ServiceRun.reload):
 * HAProxy through its runtime API or a checked hitless reload, others by a check and a command.
 * Nothing stops the service: FRR gets frr-reload.py, the announcement loop is replaced (the
 * prefixes it keeps stay on lo throughout), and the node's setup script is idempotent.
 *
 * Everything a rollback needs is in the snapshot (the files as found, the push spec), so
 * `apply --recover` restores a node from the journal alone, like a device.
 */
import { unifiedDiff } from '../render/diff.ts';
import { SERVICE_NODE_PATHS, type ServiceNode, type ServiceReload } from '../model/service-nodes.ts';
import type { DesiredConfig, DeviceDriver, DevicePlan, PushOptions, Snapshot } from './driver.ts';
import { DeviceError } from './errors.ts';
import { releaseDeviceLock, takeDeviceLock } from './device-lock.ts';
import { planHaproxy, pushHaproxy, rollbackHaproxy, runtimeApiShell, type HaproxyTarget } from './haproxy-step.ts';
import type { CommandHost } from './nft-ruleset.ts';
import type { RetryListener } from './retry.ts';
import { RetryingSsh, shq, type SshTarget } from './ssh-exec.ts';
import { sameRunningConfig, stripBanner } from './frr-driver.ts';

/** One file the push installs: where it lives on the node and how a change is taken into use. */
export interface ServiceFileSpec {
  artifact: string;
  path: string;
  mode?: string;
  /** The node's own files: 'frr', 'announce', 'setup'; a domain's: its ServiceReload, or none (written only). */
  role: 'frr' | 'announce' | 'setup' | 'daemons' | 'service';
  reload?: ServiceReload;
}

/** What the driver of a service node needs, derived from the model (and journalled with the inventory). */
export interface ServiceNodePushSpec {
  node: string;
  runDir: string;
  stateDir: string;
  frrReload: string;
  files: ServiceFileSpec[];
}

export interface ServiceNodeSnapshot extends Snapshot {
  transport: 'ssh';
  /** FRR's running config (the engine's `pending` view of the node). */
  running: string;
  /** Running config right after netloom's last apply. */
  baseline?: string;
  /** Each spec file's content on the node (null: absent). */
  files: Record<string, string | null>;
  /** HAProxy files: `show servers state` as found (what was up before the push). */
  transient?: { serversState?: Record<string, string> };
  spec: ServiceNodePushSpec;
}

export const SERVICE_NODE_DRIVER = 'service-node-ssh';

export function serviceNodePushSpec(n: ServiceNode): ServiceNodePushSpec {
  const p = SERVICE_NODE_PATHS;
  return {
    node: n.name,
    runDir: n.run.runDir,
    stateDir: '/etc/frr/netloom',
    frrReload: '/usr/lib/frr/frr-reload.py',
    files: [
      { artifact: 'node.sh', path: p.nodeScript, mode: '0755', role: 'setup' },
      { artifact: 'daemons', path: p.daemons, role: 'daemons' },
      ...Object.entries(n.run.files).map(([artifact, path]): ServiceFileSpec => ({ artifact, path, role: 'service', ...(n.run.reload?.[artifact] ? { reload: n.run.reload[artifact] } : {}) })),
      { artifact: 'frr.conf', path: p.frrConf, role: 'frr' },
      { artifact: 'announce.sh', path: p.announceScript, mode: '0755', role: 'announce' },
    ],
  };
}

/** The prefixes an announce.sh puts on lo (its `addr replace P dev lo` lines). */
export function announcedPrefixes(script: string | null | undefined): string[] {
  return [...(script ?? '').matchAll(/addr replace (\S+) dev lo/g)].map((m) => m[1]);
}

/** The transit routes an announce.sh installs (its `route replace P via GW dev IF` lines), as `ip route` arguments. */
export function announcedRoutes(script: string | null | undefined): string[] {
  return [...(script ?? '').matchAll(/route replace (\S+ via \S+ dev \S+);/g)].map((m) => m[1]);
}

export class ServiceNodeDriver implements DeviceDriver {
  readonly transport = 'ssh' as const;
  private readonly ssh: RetryingSsh;
  private snap?: ServiceNodeSnapshot;

  constructor(
    readonly target: SshTarget,
    readonly spec: ServiceNodePushSpec,
  ) {
    this.ssh = new RetryingSsh(target);
  }

  get device(): string {
    return this.target.device;
  }

  get onRetry(): RetryListener | undefined {
    return this.ssh.onRetry;
  }

  set onRetry(l: RetryListener | undefined) {
    this.ssh.onRetry = l;
  }

  /** The node as a command host (HAProxy's push step, post-checks). */
  get host(): CommandHost {
    return { exec: (command, opts = {}) => this.ssh.exec(command, opts) };
  }

  exec(cmd: string): Promise<string> {
    return this.ssh.run(`'${cmd}'`, cmd, { timeoutMs: 30_000 });
  }

  async connect(): Promise<void> {
    await this.ssh.connect();
  }

  async lock(rolloutId: string): Promise<void> {
    await takeDeviceLock(this.ssh, this.device, this.spec.stateDir, rolloutId);
  }

  async unlock(rolloutId: string): Promise<void> {
    await releaseDeviceLock(this.ssh, this.spec.stateDir, rolloutId);
  }

  private async runningConfig(): Promise<string> {
    return stripBanner(await this.ssh.run('show running-config', `vtysh -c 'show running-config'`, { timeoutMs: 30_000 }));
  }

  /**
   * Everything in one round trip (a drain's end-to-end time is mostly round trips): FRR's
   * running config, the last applied one, each file, HAProxy's server states; parts separated
   * by NUL, each 'F' + content, or 'N' when absent.
   */
  async snapshot(): Promise<ServiceNodeSnapshot> {
    const file = (p: string) => `if [ -f ${shq(p)} ]; then printf F; cat ${shq(p)}; else printf N; fi`;
    const haproxy = this.spec.files.filter((x) => x.reload?.kind === 'haproxy');
    const parts = [
      `printf F; vtysh -c 'show running-config'`,
      file(`${this.spec.stateDir}/applied-running.conf`),
      ...this.spec.files.map((f) => file(f.path)),
      ...haproxy.map((f) => `if out=$(printf 'show servers state\n' | ${runtimeApiShell((f.reload as { socket: string }).socket)} 2>/dev/null); then printf 'F%s\n' "$out"; else printf N; fi`),
    ];
    const out = await this.ssh.run('snapshot', parts.join("; printf '\\0'; "), { timeoutMs: 30_000 });
    const got = out.split('\0').map((x) => (x.startsWith('F') ? x.slice(1) : undefined));
    if (got.length !== parts.length || got[0] === undefined) throw new DeviceError(this.device, 'command', `${this.device}: snapshot: ${parts.length} parts expected, got ${got.length}`);
    const [running, baseline] = [stripBanner(got[0]), got[1]];
    const files = Object.fromEntries(this.spec.files.map((f, i) => [f.artifact, got[2 + i] ?? null]));
    const serversState: Record<string, string> = {};
    haproxy.forEach((f, i) => {
      const state = got[2 + this.spec.files.length + i];
      if (state !== undefined) serversState[f.artifact] = state;
    });
    const snap: ServiceNodeSnapshot = { transport: 'ssh', running, files, spec: this.spec, ...(baseline !== undefined ? { baseline } : {}), ...(Object.keys(serversState).length ? { transient: { serversState } } : {}) };
    this.snap = snap;
    return snap;
  }

  haproxyTarget(f: ServiceFileSpec): HaproxyTarget {
    const r = f.reload as Extract<ServiceReload, { kind: 'haproxy' }>;
    return { node: this.device, host: this.host, config: f.path, pidFile: r.pidFile, socket: r.socket };
  }

  plan(current: Snapshot, desired: DesiredConfig): DevicePlan {
    const cur = current as ServiceNodeSnapshot;
    const parts: string[] = [];
    const what: string[] = [];
    for (const f of this.spec.files) {
      const want = desired[f.artifact];
      if (want === undefined) throw new Error(`${this.device}: no rendered ${f.artifact}`);
      const have = cur.files[f.artifact] ?? null;
      if (have === want) continue;
      if (f.reload?.kind === 'haproxy') {
        const p = planHaproxy(this.haproxyTarget(f), { config: have }, want);
        parts.push(p.diff);
        what.push(p.summary);
        continue;
      }
      parts.push(unifiedDiff(have ?? '', want, `a/${this.device}/${f.artifact}`, `b/${this.device}/${f.artifact}`));
      what.push(`${f.artifact}${have === null ? ' (new)' : ''}${f.role === 'daemons' ? ' (read at the next FRR start)' : f.role === 'service' && !f.reload ? ' (read at the next service start)' : ''}`);
    }
    const baseline = cur.baseline === undefined ? undefined : stripBanner(cur.baseline);
    if (baseline === undefined) what.push('running config (never applied by netloom)');
    else if (!sameRunningConfig(baseline, stripBanner(cur.running))) {
      parts.push(unifiedDiff(baseline, stripBanner(cur.running), `${this.device}/running-config (last applied)`, `${this.device}/running-config (now: drift)`));
      what.push('running config drifted');
    }
    return { changed: what.length > 0, diff: parts.join(''), summary: what.join(', ') };
  }

  async push(desired: DesiredConfig, opts: PushOptions): Promise<void> {
    const snap = this.snap ?? (await this.snapshot());
    for (const f of this.spec.files) {
      const want = desired[f.artifact];
      const have = snap.files[f.artifact] ?? null;
      if (f.role === 'frr') await this.applyFrr(want, have, snap, opts);
      else if (want !== have) await this.install(f, have, want, opts);
    }
  }

  /** Installs one changed file and takes it into use. */
  private async install(f: ServiceFileSpec, have: string | null, want: string, opts: PushOptions): Promise<void> {
    if (f.role === 'setup') {
      // Idempotent: interfaces, addresses, routes, the service's (idempotent) start.
      await this.ssh.writeFileThen(f.path, want, 'node.sh', `sh ${shq(f.path)}`, { mode: f.mode, timeoutMs: 60_000 });
      opts.log?.(`${this.device}: node.sh run`);
    } else if (f.role === 'announce') {
      await this.replaceAnnouncer(f.path, want, have);
      opts.log?.(`${this.device}: announcement loop replaced (${announcedPrefixes(want).length} prefixes)`);
    } else if (f.reload?.kind === 'haproxy') {
      const t = this.haproxyTarget(f);
      const how = await pushHaproxy(t, planHaproxy(t, { config: have }, want), want).catch((e: Error) => {
        throw new DeviceError(this.device, 'rejected', e.message);
      });
      opts.log?.(`${this.device}: ${f.artifact}: ${how === 'runtime' ? 'runtime API, no reload' : 'checked, hitless reload'}`);
    } else if (f.reload?.kind === 'command') {
      const cand = `${f.path}.netloom-new`;
      const check = f.reload.check ? `CANDIDATE=${shq(cand)}; export CANDIDATE; ${f.reload.check} && ` : '';
      await this.ssh.writeFileThen(cand, want, `${f.artifact}: check and apply`, `${check}cat ${shq(cand)} > ${shq(f.path)} && rm -f ${shq(cand)} && ${f.reload.apply}`, { kind: 'rejected', timeoutMs: 60_000 });
      opts.log?.(`${this.device}: ${f.artifact} checked and applied`);
    } else {
      await this.ssh.writeFile(f.path, want, f.mode);
    }
  }

  /** frr.conf: checked, then frr-reload.py when it changed or the running config drifted; the result recorded. */
  private async applyFrr(want: string, have: string | null, snap: ServiceNodeSnapshot, opts: PushOptions): Promise<void> {
    const running = stripBanner(snap.running);
    const drifted = snap.baseline === undefined || !sameRunningConfig(stripBanner(snap.baseline), running);
    if (want === have && !drifted) return;
    const file = `${this.spec.stateDir}/frr.conf.reload`;
    await this.ssh.writeFileThen(file, want, 'vtysh -C -f (candidate check)', `vtysh -C -f ${shq(file)}`, { kind: 'rejected' });
    await this.ssh.run('frr-reload.py --reload', `${shq(this.spec.frrReload)} --reload ${shq(file)}`, { timeoutMs: 120_000 });
    opts.log?.(`${this.device}: frr-reload.py --reload (${want !== have ? 'frr.conf changed' : 'running config differs from the last applied'})`);
    await this.ssh.writeFileThen(SERVICE_NODE_PATHS.frrConf, want, 'recording the applied running config', `vtysh -c 'show running-config' > ${shq(`${this.spec.stateDir}/applied-running.conf`)}`);
  }

  /**
   * Installs an announcement loop and replaces the running one. The prefixes both announce stay
   * on lo throughout (the new loop starts by putting them there again); the ones only the old
   * loop announced are withdrawn.
   */
  private async replaceAnnouncer(path: string, want: string, have: string | null): Promise<void> {
    const keep = new Set(announcedPrefixes(want));
    const gone = announcedPrefixes(have).filter((p) => !keep.has(p));
    const pid = `${this.spec.runDir}/announce.pid`;
    const log = `${this.spec.runDir}/announce.log`;
    const keepRoutes = new Set(announcedRoutes(want));
    const goneRoutes = announcedRoutes(have).filter((r) => !keepRoutes.has(r));
    const withdraw = [
      ...gone.map((p) => `ip ${p.includes(':') ? '-6 ' : ''}addr del ${shq(p)} dev lo 2>/dev/null;`),
      ...goneRoutes.map((r) => `ip ${r.includes(':') ? '-6 ' : ''}route del ${r.split(' ').map(shq).join(' ')} 2>/dev/null;`),
    ].join(' ');
    await this.ssh.writeFileThen(
      path,
      want,
      'announcement loop',
      `if [ -f ${shq(pid)} ]; then kill "$(cat ${shq(pid)})" 2>/dev/null; rm -f ${shq(pid)}; fi; ${withdraw} mkdir -p ${shq(this.spec.runDir)}; setsid -f sh ${shq(path)} </dev/null >>${shq(log)} 2>&1`,
      { mode: '0755' },
    );
  }

  async confirm(): Promise<void> {}

  /** Back to the snapshot, in the reverse order of the push. */
  async rollback(snapshot: Snapshot): Promise<void> {
    const snap = snapshot as ServiceNodeSnapshot;
    const problems: string[] = [];
    for (const f of [...snap.spec.files].reverse()) {
      const old = snap.files[f.artifact] ?? null;
      try {
        if (f.role === 'frr') {
          const now = await this.runningConfig();
          if (!sameRunningConfig(now, stripBanner(snap.running))) {
            const file = `${snap.spec.stateDir}/frr.conf.reload`;
            await this.ssh.writeFile(file, stripBanner(snap.running));
            await this.ssh.run('frr-reload.py --reload (rollback)', `${shq(snap.spec.frrReload)} --reload ${shq(file)}`, { timeoutMs: 120_000 });
          }
          if (old !== null) await this.ssh.writeFile(f.path, old);
          if (snap.baseline !== undefined) await this.ssh.writeFile(`${snap.spec.stateDir}/applied-running.conf`, snap.baseline);
          else await this.ssh.exec(`rm -f ${shq(`${snap.spec.stateDir}/applied-running.conf`)}`);
          continue;
        }
        if (old === null) continue;
        const cur = (await this.ssh.readFile(f.path)) ?? null;
        if (cur === old) continue;
        if (f.reload?.kind === 'haproxy') await rollbackHaproxy(this.haproxyTarget(f), { config: old });
        else await this.install(f, cur, old, { rolloutId: 'rollback', confirmTimeoutS: 0 });
      } catch (e) {
        problems.push(`${f.artifact}: ${(e as Error).message}`);
      }
    }
    if (problems.length) throw new DeviceError(this.device, 'command', `${this.device}: rollback incomplete: ${problems.join('; ')}`);
  }

  async close(): Promise<void> {
    this.ssh.close();
  }
}
