// A src/dst query drawn on the graph: the endpoints, every device of every ECMP layer and the
// links between consecutive layers; the firewall's verdict where the intent has policies;
// and "why" for a pair that does not answer: where live state first diverges from the
// prediction, with the findings, incidents, capture evidence and pings there.
import { api } from './api.js';
import { clear, edgesBetween, mark } from './graph.js';
import { fill, h } from './dom.js';

function query() {
  const v = (id) => document.getElementById(id).value.trim();
  const q = new URLSearchParams({ src: v('src'), dst: v('dst') });
  if (v('proto')) q.set('proto', v('proto'));
  if (v('proto') && v('port')) q.set('port', v('port'));
  return q;
}

function firewall(fw) {
  if (!fw) return null;
  return h('div', { id: 'fw-verdict', class: fw.verdict === 'accepted' || fw.verdict === 'no policy' ? 'ok' : 'bad' }, `firewall, ${fw.service}: ${fw.verdict}`,
    h('ul', {}, fw.policies.map((p) => h('li', {}, `${p.policy} (enforced ${p.enforcement ?? ''} on ${(p.devices ?? []).map((d) => (typeof d === 'string' ? d : `${d.device}, ${d.side}`)).join('; ')})`, h('ul', {}, (p.decisions ?? []).map((d) => h('li', { class: d.action === 'accept' ? 'ok' : 'bad' }, `${d.action} by ${d.rule ?? d.kind} (${d.location ?? ''})`)))))));
}

export async function showPath() {
  const p = await api(`/paths?${query()}`);
  const layers = p.hops.map((x) => x.devices).filter((d) => d.length).filter((d, i, all) => i === 0 || d.join() !== all[i - 1].join());
  // A dropped flow stops where it is dropped: the destination is not on it.
  const delivered = p.forwarding === 'bridged' || p.forwarding === 'routed';
  const ends = [[`ep:${p.src}`], ...layers, ...(delivered ? [[`ep:${p.dst}`]] : [])];
  const edges = ends.slice(1).flatMap((l, i) => edgesBetween(ends[i], l));
  mark('onpath', [...ends.flat(), ...edges]);
  clear('diverge');
  fill(document.getElementById('detail'),
    h('h3', { id: 'path-title' }, `${p.src} → ${p.dst}: ${p.forwarding}`),
    h('p', { class: p.asIntended ? 'ok' : 'bad' }, p.asIntended ? 'as the intent asks' : `the intent asks ${p.expected}${p.reason ? ` (${p.reason})` : ''}`),
    delivered ? h('p', {}, `${p.vni !== null ? `VNI ${p.vni}, ` : ''}${p.ecmp} equal-cost underlay path(s)`) : null,
    h('ol', { id: 'hops' }, p.hops.map((x) => h('li', {}, x.text))),
    p.liveProblems.length ? h('div', { class: 'bad' }, 'live problems on the path: ', p.liveProblems.map((x) => `${x.device} (${x.findings} finding(s)${x.incidents.length ? `, incidents ${x.incidents.join(', ')}` : ''}) `)) : h('p', { class: 'ok' }, 'no live problems on the path'),
    firewall(p.firewall));
}

export async function showWhy() {
  const q = query();
  const w = await api(`/why?src=${encodeURIComponent(q.get('src'))}&dst=${encodeURIComponent(q.get('dst'))}`);
  mark('diverge', w.firstDivergence ? [w.firstDivergence] : []);
  fill(document.getElementById('detail'),
    h('h3', { id: 'why-title' }, `why ${w.src} → ${w.dst}`),
    h('p', { id: 'why-answer' }, w.answer),
    w.findings.length ? [h('h4', {}, `findings at ${w.firstDivergence}`), h('ul', {}, w.findings.map((f) => h('li', { class: f.severity === 'error' ? 'bad' : '' }, `${f.check}: ${f.message}`, f.location ? h('div', { class: 'loc' }, f.location) : null)))] : null,
    w.incidents.length ? h('p', {}, `incidents: ${w.incidents.join(', ')}`) : null,
    w.captureEvidence.length ? [h('h4', {}, 'capture evidence'), h('ul', {}, w.captureEvidence.map((c) => h('li', {}, `${c.device} ${c.interface}: ${c.message}`)))] : null,
    w.probes.length ? [h('h4', {}, 'pings'), h('ul', {}, w.probes.map((x) => h('li', { class: x.answered ? 'ok' : 'bad' }, `IPv${x.family} ${x.address}: ${x.answered ? 'answered' : 'unanswered'}${x.detail ? ` (${x.detail})` : ''}`)))] : null,
    firewall(w.firewall));
}
