/** Renders an analysis for people (text, Markdown) or programs (JSON). */
import type { AnalysisReport, Finding } from './analyze.ts';

export type ReportFormat = 'text' | 'md' | 'json';

const LINKTYPE_NAME: Record<number, string> = { 0: 'BSD loopback', 1: 'Ethernet', 12: 'raw IP', 14: 'raw IP', 101: 'raw IP', 108: 'OpenBSD loopback', 113: 'Linux cooked', 228: 'raw IPv4', 229: 'raw IPv6', 276: 'Linux cooked v2' };

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

function dur(s: number): string {
  if (s < 1) return `${(s * 1000).toFixed(1)} ms`;
  if (s < 120) return `${s.toFixed(2)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function iso(t: number | undefined): string {
  return t === undefined ? '-' : new Date(t * 1000).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

/** A table with padded columns (text) or a pipe table (Markdown). */
function table(md: boolean, head: string[], rows: string[][]): string[] {
  if (rows.length === 0) return [];
  if (md) return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`)];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => '  ' + r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd();
  return [line(head), line(w.map((x) => '-'.repeat(x))), ...rows.map(line)];
}

const ep = (ip: string, port: number) => (port ? (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`) : ip);

export function formatReport(r: AnalysisReport, fmt: ReportFormat, maxRows = 20): string {
  if (fmt === 'json') return JSON.stringify(r, null, 2);
  const md = fmt === 'md';
  const h = (t: string) => (md ? ['', `## ${t}`, ''] : ['', t.toUpperCase()]);
  const out: string[] = [];
  out.push(md ? `# Capture analysis: ${r.file ?? ''}` : `Capture ${r.file ?? ''} (${r.format ?? '?'})`);
  const lts = r.linkTypes.map((l) => LINKTYPE_NAME[l] ?? `link type ${l}`).join(', ');
  out.push(`${md ? '\n' : ''}${r.packets} packets, ${human(r.bytes)}B over ${dur(r.duration)} (${iso(r.start)} to ${iso(r.end)}); link: ${lts || '-'}`);
  const protos = Object.entries(r.protocols).sort((a, b) => b[1] - a[1]).map(([p, c]) => `${p} ${c}`).join(', ');
  if (protos) out.push(`protocols (layers seen): ${protos}`);

  out.push(...h(`Findings (${r.findings.length})`));
  if (r.findings.length === 0) out.push(md ? 'None.' : '  none');
  for (const f of r.findings) out.push(findingLine(f, md));

  if (r.tunnels.length) {
    out.push(...h(`VXLAN tunnels (${r.tunnels.length})`));
    out.push(
      ...table(
        md,
        ['source VTEP', 'destination VTEP', 'VNI', 'packets', 'bytes', 'inner VLANs', 'frag', 'inner MACs / IPs'],
        r.tunnels.slice(0, maxRows * 5).map((t) => [
          t.srcVtep, t.dstVtep, String(t.vni), String(t.packets), human(t.bytes), t.innerVlans.join(',') || '-', String(t.fragmented),
          `${t.innerMacs.slice(0, 4).join(' ')}${t.innerMacs.length > 4 ? ' ...' : ''} / ${t.innerIps.slice(0, 4).join(' ')}${t.innerIps.length > 4 ? ' ...' : ''}`,
        ]),
      ),
    );
  }

  if (r.bgp.length) {
    out.push(...h(`BGP sessions (${r.bgp.length})`));
    for (const s of r.bgp) {
      const sp = (x: typeof s.a) => `${x.ip}${x.asn !== undefined ? ` AS ${x.asn}` : ''}${x.routerId ? ` id ${x.routerId}` : ''}${x.holdTime !== undefined ? ` hold ${x.holdTime}s` : ''}`;
      const msgs = Object.entries(s.messages).map(([k, v]) => `${v} ${k}`).join(', ');
      out.push(`${md ? '- ' : '  '}${sp(s.a)}  <->  ${sp(s.b)}`);
      out.push(`${md ? '  ' : '    '}messages: ${msgs || 'none'}; established ${s.establishments}x, flaps ${s.flaps}${Object.keys(s.evpnRoutes).length ? `; EVPN routes ${Object.entries(s.evpnRoutes).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}`);
      for (const e of s.timeline.slice(0, maxRows)) out.push(`${md ? '  - ' : '      '}#${e.packet} ${iso(e.time)} ${e.from} -> ${e.to} ${e.type}: ${e.detail}`);
      if (s.timeline.length > maxRows) out.push(`${md ? '  - ' : '      '}... ${s.timeline.length - maxRows} more events`);
    }
  }

  if (r.ospf.length) {
    out.push(...h(`OSPF routers (${r.ospf.length})`));
    out.push(
      ...table(
        md,
        ['router id', 'source', 'ver', 'area', 'mask', 'hello', 'dead', 'DBD MTU', 'packets'],
        r.ospf.map((o) => [
          o.routerId, o.src, String(o.version), o.area, o.networkMask ?? '-', o.helloInterval !== undefined ? `${o.helloInterval}s` : '-', o.deadInterval !== undefined ? `${o.deadInterval}s` : '-',
          o.mtu !== undefined ? String(o.mtu) : '-', Object.entries(o.packetTypes).map(([k, v]) => `${k} ${v}`).join(', '),
        ]),
      ),
    );
  }

  const counted = r.flowCountEstimated ? `about ${r.flowCount.toLocaleString('en-US')}` : String(r.flowCount);
  const kept = r.flows.length < r.flowCount ? `: top ${r.flows.length.toLocaleString('en-US')} kept` : '';
  out.push(...h(`Flows (${counted}${kept}, top ${Math.min(maxRows, r.flows.length)} by bytes)`));
  out.push(
    ...table(
      md,
      ['proto', 'endpoint A', 'endpoint B', 'VNI', 'packets', 'bytes', 'duration', 'TCP'],
      r.flows.slice(0, maxRows).map((f) => [
        f.proto, ep(f.a, f.aPort), ep(f.b, f.bPort), f.vni !== undefined ? String(f.vni) : '-', String(f.packets), human(f.bytes), dur(f.last - f.first),
        f.tcp ? [f.tcp.established ? 'established' : f.tcp.syn ? 'no handshake' : 'mid-stream', f.tcp.resets ? `${f.tcp.resets} RST` : '', f.tcp.retransmissions ? `${f.tcp.retransmissions} retrans` : '', f.tcp.zeroWindows ? `${f.tcp.zeroWindows} zero-win` : ''].filter(Boolean).join(', ') : '',
      ]),
    ),
  );
  const t = r.tcp;
  out.push(`${md ? '\n' : ''}TCP: ${t.flows} connection(s), ${t.failedHandshakes} failed handshake(s), ${t.resets} reset(s), ${t.retransmissions} retransmission(s), ${t.zeroWindows} zero window(s)`);
  out.push(`ARP: ${r.flood.arpPackets} packets, peak ${r.flood.maxArpPps}/s; broadcast frames: ${r.flood.broadcastPackets}, peak ${r.flood.maxBroadcastPps}/s`);

  if (r.dns.length) {
    out.push(...h(`DNS answers (${r.dns.length} names)`));
    out.push(...table(md, ['name', 'type', 'responses', 'answers'], r.dns.slice(0, maxRows * 2).map((d) => [d.name, d.type, String(d.responses), d.answers.join(', ') || '(none)'])));
  }
  if (r.bfd.length) {
    out.push(...h('BFD sessions'));
    out.push(...table(md, ['from', 'to', 'my disc', 'states', 'downs', 'last diag'], r.bfd.map((b) => [b.src, b.dst, String(b.myDisc), b.states.join(' > '), String(b.downs), b.lastDiag])));
  }
  if (r.lldp.length) {
    out.push(...h('LLDP neighbours'));
    out.push(...table(md, ['system', 'chassis', 'port', 'MTU', 'packets'], r.lldp.map((l) => [l.systemName ?? '-', l.chassisId ?? '-', l.portId ?? '-', l.mtu !== undefined ? String(l.mtu) : '-', String(l.packets)])));
  }
  if (r.lacp.length) {
    out.push(...h('LACP'));
    out.push(...table(md, ['actor', 'key', 'port', 'partner', 'partner key', 'packets'], r.lacp.map((l) => [l.actor, String(l.actorKey), String(l.actorPort), l.partner ?? '-', l.partnerKey !== undefined ? String(l.partnerKey) : '-', String(l.packets)])));
  }
  if (r.problemCount) {
    out.push(...h(`Decode problems (${r.problemCount})`));
    for (const p of r.problems.slice(0, maxRows)) out.push(`${md ? '- ' : '  '}packet ${p.packet}, ${p.layer}: ${p.reason}`);
    if (r.problemCount > maxRows) out.push(`${md ? '- ' : '  '}... ${r.problemCount - maxRows} more`);
  }
  return out.join('\n');
}

function findingLine(f: Finding, md: boolean): string {
  const tag = f.severity === 'error' ? 'ERROR' : f.severity === 'warning' ? 'WARN ' : 'INFO ';
  const pk = f.packets?.length ? ` [packet ${f.packets.slice(0, 3).join(', ')}]` : '';
  return md ? `- **${f.severity}** (${f.category}) ${f.message}${pk}` : `  ${tag} ${f.category.padEnd(6)} ${f.message}${pk}`;
}
