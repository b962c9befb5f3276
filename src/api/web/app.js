// The web view: the fabric from GET /topology drawn with cytoscape.js, coloured from live
// state (an incident's element red, devices with findings orange), refreshed every 2 s; a
// device's expected vs observed BGP on click; the events timeline; a path query. The token
// lives in sessionStorage only and travels as a bearer header, never in a URL.
'use strict';
const COLOURS = { ok: '#16a34a', warning: '#f59e0b', failed: '#dc2626', path: '#2563eb' };
let cy;
const token = () => sessionStorage.getItem('netloom-token') || '';
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

async function api(path) {
  const r = await fetch(path, { headers: { authorization: `Bearer ${token()}` } });
  if (r.status === 401) {
    sessionStorage.removeItem('netloom-token');
    document.getElementById('login').style.display = 'flex';
    throw new Error('unauthorized');
  }
  return r.json();
}

function draw(t) {
  const spines = t.devices.filter((d) => d.role !== 'leaf');
  const leaves = t.devices.filter((d) => d.role === 'leaf');
  const row = (list, y) => list.map((d, i) => ({ data: { id: d.name, label: d.name, state: d.state }, position: { x: (i + 1) * (800 / (list.length + 1)), y } }));
  cy = cytoscape({
    container: document.getElementById('graph'),
    elements: [...row(spines, 80), ...row(leaves, 320), ...t.links.map((l) => ({ data: { id: l.id, source: l.a, target: l.b, state: l.state } }))],
    layout: { name: 'preset', fit: true, padding: 40 },
    style: [
      { selector: 'node', style: { label: 'data(label)', 'background-color': (n) => COLOURS[n.data('state')], color: '#111', 'text-valign': 'bottom', width: 36, height: 36 } },
      { selector: 'edge', style: { width: 3, 'line-color': (e) => (e.data('state') === 'ok' ? '#9ca3af' : COLOURS[e.data('state')]) } },
      { selector: '.onpath', style: { 'border-width': 4, 'border-color': COLOURS.path, 'line-color': COLOURS.path } },
    ],
  });
  window.netloomCy = cy;
  cy.on('tap', 'node', (ev) => showDevice(ev.target.id()));
}

function update(t) {
  for (const d of t.devices) cy.getElementById(d.name).data('state', d.state);
  for (const l of t.links) cy.getElementById(l.id).data('state', l.state);
}

async function refresh() {
  const t = await api('/topology');
  document.getElementById('title').textContent = `netloom: ${t.fabric}`;
  document.getElementById('status').textContent = t.lastPoll ? `poll ${t.lastPoll.seq} at ${t.lastPoll.time}, ${t.openIncidents.length} open incident(s)` : 'waiting for the first poll';
  if (!cy) draw(t);
  else update(t);
  const events = await api('/events?limit=20');
  document.getElementById('timeline').innerHTML = events.map((e) => `<div class="${e.severity === 'error' ? 'bad' : ''}">${esc(e.time.slice(11, 19))} ${esc(e.kind)} ${esc(e.message)}</div>`).join('');
}

async function showDevice(name) {
  const b = await api(`/devices/${encodeURIComponent(name)}/bgp`);
  const rows = b.expected.map((s) => `<tr><td>${esc(s.peer)}</td><td>${esc(s.neighbor)}</td><td>${esc(s.afiSafis.join(', '))}</td><td>${s.observed.map((o) => `<span class="${o.state === 'Established' ? 'ok' : 'bad'}">${esc(o.afi)} ${esc(o.state)} (${o.prefixesReceived ?? '-'})</span>`).join('<br>') || '<span class="bad">not seen</span>'}</td></tr>`).join('');
  document.getElementById('detail').innerHTML = `<h3 id="device-name">${esc(name)}</h3><table id="bgp"><tr><th>peer</th><th>neighbor</th><th>expected</th><th>observed</th></tr>${rows}</table>`;
}

async function showPath(src, dst) {
  const p = await api(`/paths?src=${encodeURIComponent(src)}&dst=${encodeURIComponent(dst)}`);
  cy.elements().removeClass('onpath');
  if (p.message) return void (document.getElementById('detail').textContent = p.message);
  const devs = new Set(p.hops.flatMap((h) => h.devices));
  cy.nodes().filter((n) => devs.has(n.id())).addClass('onpath');
  document.getElementById('detail').innerHTML = `<h3>${esc(p.src)} → ${esc(p.dst)}: ${esc(p.forwarding)}</h3><ol>${p.hops.map((h) => `<li>${esc(h.text)}</li>`).join('')}</ol>`;
}

function start() {
  document.getElementById('login').style.display = 'none';
  refresh().catch(() => undefined);
  setInterval(() => refresh().catch(() => undefined), 2000);
}

document.getElementById('go').addEventListener('click', () => {
  sessionStorage.setItem('netloom-token', document.getElementById('token').value.trim());
  start();
});
document.getElementById('pathform').addEventListener('submit', (ev) => {
  ev.preventDefault();
  showPath(document.getElementById('src').value, document.getElementById('dst').value).catch(() => undefined);
});
if (token()) start();
