// A device's expected vs observed, tab by tab (BGP, EVPN, routes per VRF, interfaces with
// their kernel state, findings), mismatches marked; the tab shown is re-read at every refresh.
import { api } from './api.js';
import { compareTable, fill, h } from './dom.js';

const TABS = ['bgp', 'evpn', 'routes', 'interfaces', 'findings'];
let current; // { name, tab, vrf }

/** FRR's address-family keys against the model's: 'ipv4Unicast' and 'ipv4-unicast' alike. */
const afiKey = (s) => String(s).toLowerCase().replace(/[^a-z0-9]/g, '');
const est = (s) => h('span', { class: s === 'Established' ? 'ok' : 'bad' }, s);

async function bgpTab(name) {
  const b = await api(`/devices/${encodeURIComponent(name)}/bgp`);
  const rows = b.expected.map((s) => {
    const seen = new Set(s.observed.map((o) => afiKey(o.afi)));
    const agrees = s.observed.length > 0 && s.observed.every((o) => o.state === 'Established') && s.afiSafis.every((a) => seen.has(afiKey(a)));
    return { agrees, cells: [s.peer, s.neighbor, s.afiSafis.join(', '), s.observed.length ? s.observed.map((o, i) => [i ? h('br') : null, `${o.afi} `, est(o.state), ` (${o.prefixesReceived ?? '-'})`]) : h('span', { class: 'bad' }, 'not seen')] };
  });
  for (const u of b.unexpected) rows.push({ agrees: false, cells: [u.peer, `vrf ${u.vrf}`, h('span', { class: 'bad' }, 'not in the model'), [`${u.afi} `, est(u.state)]] });
  return [compareTable('bgp', ['peer', 'neighbor', 'expected', 'observed'], rows)];
}

async function evpnTab(name) {
  const e = await api(`/devices/${encodeURIComponent(name)}/evpn`);
  if (!e.vnis.length) return [h('p', {}, 'No VNIs expected on this device.')];
  const vnis = e.vnis.map((v) => ({ agrees: v.agrees, cells: [String(v.vni), `${v.expected.type} VTEPs ${v.expected.remoteVteps.join(', ') || '-'}`, v.observed ? `${v.observed.type} ${v.observed.state ?? ''} VTEPs ${v.observed.remoteVteps.join(', ') || '-'}` : h('span', { class: 'bad' }, 'not seen')] }));
  const macs = e.macs.map((m) => ({ agrees: m.agrees, cells: [String(m.vni), m.mac, m.endpoint, `${m.expected.type} ${m.expected.where}`, m.observed ? `${m.observed.type} ${m.observed.where}` : h('span', { class: 'bad' }, 'not seen')] }));
  return [h('h4', {}, 'VNIs and remote VTEPs'), compareTable('evpn-vnis', ['VNI', 'expected', 'observed'], vnis), h('h4', {}, 'endpoint MACs'), compareTable('evpn-macs', ['VNI', 'MAC', 'endpoint', 'expected', 'observed'], macs)];
}

async function routesTab(name) {
  const all = (await api(`/devices/${encodeURIComponent(name)}/routes`)).routes;
  const vrfs = [...new Set(all.map((r) => r.vrf))];
  if (!vrfs.includes(current.vrf)) current.vrf = vrfs[0];
  const bad = (v) => all.filter((r) => r.vrf === v && !r.agrees).length;
  const picker = h('div', { class: 'vrfs' }, vrfs.map((v) => h('button', { class: v === current.vrf ? 'on' : '', 'data-vrf': v, onclick: () => { current.vrf = v; void render(); } }, `${v} (${all.filter((r) => r.vrf === v).length}${bad(v) ? `, ${bad(v)} ✗` : ''})`)));
  const nh = (n) => `${n} next hop${n === 1 ? '' : 's'}`;
  const rows = all.filter((r) => r.vrf === current.vrf).map((r) => ({ agrees: r.agrees, cells: [r.prefix, r.expected ? `${r.expected.protocol} ${nh(r.expected.nextHops.length)} (${r.expected.origin})` : h('span', { class: 'bad' }, 'not in the model'), r.observed ? `${r.observed.protocol} ${nh(r.observed.nextHops)}` : h('span', { class: 'bad' }, 'missing')] }));
  return [picker, compareTable('routes', ['prefix', 'expected', 'observed'], rows)];
}

async function interfacesTab(name) {
  const v = await api(`/devices/${encodeURIComponent(name)}/interfaces`);
  const rows = v.interfaces.map((i) => {
    const x = i.expected;
    const expected = [x.ipv4, x.ipv6, x.peer && `to ${x.peer}`, x.vlans.length && `VLAN ${x.vlans.join(',')}`, x.endpoints.length && `hosts ${x.endpoints.join(', ')}`, x.sessions && `${x.sessions} BGP session(s)`].filter(Boolean).join('; ') || '-';
    const o = i.observed;
    const observed = !o ? h('span', { class: 'bad' }, 'nothing collected') : [o.sessions.map((s, k) => [k ? ', ' : '', `${s.afi} `, est(s.state)]), o.ospf ? ` OSPF ${o.ospf}` : '', ` routes via ${o.routesVia}`, o.macs ? `, ${o.macs} MAC(s)` : ''];
    return { agrees: i.agrees, cells: [`${i.name} (${i.kind})`, expected, observed, kernelCell(i, v.kernelNotRead)] };
  });
  return [compareTable('interfaces', ['interface', 'expected', 'observed', 'kernel'], rows)];
}

/** The kernel's reading of an interface: state, MTU (marked when not the model's), MAC, packets, growing loss counters. */
function kernelCell(i, notRead) {
  const k = i.kernel;
  if (!k) return `not read${notRead ? ` (${notRead})` : ''}`;
  if (!k.exists) return h('span', { class: 'bad' }, 'absent');
  const state = k.up ? h('span', { class: 'ok' }, 'up') : h('span', { class: 'bad' }, k.admin === 'down' ? 'admin down' : `down (${k.carrier ? k.oper : 'no carrier'})`);
  const mtu = k.mtu === i.expected.mtu ? ` MTU ${k.mtu}` : h('span', { class: 'bad' }, ` MTU ${k.mtu}`);
  const packets = k.counters ? ` rx ${k.counters.rxPackets} tx ${k.counters.txPackets} pkts` : '';
  const grown = Object.entries(k.growth ?? {});
  return [state, mtu, k.mac ? ` ${k.mac}` : '', packets, grown.length ? h('span', { class: 'warn' }, ` ${grown.map(([c, n]) => `${c} +${n}`).join(', ')}`) : ''];
}

async function findingsTab(name) {
  const d = await api(`/devices/${encodeURIComponent(name)}`);
  const errors = Object.entries(d.collectionErrors).map(([c, why]) => h('li', { class: 'bad' }, `${c}: ${why}`));
  const list = d.findingList.map((f) => h('li', { class: f.severity === 'error' ? 'bad' : '' }, `${f.check}: ${f.message}`, f.location ? h('div', { class: 'loc' }, f.location) : null));
  return [h('p', {}, `${d.role} ${d.platform}, loopback ${d.loopback ?? '-'}${d.vtep ? `, VTEP ${d.vtep}` : ''}${d.asn ? `, AS ${d.asn}` : ''} (${d.location})`), list.length ? h('ul', { id: 'findings' }, list) : h('p', { class: 'ok' }, 'no findings'), errors.length ? [h('h4', {}, 'collection errors'), h('ul', {}, errors)] : null];
}

const RENDER = { bgp: bgpTab, evpn: evpnTab, routes: routesTab, interfaces: interfacesTab, findings: findingsTab };

async function render() {
  if (!current) return;
  const { name, tab } = current;
  const body = await RENDER[tab](name).catch((e) => [h('p', { class: 'bad' }, String(e.message))]);
  if (current?.name !== name || current.tab !== tab) return;
  const panel = document.getElementById('detail');
  if (!panel.querySelector('#device-name') || panel.querySelector('#device-name').textContent !== name) return;
  fill(document.getElementById('tab-body'), body);
}

export async function showDevice(name, kind) {
  if (kind === 'service') {
    current = undefined;
    fill(document.getElementById('detail'), h('h3', { id: 'device-name' }, name), h('p', {}, "A service node: its sessions are with its leaf (see the leaf's tabs)."));
    return;
  }
  current = { name, tab: current?.tab ?? 'bgp', vrf: current?.vrf };
  const tabs = h('div', { class: 'tabs' }, TABS.map((t) => h('button', { 'data-tab': t, class: t === current.tab ? 'on' : '', onclick: (ev) => { current.tab = t; for (const b of ev.target.parentNode.children) b.className = b === ev.target ? 'on' : ''; void render(); } }, t)));
  fill(document.getElementById('detail'), h('h3', { id: 'device-name' }, name), tabs, h('div', { id: 'tab-body' }));
  await render();
}

/** The panel shows something else now (a path, an incident): stop refreshing the device. */
export function leaveDevice() {
  current = undefined;
}

export const refreshDevice = () => render();
