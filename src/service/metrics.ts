/**
 * Prometheus metrics of the service (prom-client, a registry of its own): the observed
 * fabric's figures, check results, poll timing and events by kind. The same figures feed the
 * per-series baselines (src/service/baseline.ts) that turn deviations into anomaly events.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CheckResult } from '../verify/findings.ts';
import type { DeviceObservation } from '../verify/live/observed.ts';
import type { ProbeResult } from '../verify/live/probes.ts';

/** One sample of a series that has a baseline: metric name and labels, flattened. */
export interface Sample {
  series: string;
  value: number;
  labels: Record<string, string>;
}

/** One device's gauge values and baseline samples, read from its observation. */
function deviceFigures(o: DeviceObservation, m: ServiceMetrics): { obs: DeviceObservation; set: [Gauge, Record<string, string>][]; values: [Gauge, Record<string, string>, number][]; samples: Sample[] } {
  const values: [Gauge, Record<string, string>, number][] = [];
  const samples: Sample[] = [];
  const sample = (series: string, value: number, labels: Record<string, string>) => samples.push({ series: `${series}${JSON.stringify(labels)}`, value, labels });
  const peerStates = new Map<string, number>();
  for (const p of o.bgp ?? []) {
    const afi = p.afi ?? 'unknown';
    const k = JSON.stringify([p.vrf, afi, p.state]);
    peerStates.set(k, (peerStates.get(k) ?? 0) + 1);
    if (p.pfxRcd !== undefined) {
      values.push([m.prefixes, { device: o.device, peer: p.peer, afi }, p.pfxRcd]);
      sample('netloom_bgp_prefixes_received', p.pfxRcd, { device: o.device, peer: p.peer, afi });
    }
  }
  for (const [k, n] of peerStates) {
    const [vrf, afi, state] = JSON.parse(k) as string[];
    values.push([m.peers, { device: o.device, vrf, afi, state }, n]);
  }
  for (const v of o.vnis ?? []) if (v.type === 'L2') values.push([m.vteps, { device: o.device, vni: String(v.vni) }, v.remoteVteps.length]);
  if (o.vnis) sample('netloom_evpn_remote_vteps', o.vnis.reduce((n, v) => n + v.remoteVteps.length, 0), { device: o.device });
  if (o.macs) {
    const local = o.macs.filter((x) => x.type === 'local').length;
    values.push([m.macs, { device: o.device, type: 'local' }, local], [m.macs, { device: o.device, type: 'remote' }, o.macs.length - local]);
    sample('netloom_evpn_macs', o.macs.length, { device: o.device });
  }
  // The default table is kept as its size and differences (ObservedDefaultTable), VRF tables as routes.
  const tables: [string, number][] = [...(o.defaultTable ? [['default', o.defaultTable.size] as [string, number]] : []), ...Object.entries(o.routes ?? {}).map(([vrf, list]): [string, number] => [vrf, list.length])];
  for (const [vrf, n] of tables) {
    values.push([m.routes, { device: o.device, vrf }, n]);
    sample('netloom_routes', n, { device: o.device, vrf });
  }
  return { obs: o, set: values.map(([g, l]) => [g, l]), values, samples };
}

export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly g = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [this.registry] });
  readonly peers = this.g('netloom_bgp_peers', 'BGP neighbours per device, VRF, address family and state', ['device', 'vrf', 'afi', 'state']);
  readonly prefixes = this.g('netloom_bgp_prefixes_received', 'prefixes received per BGP neighbour and address family', ['device', 'peer', 'afi']);
  readonly vteps = this.g('netloom_evpn_remote_vteps', 'remote VTEPs per device and L2 VNI', ['device', 'vni']);
  readonly macs = this.g('netloom_evpn_macs', 'EVPN MAC entries per device and type (local, remote)', ['device', 'type']);
  readonly routes = this.g('netloom_routes', 'routes per device and VRF', ['device', 'vrf']);
  readonly probeRtt = this.g('netloom_probe_rtt_ms', 'average ping round-trip time between endpoints', ['src', 'dst', 'family']);
  readonly probeLoss = this.g('netloom_probe_loss_ratio', 'ping loss between endpoints (0..1)', ['src', 'dst', 'family']);
  readonly checkPassed = this.g('netloom_check_passed', '1 when the live check passed at the last poll', ['check']);
  readonly checkFindings = this.g('netloom_check_findings', 'findings of the live check at the last poll', ['check', 'severity']);
  readonly openIncidents = this.g('netloom_incidents_open', 'open incidents');
  readonly lastPoll = this.g('netloom_last_poll_timestamp_seconds', 'end of the last completed poll');
  readonly pending = this.g('netloom_devices_pending', 'devices not observed yet: the first full read is admitted a few devices a poll');
  readonly owed = this.g('netloom_default_tables_owed', 'default tables that changed and wait for a later poll (a budget of reads a poll): their devices are judged by the tables read before');
  readonly pollDuration = new Histogram({ name: 'netloom_poll_duration_seconds', help: 'time to collect and compare the whole target', buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32], registers: [this.registry] });
  readonly recheckDuration = new Histogram({ name: 'netloom_recheck_duration_seconds', help: 'time to re-check one device whose observation changed (incremental comparison)', buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05], registers: [this.registry] });
  readonly polls = new Counter({ name: 'netloom_polls_total', help: 'polls by outcome', labelNames: ['outcome'], registers: [this.registry] });
  readonly overdue = new Counter({ name: 'netloom_polls_overdue_total', help: 'polls that started later than their period because the previous one was still running', registers: [this.registry] });
  readonly commands = new Counter({ name: 'netloom_device_commands_total', help: 'show commands by device role, sent to the device or answered from the last collection (a role polled slower than the tick)', labelNames: ['role', 'source'], registers: [this.registry] });
  readonly baselineSeries = this.g('netloom_baseline_series', 'metric series with an anomaly baseline');
  readonly baselineJudged = new Counter({ name: 'netloom_baseline_samples_judged_total', help: 'samples compared with an established baseline (past the warm-up): what an anomaly could have been raised on', registers: [this.registry] });
  readonly events = new Counter({ name: 'netloom_events_total', help: 'events by kind', labelNames: ['kind'], registers: [this.registry] });

  /** Per device: the observation its gauges were last set from, those gauge label sets, and its samples. */
  private readonly perDevice = new Map<string, { obs: DeviceObservation; set: [Gauge, Record<string, string>][]; samples: Sample[] }>();

  /**
   * Sets the gauges from one poll's fabric observation; returns the samples that have baselines.
   * A device whose observation is the same object as at the last poll keeps its gauges and
   * samples (the incremental poller keeps an unchanged device's observation).
   */
  observe(devices: DeviceObservation[], probes: ProbeResult[]): Sample[] {
    for (const g of [this.probeRtt, this.probeLoss]) g.reset();
    const samples: Sample[] = [];
    const seen = new Set<string>();
    for (const o of devices) {
      seen.add(o.device);
      let c = this.perDevice.get(o.device);
      if (c?.obs !== o) {
        if (c) for (const [g, labels] of c.set) g.remove(labels);
        const x = deviceFigures(o, this);
        for (const [g, labels, v] of x.values) g.set(labels, v);
        c = { obs: o, set: x.set, samples: x.samples };
        this.perDevice.set(o.device, c);
      }
      for (const x of c.samples) samples.push(x);
    }
    for (const [device, c] of this.perDevice) {
      if (seen.has(device)) continue;
      for (const [g, labels] of c.set) g.remove(labels);
      this.perDevice.delete(device);
    }
    for (const p of probes) {
      const labels = { src: p.src, dst: p.dst, family: String(p.family) };
      const loss = /([\d.]+)% packet loss/.exec(p.detail ?? '');
      this.probeLoss.set(labels, loss ? Number(loss[1]) / 100 : p.answered ? 0 : 1);
      if (p.rttMs !== undefined) {
        this.probeRtt.set(labels, p.rttMs);
        samples.push({ series: `netloom_probe_rtt_ms${JSON.stringify(labels)}`, value: p.rttMs, labels });
      }
    }
    return samples;
  }

  checks(results: CheckResult[]): void {
    this.checkPassed.reset();
    this.checkFindings.reset();
    for (const r of results) {
      this.checkPassed.set({ check: r.check.id }, r.passed ? 1 : 0);
      for (const sev of ['error', 'warning'] as const) this.checkFindings.set({ check: r.check.id, severity: sev }, r.findings.filter((f) => f.severity === sev).length);
    }
  }
}
