/** Router ids, loopbacks and VTEP addresses are unique fabric-wide (a VTEP may not reuse a loopback). */
import type { Finding } from '../findings.ts';
import type { StaticCheck } from './types.ts';

export const uniqueAddresses: StaticCheck = {
  id: 'unique-addresses',
  reads: 'fabric',
  title: 'Unique router ids, loopbacks and VTEP addresses',
  kind: 'static',
  layer: 'underlay',
  severity: 'error',
  description: 'no two devices share a router id, loopback or VTEP address',
  run({ fg }) {
    const findings: Finding[] = [];
    const owners = new Map<string, { device: string; what: string }[]>();
    const add = (ip: string | undefined, device: string, what: string) => {
      if (!ip) return;
      const a = ip.split('/')[0];
      const l = owners.get(a) ?? [];
      owners.set(a, l);
      l.push({ device, what });
    };
    for (const d of fg.devices) {
      add(d.routerId, d.name, 'router-id');
      if (d.loopback.split('/')[0] !== d.routerId) add(d.loopback, d.name, 'loopback');
      add(d.vtep, d.name, 'vtep');
    }
    for (const [ip, list] of owners) {
      const devices = [...new Set(list.map((x) => x.device))];
      if (devices.length < 2) continue;
      const kinds = [...new Set(list.map((x) => x.what))].join('/');
      const at = fg.device(devices[1])!;
      findings.push({
        check: 'unique-addresses',
        severity: 'error',
        message: `${kinds} ${ip} is used by ${devices.join(', ')}`,
        evidence: { address: ip, usedBy: list.map((x) => `${x.device} (${x.what})`) },
        location: at.source,
        elements: { devices },
      });
    }
    return { findings, examined: `${fg.devices.length} devices, ${owners.size} addresses` };
  },
};
