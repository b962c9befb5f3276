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
  readonly pollDuration = new Histogram({ name: 'netloom_poll_duration_seconds', help: 'time to collect and compare the whole target', buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32], registers: [this.registry] });
  readonly polls = new Counter({ name: 'netloom_polls_total', help: 'polls by outcome', labelNames: ['outcome'], registers: [this.registry] });
  readonly overdue = new Counter({ name: 'netloom_polls_overdue_total', help: 'polls that started later than their period because the previous one was still running', registers: [this.registry] });
  readonly commands = new Counter({ name: 'netloom_device_commands_total', help: 'show commands by device role, sent to the device or answered from the last collection (a role polled slower than the tick)', labelNames: ['role', 'source'], registers: [this.registry] });
  readonly baselineSeries = this.g('netloom_baseline_series', 'metric series with an anomaly baseline');
  readonly baselineJudged = new Counter({ name: 'netloom_baseline_samples_judged_total', help: 'samples compared with an established baseline (past the warm-up): what an anomaly could have been raised on', registers: [this.registry] });
  readonly events = new Counter({ name: 'netloom_events_total', help: 'events by kind', labelNames: ['kind'], registers: [this.registry] });

  /** Sets the gauges from one poll's fabric observation; returns the samples that have baselines. */
  observe(devices: DeviceObservation[], probes: ProbeResult[]): Sample[] {
    for (const g of [this.peers, this.prefixes, this.vteps, this.macs, this.routes, this.probeRtt, this.probeLoss]) g.reset();
    const samples: Sample[] = [];
    const sample = (series: string, value: number, labels: Record<string, string>) => samples.push({ series: `${series}${JSON.stringify(labels)}`, value, labels });
    for (const o of devices) {
      const peerStates = new Map<string, number>();
      for (const p of o.bgp ?? []) {
        const afi = p.afi ?? 'unknown';
        const k = JSON.stringify([p.vrf, afi, p.state]);
        peerStates.set(k, (peerStates.get(k) ?? 0) + 1);
        if (p.pfxRcd !== undefined) {
          this.prefixes.set({ device: o.device, peer: p.peer, afi }, p.pfxRcd);
          sample('netloom_bgp_prefixes_received', p.pfxRcd, { device: o.device, peer: p.peer, afi });
        }
      }
      for (const [k, n] of peerStates) {
        const [vrf, afi, state] = JSON.parse(k) as string[];
        this.peers.set({ device: o.device, vrf, afi, state }, n);
      }
      for (const v of o.vnis ?? []) if (v.type === 'L2') this.vteps.set({ device: o.device, vni: String(v.vni) }, v.remoteVteps.length);
      if (o.vnis) sample('netloom_evpn_remote_vteps', o.vnis.reduce((n, v) => n + v.remoteVteps.length, 0), { device: o.device });
      if (o.macs) {
        const local = o.macs.filter((m) => m.type === 'local').length;
        this.macs.set({ device: o.device, type: 'local' }, local);
        this.macs.set({ device: o.device, type: 'remote' }, o.macs.length - local);
        sample('netloom_evpn_macs', o.macs.length, { device: o.device });
      }
      for (const [vrf, list] of Object.entries(o.routes ?? {})) {
        this.routes.set({ device: o.device, vrf }, list.length);
        sample('netloom_routes', list.length, { device: o.device, vrf });
      }
    }
    for (const p of probes) {
      const labels = { src: p.src, dst: p.dst, family: String(p.family) };
      const loss = /([\d.]+)% packet loss/.exec(p.detail ?? '');
      this.probeLoss.set(labels, loss ? Number(loss[1]) / 100 : p.answered ? 0 : 1);
      if (p.rttMs !== undefined) {
        this.probeRtt.set(labels, p.rttMs);
        sample('netloom_probe_rtt_ms', p.rttMs, labels);
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
