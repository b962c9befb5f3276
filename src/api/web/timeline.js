// Incidents, open ones first then the recent resolved, each with its root-cause element, the
// findings it explains, its captures, and the events that belong to it; the other events
// below. Redrawn only when something changed, so an open section or a selection survives.
import { download } from './api.js';
import { fill, h, hms } from './dom.js';

let last = '';
const expanded = new Set();

function eventLine(e) {
  return h('div', { class: `event ${e.severity === 'error' ? 'bad' : e.severity === 'warning' ? 'warn' : ''}` }, `${hms(e.time)} ${e.kind} ${e.message}`);
}

/**
 * An incident's events: those that name it, and the changes of the findings it explains while
 * it was open (from a minute before it opened: the poll that raised the findings opened it).
 */
function eventsOf(i, events) {
  const from = new Date(Date.parse(i.opened) - 60_000).toISOString();
  const keys = new Set(i.findings);
  return events.filter((e) => e.incident === i.id || (keys.has(e.subject) && e.time >= from && (!i.resolved || e.time <= i.resolved)));
}

function incident(i, mine, selected, onSelect) {
  const captures = (i.captures ?? []).map((c) => h('div', { class: 'capture' },
    c.file ? h('button', { class: 'pcap', 'data-n': c.n, onclick: () => download(`/incidents/${encodeURIComponent(i.id)}/captures/${c.n}`, `${i.id}-${c.n}.pcap`).catch(() => undefined) }, `pcap ${c.n}`) : null,
    ` ${c.device} ${c.interface}: ${c.packets} packets in ${c.seconds} s${c.error ? ` (${c.error})` : ''}`,
    c.findings.map((f) => h('div', { class: f.severity === 'error' ? 'bad' : '' }, `${f.category}: ${f.message}`))));
  const details = h('details', { 'data-id': i.id, open: expanded.has(i.id) || undefined, ontoggle: (ev) => (ev.target.open ? expanded.add(i.id) : expanded.delete(i.id)) },
    h('summary', {}, `explains ${i.findings.length} finding(s), ${mine.length} event(s)${i.captures?.length ? `, ${i.captures.length} capture(s)` : ''}`),
    h('ul', { class: 'explains' }, i.findings.map((k) => h('li', {}, k))),
    captures,
    mine.map(eventLine));
  return h('div', { class: `incident ${i.status}${i.id === selected ? ' selected' : ''}`, 'data-id': i.id },
    h('div', { class: 'head', onclick: () => onSelect(i) },
      h('span', { class: `badge ${i.status}` }, i.status),
      ` ${hms(i.opened)}${i.resolved ? `–${hms(i.resolved)}` : ''} `,
      h('b', { class: 'element' }, i.element),
      h('div', { class: 'summary' }, i.summary)),
    details);
}

export function renderTimeline(incidents, events, selected, onSelect) {
  const sig = JSON.stringify([incidents, events.map((e) => e.id), selected]);
  if (sig === last) return;
  last = sig;
  const open = incidents.filter((i) => i.status === 'open');
  const recent = incidents.filter((i) => i.status !== 'open').sort((a, b) => (b.resolved ?? b.opened).localeCompare(a.resolved ?? a.opened)).slice(0, 20);
  const shown = [...open, ...recent].map((i) => [i, eventsOf(i, events)]);
  const grouped = new Set(shown.flatMap(([, mine]) => mine.map((e) => e.id)));
  const others = events.filter((e) => !grouped.has(e.id)).slice(0, 40);
  fill(document.getElementById('timeline'),
    h('h4', {}, `incidents: ${open.length} open, ${recent.length} recent`),
    h('div', { id: 'incidents' }, shown.map(([i, mine]) => incident(i, mine, selected, onSelect))),
    h('h4', {}, 'other events'),
    h('div', { id: 'events' }, others.map(eventLine)));
}
