// The web view: the fabric from GET /topology (graph.js), refreshed every 2 s; a device's
// expected vs observed on click (detail.js); incidents and events (timeline.js), an incident
// clicked highlights its elements; a path query and "why" (pathview.js). The token lives in
// sessionStorage only and travels as a bearer header, never in a URL.
import { api, token } from './api.js';
import { leaveDevice, refreshDevice, showDevice } from './detail.js';
import { fill, h, hms } from './dom.js';
import { clear, draw, mark, update } from './graph.js';
import { showPath, showWhy } from './pathview.js';
import { renderTimeline } from './timeline.js';

let drawn = false;
let selected;
let incidents = [];
let events = [];

function tap(node) {
  const kind = node.data('kind');
  if (kind === 'endpoint') {
    // Endpoints feed the path form: the first click the source, the next the destination.
    const src = document.getElementById('src');
    const dst = document.getElementById('dst');
    if (!src.value || (src.value && dst.value)) [src.value, dst.value] = [node.data('endpoint'), ''];
    else dst.value = node.data('endpoint');
    return;
  }
  if (kind === 'device' || kind === 'service') void showDevice(node.id(), kind);
}

/** An incident's elements as the picture names them: its root cause and the devices of its findings. */
const incidentIds = (i) => [i.element.replace(/^endpoint:/, 'ep:').replace(/^(link|device):/, ''), ...i.devices];

/** An incident on the graph and in the panel. */
async function selectIncident(i) {
  selected = i.id;
  leaveDevice();
  mark('incident', incidentIds(i));
  renderTimeline(incidents, events, selected, selectIncident);
  const d = await api(`/incidents/${encodeURIComponent(i.id)}`);
  fill(document.getElementById('detail'),
    h('h3', { id: 'incident-title' }, `${d.id}: ${d.element}`),
    h('p', {}, `${d.status}, opened ${d.opened}${d.resolved ? `, resolved ${d.resolved}` : ''}${d.acknowledged ? `, acknowledged ${d.acknowledged}` : ''}`),
    h('p', {}, d.summary),
    h('h4', {}, 'findings it explains (now)'),
    h('ul', { id: 'explains' }, d.explains.map((f) => h('li', { class: f.severity === 'error' ? 'bad' : '' }, `${f.check}: ${f.message}`, f.location ? h('div', { class: 'loc' }, f.location) : null))),
    h('button', { onclick: () => { selected = undefined; clear('incident'); renderTimeline(incidents, events, selected, selectIncident); } }, 'clear highlight'));
}

async function refresh() {
  const t = await api('/topology');
  document.getElementById('title').textContent = `netloom: ${t.fabric}`;
  document.getElementById('status').textContent = t.lastPoll ? `poll ${t.lastPoll.seq} at ${hms(t.lastPoll.time)}, ${t.openIncidents.length} open incident(s)` : 'waiting for the first poll';
  if (!drawn) {
    draw(t, tap);
    drawn = true;
  } else update(t);
  [incidents, events] = await Promise.all([api('/incidents'), api('/events?limit=200')]);
  // A selected incident still growing (more findings, more devices) keeps its highlight whole.
  const sel = incidents.find((i) => i.id === selected);
  if (sel) mark('incident', incidentIds(sel));
  renderTimeline(incidents, events, selected, selectIncident);
  await refreshDevice();
}

function start() {
  document.getElementById('login').style.display = 'none';
  refresh().catch(() => undefined);
  setInterval(() => refresh().catch(() => undefined), 2000);
}

const failed = (e) => fill(document.getElementById('detail'), h('p', { class: 'bad' }, String(e.message)));
document.getElementById('go').addEventListener('click', () => {
  sessionStorage.setItem('netloom-token', document.getElementById('token').value.trim());
  start();
});
document.getElementById('pathform').addEventListener('submit', (ev) => {
  ev.preventDefault();
  leaveDevice();
  showPath().catch(failed);
});
document.getElementById('why').addEventListener('click', () => {
  leaveDevice();
  showWhy().catch(failed);
});
if (token()) start();
