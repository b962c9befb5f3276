/**
 * The API over a monitor whose target answers nothing (every device command fails), through
 * Fastify's injection: tokens and roles, the OpenAPI document, validation, the
 * troubleshooting routes, the audit log. The lab-backed proof is test/api/serve-lab.test.ts.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../support/intent-copy.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.ts';
import { hashedToken, loadTokens, tokenCheck } from '../../src/api/tokens.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { Monitor } from '../../src/service/monitor.ts';
import { DeviceViews } from '../../src/service/views.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { refusing, refusingService } from '../support/refusing-service.ts';

const READ = 'read-token-for-tests-0123456789';
const OPERATE = 'operate-token-for-tests-0123456789';
const WRITE = 'admin-token-for-tests-0123456789';
const auth = (t: string) => ({ authorization: `Bearer ${t}` });


let dir: string;
let app: FastifyInstance;
let monitor: Monitor;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'netloom-api-'));
  ({ app, monitor } = await refusingService('intents/dc1', path.join(dir, 'netloom.db'), { read: READ, operate: OPERATE, admin: WRITE }, { poll: true }));
});
afterAll(async () => {
  await app?.close();
  await monitor?.stop();
  monitor?.store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('API authentication', () => {
  it('401 without a token or with an unknown one, on read and mutating routes', async () => {
    for (const [method, url] of [['GET', '/status'], ['POST', '/poll'], ['GET', '/events/stream'], ['GET', '/metrics']] as const) {
      const r = await app.inject({ method, url });
      expect(r.statusCode, `${method} ${url}`).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect((await app.inject({ method: 'GET', url: '/status', headers: auth('nope-nope-nope-nope') })).statusCode).toBe(401);
  });

  it('read reads, operate also mutates, admin also reads the audit log; each refused above its role (403), mutations audited', async () => {
    expect((await app.inject({ method: 'GET', url: '/status', headers: auth(READ) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/status', headers: auth(WRITE) })).statusCode).toBe(200);
    const refused = await app.inject({ method: 'POST', url: '/poll', headers: auth(READ) });
    expect([refused.statusCode, refused.json().message]).toEqual([403, 'this route needs the operate role (the token given is read)']);
    const r = await app.inject({ method: 'POST', url: '/poll', headers: auth(OPERATE) });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ seq: 2, openIncidents: expect.any(Number) });
    // Nothing answers: no device observed is owed a table; all are admitted at once on dc1.
    const status = (await app.inject({ method: 'GET', url: '/status', headers: auth(READ) })).json();
    expect(status.lastPoll).toMatchObject({ seq: 2, pending: 0, owedTables: 0 });
    expect(status.tableReads).toEqual({ admit: 24, refresh: 24, changed: 250_000 });
    expect((await app.inject({ method: 'GET', url: '/audit', headers: auth(READ) })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/audit', headers: auth(OPERATE) })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/tokens', headers: auth(OPERATE) })).statusCode).toBe(403);
    const audit = (await app.inject({ method: 'GET', url: '/audit', headers: auth(WRITE) })).json();
    expect(audit[0]).toMatchObject({ action: 'poll', actor: expect.stringMatching(/^operate token from /), target: 'refusing target', outcome: expect.stringMatching(/^poll 2: \d+ failing$/) });
    expect(JSON.stringify(audit)).not.toContain(OPERATE);
  });

  it('GET /tokens (admin) lists roles by fingerprint, never a token', async () => {
    const r = await app.inject({ method: 'GET', url: '/tokens', headers: auth(WRITE) });
    expect(r.statusCode).toBe(200);
    expect(r.json().tokens.map((t: { role: string }) => t.role)).toEqual(['read', 'operate', 'admin']);
    for (const t of [READ, OPERATE, WRITE]) expect(r.body).not.toContain(t);
  });

  it('the token file is created with mode 0600 on first start, read back after, rotated by reload; a first-version file still loads', () => {
    const d = mkdtempSync(path.join(tmpdir(), 'netloom-tokens-'));
    const file = path.join(d, 'tokens.json');
    try {
      const a = loadTokens(d, {});
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const b = loadTokens(d, {});
      const { read, operate, admin } = JSON.parse(readFileSync(file, 'utf8'));
      expect([a.roleOf(read), b.roleOf(read), a.roleOf(operate), a.roleOf(admin), b.roleOf('x'.repeat(40))]).toEqual(['read', 'read', 'operate', 'admin', undefined]);
      // Rotation: a new operate token in the file, then reload: the old one is refused.
      writeFileSync(file, JSON.stringify({ read, operate: 'rotated-operate-token-0123456789', admin }), { mode: 0o600 });
      expect(a.roleOf(operate)).toBe('operate');
      a.reload();
      expect([a.roleOf(operate), a.roleOf('rotated-operate-token-0123456789')]).toEqual([undefined, 'operate']);
      // The first version's file: {read, write}; write is the admin token.
      writeFileSync(file, JSON.stringify({ read, write: admin }), { mode: 0o600 });
      expect(loadTokens(d, {}).roleOf(admin)).toBe('admin');
      writeFileSync(file, JSON.stringify({ read, admin: read }), { mode: 0o600 });
      expect(() => loadTokens(d, {})).toThrow(/every role needs a token of its own/);
      writeFileSync(file, JSON.stringify({ read, write: admin }), { mode: 0o644 });
      chmodSync(file, 0o644);
      expect(() => loadTokens(d, {})).toThrow(/readable by others \(mode 644\)/);
      expect(() => loadTokens(d, { NETLOOM_READ_TOKEN: READ })).toThrow(/needs a read and an admin token/);
      expect(loadTokens(d, { NETLOOM_READ_TOKEN: READ, NETLOOM_WRITE_TOKEN: WRITE }).roleOf(WRITE)).toBe('admin');
      const env = loadTokens(d, { NETLOOM_READ_TOKEN: READ, NETLOOM_OPERATE_TOKEN: OPERATE, NETLOOM_ADMIN_TOKEN: WRITE });
      expect([env.roleOf(READ), env.roleOf(OPERATE), env.roleOf(WRITE)]).toEqual(['read', 'operate', 'admin']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('a token file may hold hashes (sha256:<hex>, as serve --hash-token prints them) instead of tokens', () => {
    const d = mkdtempSync(path.join(tmpdir(), 'netloom-tokens-'));
    const file = path.join(d, 'tokens.json');
    try {
      const hashed = (t: string) => {
        const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'serve', '--hash-token'], { input: `${t}\n`, encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).not.toContain(t);
        return r.stdout.trim();
      };
      const h = { read: hashed(READ), operate: hashed(OPERATE), admin: hashed(WRITE) };
      expect(h.read).toBe(hashedToken(READ));
      expect(h.read).toMatch(/^sha256:[0-9a-f]{64}$/);
      writeFileSync(file, JSON.stringify(h), { mode: 0o600 });
      const t = loadTokens(d, {});
      expect([t.roleOf(READ), t.roleOf(OPERATE), t.roleOf(WRITE), t.roleOf(h.read), t.roleOf(h.admin)]).toEqual(['read', 'operate', 'admin', undefined, undefined]);
      // A token and a hash mixed; the same token as a hash and as itself is one token.
      writeFileSync(file, JSON.stringify({ read: READ, admin: h.admin }), { mode: 0o600 });
      expect(loadTokens(d, {}).roleOf(WRITE)).toBe('admin');
      writeFileSync(file, JSON.stringify({ read: READ, admin: hashedToken(READ) }), { mode: 0o600 });
      expect(() => loadTokens(d, {})).toThrow(/every role needs a token of its own/);
      writeFileSync(file, JSON.stringify({ read: 'sha256:abc', admin: h.admin }), { mode: 0o600 });
      expect(() => loadTokens(d, {})).toThrow(/the read token's hash is not sha256: and 64 lower-case hex digits/);
      const short = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'serve', '--hash-token'], { input: 'short\n', encoding: 'utf8' });
      expect(short.status).toBe(2);
      expect(short.stderr).toMatch(/standard input must be one token of 16 characters or more/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('rate limits: a client past its budget gets 429 with Retry-After; mutating routes have a tenth of it', async () => {
    const model = loadModelSync('intents/dc1');
    const limited = await buildServer({ monitor, store: monitor.store, views: new DeviceViews(model, buildFabricGraph(model)) }, tokenCheck({ read: READ, admin: WRITE }, 'test'), { ratePerMinute: 20 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 21; i++) codes.push((await limited.inject({ method: 'GET', url: '/status', headers: auth(READ) })).statusCode);
      expect(codes.slice(0, 20).every((c) => c === 200)).toBe(true);
      const over = await limited.inject({ method: 'GET', url: '/status', headers: auth(READ) });
      expect(over.statusCode).toBe(429);
      expect(over.json()).toMatchObject({ error: 'too-many-requests', message: expect.stringMatching(/^rate limit: 20 requests a minute from this address; retry in /) });
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
      // Token guessing spends the budget too: the limit comes before the token check.
      expect((await limited.inject({ method: 'GET', url: '/status', headers: auth('guess-guess-guess-guess') })).statusCode).toBe(429);
      const posts: number[] = [];
      for (let i = 0; i < 3; i++) posts.push((await limited.inject({ method: 'POST', url: '/incidents/inc-none/acknowledge', headers: auth(WRITE) })).statusCode);
      expect(posts).toEqual([404, 404, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('API routes', () => {
  it('the OpenAPI document lists every route with its schemas, open without a token', async () => {
    const r = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(r.statusCode).toBe(200);
    const doc = r.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/audit', '/checks', '/devices', '/devices/{name}', '/devices/{name}/bgp', '/devices/{name}/evpn', '/devices/{name}/interfaces', '/devices/{name}/routes',
      '/events', '/events/stream', '/findings', '/health', '/history', '/incidents', '/incidents/{id}', '/incidents/{id}/acknowledge', '/incidents/{id}/captures/{n}',
      '/metrics', '/paths', '/plans', '/poll', '/reachability', '/rollouts', '/rollouts/{id}', '/status', '/tokens', '/tokens/reload', '/topology', '/why',
    ]);
    expect(doc.paths['/paths'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['dst', 'port', 'proto', 'src']);
    expect(doc.paths['/devices/{name}/bgp'].get.responses['200'].content['application/json'].schema.properties.expected.type).toBe('array');
    expect(doc.paths['/poll'].post.security).toEqual([{ bearer: [] }]);
    expect((await app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200);
  });

  it('devices with expected vs observed: nothing observed from a refusing target', async () => {
    const devices = (await app.inject({ method: 'GET', url: '/devices', headers: auth(READ) })).json();
    expect(devices.map((d: { name: string }) => d.name).sort()).toEqual(['leaf1', 'leaf2', 'leaf3', 'leaf4', 'spine1', 'spine2']);
    expect(devices.every((d: { findings: number }) => d.findings > 0)).toBe(true);
    const bgp = (await app.inject({ method: 'GET', url: '/devices/leaf1/bgp', headers: auth(READ) })).json();
    expect(bgp.expected.map((s: { peer: string; neighbor: string }) => `${s.peer}/${s.neighbor}`)).toEqual(['spine1/eth1', 'spine2/eth2']);
    expect(bgp.expected.every((s: { observed: unknown[] }) => s.observed.length === 0)).toBe(true);
    const detail = (await app.inject({ method: 'GET', url: '/devices/leaf1', headers: auth(READ) })).json();
    expect(detail.collectionErrors['show bgp vrf all summary json']).toBe('connection refused');
    expect(detail.location).toMatch(/^intents\/dc1\/nodes\.yaml:\d+:\d+$/);
    const evpn = (await app.inject({ method: 'GET', url: '/devices/leaf1/evpn', headers: auth(READ) })).json();
    expect(evpn.vnis.length).toBeGreaterThan(0);
    expect(evpn.vnis.every((v: { observed: unknown; agrees: boolean }) => v.observed === null && !v.agrees)).toBe(true);
    const routes = (await app.inject({ method: 'GET', url: '/devices/leaf1/routes?vrf=default', headers: auth(READ) })).json();
    expect(routes.routes.length).toBeGreaterThan(0);
    expect(routes.routes.every((r: { vrf: string; observed: unknown }) => r.vrf === 'default' && r.observed === null)).toBe(true);
    const ifs = (await app.inject({ method: 'GET', url: '/devices/leaf1/interfaces', headers: auth(READ) })).json();
    const eth1 = ifs.interfaces.find((i: { name: string }) => i.name === 'eth1');
    expect(eth1).toMatchObject({ kind: 'fabric', expected: { peer: 'spine1:eth1', sessions: 1 }, observed: null, agrees: false });
    expect(ifs.interfaces.find((i: { kind: string }) => i.kind === 'loopback')).toMatchObject({ agrees: null });
    const access = ifs.interfaces.find((i: { expected: { endpoints: string[] } }) => i.expected.endpoints.includes('h1'));
    expect(access).toMatchObject({ kind: 'access', agrees: false });
    const topo = (await app.inject({ method: 'GET', url: '/topology', headers: auth(READ) })).json();
    expect(topo.sites).toEqual([]);
    expect(topo.devices.map((d: { name: string; tier: number; site: null }) => `${d.name}:${d.tier}:${d.site}`).sort()).toEqual(['leaf1:2:null', 'leaf2:2:null', 'leaf3:2:null', 'leaf4:2:null', 'spine1:1:null', 'spine2:1:null']);
    expect(topo.endpoints.map((e: { name: string; leaf: string }) => `${e.name}@${e.leaf}`)).toEqual(['h1@leaf1', 'h2@leaf2', 'h3@leaf3', 'h4@leaf4', 'h5@leaf1']);
    expect(topo.serviceNodes).toEqual([]);
    const missing = await app.inject({ method: 'GET', url: '/devices/leaf9/bgp', headers: auth(READ) });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toBe("no device 'leaf9' in fabric dc1");
  });

  it('paths: the predicted path with ECMP, validation of the query', async () => {
    const r = await app.inject({ method: 'GET', url: '/paths?src=h1&dst=h3', headers: auth(READ) });
    expect(r.statusCode).toBe(200);
    const p = r.json();
    expect(p).toMatchObject({ src: 'h1', dst: 'h3', forwarding: 'routed', asIntended: true, ecmp: 2, firewall: null });
    expect(p.hops.find((h: { kind: string }) => h.kind === 'transit').devices.sort()).toEqual(['spine1', 'spine2']);
    // Every device is failing collection: the path's devices show up as live problems.
    expect(p.liveProblems.map((x: { device: string }) => x.device)).toContain('leaf1');
    const fw = (await app.inject({ method: 'GET', url: '/paths?src=h1&dst=h3&proto=tcp&port=443', headers: auth(READ) })).json();
    expect(fw.firewall).toEqual({ service: 'tcp/443', verdict: 'no policy', policies: [] });
    const bad = await app.inject({ method: 'GET', url: '/paths?src=h1&dst=nowhere', headers: auth(READ) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^no endpoint 'nowhere'/);
    expect((await app.inject({ method: 'GET', url: '/paths?src=h1&dst=h3&port=70000', headers: auth(READ) })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/paths?src=h1', headers: auth(READ) })).statusCode).toBe(400);
  });

  it('reachability: every endpoint pair with what the intent asks, the prediction, and the last poll (nothing probed from a refusing target)', async () => {
    const r = (await app.inject({ method: 'GET', url: '/reachability', headers: auth(READ) })).json();
    expect(r).toMatchObject({ pairs: 20, disagreeing: 0, notAsIntended: 0, truncated: false });
    expect(r.rows).toHaveLength(20);
    expect(r.rows.find((x: { src: string; dst: string }) => x.src === 'h1' && x.dst === 'h2')).toMatchObject({ expected: 'bridged', predicted: 'bridged', asIntended: true, answers: true, observed: 'not probed', agrees: null });
    expect(r.rows.find((x: { src: string; dst: string }) => x.src === 'h1' && x.dst === 'h4')).toMatchObject({ expected: 'isolated', predicted: 'isolated', answers: false });
    const one = (await app.inject({ method: 'GET', url: '/reachability?src=h1&dst=h3', headers: auth(READ) })).json();
    expect(one.rows.map((x: { src: string; dst: string; predicted: string }) => `${x.src}>${x.dst} ${x.predicted}`)).toEqual(['h1>h3 routed']);
    expect((await app.inject({ method: 'GET', url: '/reachability?problems=true', headers: auth(READ) })).json().rows).toEqual([]);
    const bad = await app.inject({ method: 'GET', url: '/reachability?src=nowhere', headers: auth(READ) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toBe("no endpoint named 'nowhere' in fabric dc1");
  });

  it('rollouts: the journal listed and read (snapshots left out); a push needs operate and a target with an inventory', async () => {
    const prev = process.env.NETLOOM_STATE_DIR;
    process.env.NETLOOM_STATE_DIR = path.join(dir, 'state');
    try {
      const id = '20261203T230000Z-abcd';
      mkdirSync(path.join(dir, 'state', 'rollouts', id), { recursive: true });
      const at = '2026-12-03T23:00:00.000Z';
      const entries = [
        { t: 'start', id, fabric: 'dc1', intentDir: 'intents/dc1', target: 'lab:dc1', devices: ['leaf1', 'leaf2'], confirmTimeoutS: 120, pid: 1 },
        { t: 'snapshot', device: 'leaf1', transport: 'ssh', snapshot: { running: 'router bgp 65101 ... secret config' } },
        { t: 'wave', wave: 0, devices: ['leaf1'] },
        { t: 'commit-start', device: 'leaf1', wave: 0 },
        { t: 'committed', device: 'leaf1', wave: 0 },
        { t: 'confirmed', device: 'leaf1' },
        { t: 'end', status: 'ok' },
      ];
      writeFileSync(path.join(dir, 'state', 'rollouts', id, 'journal.jsonl'), entries.map((e) => JSON.stringify({ ...e, at })).join('\n') + '\n');
      const list = (await app.inject({ method: 'GET', url: '/rollouts', headers: auth(READ) })).json();
      expect(list).toEqual([{ id, started: at, fabric: 'dc1', target: 'lab:dc1', devices: ['leaf1', 'leaf2'], status: 'ok', applied: ['leaf1'], rolledBack: [], recoveredBy: null }]);
      const one = await app.inject({ method: 'GET', url: `/rollouts/${id}`, headers: auth(READ) });
      expect(one.statusCode).toBe(200);
      expect(one.json().steps).toHaveLength(7);
      expect(one.body).not.toContain('secret config');
      expect((await app.inject({ method: 'GET', url: '/rollouts/nope', headers: auth(READ) })).statusCode).toBe(404);
      expect((await app.inject({ method: 'GET', url: '/rollouts/..%2F..%2Fetc', headers: auth(READ) })).statusCode).toBe(400);
      expect((await app.inject({ method: 'POST', url: '/rollouts', headers: auth(READ), payload: { dryRun: true } })).statusCode).toBe(403);
      const push = await app.inject({ method: 'POST', url: '/rollouts', headers: auth(OPERATE), payload: { dryRun: true } });
      expect(push.statusCode).toBe(400);
      expect(push.json().message).toBe("the service's target has no inventory to push to");
    } finally {
      if (prev === undefined) delete process.env.NETLOOM_STATE_DIR;
      else process.env.NETLOOM_STATE_DIR = prev;
    }
  });

  it('why: the first device on the predicted path whose live state diverges', async () => {
    const w = (await app.inject({ method: 'GET', url: '/why?src=h1&dst=h3', headers: auth(READ) })).json();
    expect(w).toMatchObject({ src: 'h1', dst: 'h3', predicted: 'routed', asIntended: true, firstDivergence: 'leaf1', probes: [], firewall: null });
    expect(w.answer).toMatch(/^predicted routed; live state first diverges at leaf1 \(\d+ findings?\)$/);
    expect(w.findings.map((f: { check: string }) => f.check)).toContain('live-collection');
    expect(w.incidents.length).toBeGreaterThan(0);
    expect((await app.inject({ method: 'GET', url: '/why?src=h1', headers: auth(READ) })).statusCode).toBe(400);
  });

  it('findings, events and incidents of the polls', async () => {
    const findings = (await app.inject({ method: 'GET', url: '/findings?check=live-collection', headers: auth(READ) })).json();
    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]).toMatchObject({ check: 'live-collection', severity: 'error', location: expect.stringMatching(/nodes\.yaml:\d+:\d+$/) });
    const events = (await app.inject({ method: 'GET', url: '/events?kind=collection-failed&limit=500', headers: auth(READ) })).json();
    expect(events.length).toBe(findings.length);
    const incidents = (await app.inject({ method: 'GET', url: '/incidents?status=open', headers: auth(READ) })).json();
    expect(incidents.length).toBeGreaterThan(0);
    const one = (await app.inject({ method: 'GET', url: `/incidents/${incidents[0].id}`, headers: auth(READ) })).json();
    expect(one.explains.length).toBe(incidents[0].findings.length);
    const ack = await app.inject({ method: 'POST', url: `/incidents/${incidents[0].id}/acknowledge`, headers: auth(WRITE) });
    expect(ack.json().acknowledged).toMatch(/^\d{4}-/);
    expect((await app.inject({ method: 'POST', url: '/incidents/inc-none/acknowledge', headers: auth(WRITE) })).statusCode).toBe(404);
  });

  it('metrics in Prometheus text format', async () => {
    const r = await app.inject({ method: 'GET', url: '/metrics', headers: auth(READ) });
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.body).toMatch(/^netloom_polls_total\{outcome="ok"\} 2$/m);
    expect(r.body).toMatch(/^netloom_check_passed\{check="live-collection"\} 0$/m);
    expect(r.body).toMatch(/^netloom_events_total\{kind="collection-failed"\} \d+$/m);
    expect(r.body).toMatch(/^netloom_poll_duration_seconds_count 2$/m);
  });
});

describe('event stream and restarts', () => {
  it('SSE: a client resuming with Last-Event-ID gets what it missed from the store, then live events', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const stored = monitor.store.events({ limit: 10_000 });
    expect(stored.length).toBeGreaterThan(2);
    const lastSeen = stored[1].id;
    const abort = new AbortController();
    const r = await fetch(`http://127.0.0.1:${port}/events/stream`, { headers: { ...auth(READ), 'last-event-id': String(lastSeen) }, signal: abort.signal });
    expect(r.status).toBe(200);
    const live = monitor.store.addEvent({ time: new Date().toISOString(), kind: 'probe-loss', severity: 'error', subject: 'live-one', message: 'published after connecting', evidence: {} });
    monitor.bus.publish(live);
    const reader = r.body!.getReader();
    let text = '';
    while (!text.includes(`id: ${live.id}\n`)) text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    // Everything after lastSeen, once each, in order, the live one last.
    expect(ids).toEqual([...stored.filter((e) => e.id > lastSeen).map((e) => e.id).sort((a, b) => a - b), live.id]);
    expect(text).toMatch(/^event: probe-loss\ndata: \{"id":\d+,.*"message":"published after connecting"/m);
  });

  it('a restarted monitor continues the open incidents with their ids and raises nothing it had announced', async () => {
    const open = monitor.openIncidents().map((i) => i.id).sort();
    expect(open.length).toBeGreaterThan(0);
    const lastId = monitor.store.events({ limit: 1 })[0].id;
    const again = new Monitor(monitor.model, monitor.fg, { collector: refusing, describe: 'refusing target' }, monitor.store, { probes: false });
    expect(again.openIncidents().map((i) => i.id).sort()).toEqual(open);
    const r = await again.pollOnce();
    expect(r.findings.size).toBe(monitor.latest!.findings.size);
    expect(again.openIncidents().map((i) => i.id).sort()).toEqual(open);
    expect(monitor.store.events({ after: lastId })).toEqual([]);
    await again.stop();
  });
});

describe('why, where the intent has firewall policies: their verdict for the pings', () => {
  const fwDir = mkdtempSync(path.join(tmpdir(), 'netloom-api-fw-'));
  let fwApp: FastifyInstance;
  let fwMonitor: Monitor;
  const start = async (src: string) => {
    ({ app: fwApp, monitor: fwMonitor } = await refusingService(src, path.join(fwDir, `${path.basename(src)}.db`), { read: READ, operate: OPERATE, admin: WRITE }));
  };
  const stop = async () => {
    await fwApp.close();
    await fwMonitor.stop();
    fwMonitor.store.close();
  };
  afterAll(() => rmSync(fwDir, { recursive: true, force: true }));

  it('fw2 accepts echo (rule echo): the verdict and its rule are in the reply', async () => {
    await start('intents/fw2');
    try {
      const w = (await fwApp.inject({ method: 'GET', url: '/why?src=web1&dst=db1', headers: auth(READ) })).json();
      expect(w.firewall).toMatchObject({ service: 'icmp/8', verdict: 'accepted' });
      expect(w.firewall.policies[0].decisions.map((d: { action: string; rule: string; location: string }) => `${d.action} ${d.rule} ${d.location}`)).toEqual(['accept echo intents/fw2/firewall.yaml:54:11']);
    } finally {
      await stop();
    }
  });

  it('without the echo rule the default drops the pings, and the answer says so', async () => {
    const copy = path.join(fwDir, 'fw2');
    cpSync('intents/fw2', copy, { recursive: true });
    const f = path.join(copy, 'firewall.yaml');
    const text = readFileSync(f, 'utf8');
    const edited = text.replace('        - name: echo\n          services: [echo]\n          action: accept\n', '');
    expect(edited).not.toBe(text);
    writeFileSync(f, edited);
    await start(copy);
    try {
      // Every device fails collection here, so the answer speaks of the firewall only on a path without findings: ask the model alone.
      const w = (await fwApp.inject({ method: 'GET', url: '/why?src=web1&dst=db1', headers: auth(READ) })).json();
      expect(w.firewall.verdict).toBe('denied');
      expect(w.firewall.policies[0].decisions.map((d: { action: string; rule: string }) => `${d.action} ${d.rule}`)).toEqual(['drop (default)']);
    } finally {
      await stop();
    }
  });
});
