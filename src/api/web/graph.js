// The fabric drawn with cytoscape.js at the positions of layout.js, coloured from live state;
// highlights (an incident's elements, a path, the first divergence) are classes on elements.
import { layout } from './layout.js';

export const COLOURS = { unknown: '#cbd5e1', ok: '#16a34a', warning: '#f59e0b', failed: '#dc2626', path: '#2563eb', incident: '#7c3aed', endpoint: '#64748b', link: '#9ca3af' };
const SHAPES = { 'load-balancer': 'diamond', dns: 'hexagon', firewall: 'octagon' };
let cy;

/** Before the first poll nothing is known: no colour may claim otherwise. */
const live = (t, state) => (t.lastPoll ? state : 'unknown');

function elements(t) {
  const pos = layout(t);
  const parent = (id) => (t.sites.length && pos.get(id)?.site && t.sites.some((s) => s.name === pos.get(id).site) ? `site:${pos.get(id).site}` : undefined);
  const node = (id, data, cls) => ({ group: 'nodes', data: { id, parent: parent(id), ...data }, position: { x: pos.get(id)?.x ?? 0, y: pos.get(id)?.y ?? 0 }, classes: cls });
  return [
    ...t.sites.map((s) => ({ group: 'nodes', data: { id: `site:${s.name}`, label: `site ${s.name} (${s.fabric})` }, classes: 'site' })),
    ...t.devices.map((d) => node(d.name, { label: d.name, state: live(t, d.state), role: d.role, kind: 'device' }, `device role-${d.role}`)),
    ...t.serviceNodes.map((s) => node(s.name, { label: `${s.name} (${s.role})`, state: live(t, s.state), role: s.role, kind: 'service' }, 'service')),
    ...t.endpoints.map((e) => node(`ep:${e.name}`, { label: e.name, kind: 'endpoint', endpoint: e.name }, 'endpoint')),
    ...t.links.map((l) => ({ group: 'edges', data: { id: l.id, source: l.a, target: l.b, state: live(t, l.state) }, classes: 'link' })),
    ...t.endpoints.map((e) => ({ group: 'edges', data: { id: `ep:${e.name}--${e.leaf}`, source: `ep:${e.name}`, target: e.leaf, state: 'ok' }, classes: 'access' })),
    ...t.serviceNodes.map((s) => ({ group: 'edges', data: { id: `${s.name}--${s.leaf}`, source: s.name, target: s.leaf, state: 'ok' }, classes: 'access' })),
  ];
}

export function draw(t, onTap) {
  cy = cytoscape({
    container: document.getElementById('graph'),
    elements: elements(t),
    layout: { name: 'preset', fit: true, padding: 30 },
    wheelSensitivity: 0.3,
    autoungrabify: true,
    style: [
      { selector: 'node', style: { label: 'data(label)', 'background-color': (n) => COLOURS[n.data('state')] ?? COLOURS.endpoint, color: '#111', 'font-size': 11, 'text-valign': 'bottom', 'text-margin-y': 3, width: 34, height: 34 } },
      { selector: 'node.service', style: { shape: (n) => SHAPES[n.data('role')] ?? 'round-rectangle', width: 26, height: 26 } },
      { selector: 'node.endpoint', style: { shape: 'round-rectangle', width: 20, height: 14, 'font-size': 10 } },
      { selector: 'node.site', style: { 'background-color': '#f1f5f9', 'background-opacity': 0.6, 'border-width': 1, 'border-color': '#94a3b8', shape: 'round-rectangle', 'text-valign': 'top', 'text-halign': 'center', 'font-size': 13, 'font-weight': 'bold', padding: 18 } },
      { selector: 'edge', style: { width: 3, 'curve-style': 'straight', 'line-color': (e) => (e.data('state') === 'ok' || e.data('state') === 'unknown' ? COLOURS.link : COLOURS[e.data('state')]) } },
      { selector: 'edge.access', style: { width: 1.5, 'line-style': 'dashed' } },
      { selector: '.incident', style: { 'overlay-color': COLOURS.incident, 'overlay-opacity': 0.35, 'overlay-padding': 7 } },
      { selector: 'node.onpath', style: { 'border-width': 4, 'border-color': COLOURS.path } },
      { selector: 'edge.onpath', style: { width: 6, 'overlay-color': COLOURS.path, 'overlay-opacity': 0.3, 'overlay-padding': 4 } },
      { selector: 'node.diverge', style: { 'border-width': 5, 'border-color': COLOURS.incident, 'border-style': 'double' } },
    ],
  });
  // A small fabric fitted to the canvas would be drawn huge: no more than 1.2x.
  if (cy.zoom() > 1.2) {
    cy.zoom(1.2);
    cy.center();
  }
  window.netloomCy = cy;
  cy.on('tap', 'node', (ev) => onTap(ev.target));
}

export function update(t) {
  for (const d of [...t.devices, ...t.serviceNodes]) cy.getElementById(d.name).data('state', live(t, d.state));
  for (const l of t.links) cy.getElementById(l.id).data('state', live(t, l.state));
}

export function clear(cls) {
  cy?.elements().removeClass(cls);
}

/** Marks nodes and edges by id; ids not in the picture are left out. */
export function mark(cls, ids) {
  clear(cls);
  for (const id of ids) cy.getElementById(id).addClass(cls);
}

/** Edges joining two sets of nodes (consecutive layers of a path). */
export function edgesBetween(as, bs) {
  const b = new Set(bs);
  return cy.edges().filter((e) => (as.includes(e.source().id()) && b.has(e.target().id())) || (as.includes(e.target().id()) && b.has(e.source().id()))).map((e) => e.id());
}
