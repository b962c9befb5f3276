/**
 * `verify --live` for GSLB: from inside each DNS server's namespace, probe every member the way
 * its name's health check does (TCP connect, or HTTP GET with the expected status and content),
 * ask the server every name (topology names once per rule, with the rule's first subnet as EDNS
 * Client Subnet, and once without), and compare each real answer with predictAnswer given the
 * probed health. The probe results are the health state PowerDNS does not export (PowerDNS
 * issue 15998): gslbMetrics renders them in Prometheus text format.
 */
import type { FabricModel } from '../../model/types.ts';
import { labExec } from '../../lab/index.ts';
import type { LiveTarget } from '../../verify/live/run.ts';
import type { CheckInfo, CheckResult, Finding } from '../../verify/findings.ts';
import type { GslbDnsServer, GslbHealthCheck, GslbModel, RecordType } from './model.ts';
import { poolAddresses, predictAnswer, type PredictedAnswer } from './predict.ts';
import { predictedChecks } from './health-reach.ts';

export type Exec = (argv: string[]) => Promise<{ code: number; stdout: string; stderr?: string }>;

export interface MemberProbe {
  check: string;
  address: string;
  port: number;
  up: boolean;
  detail?: string;
}

export interface AnswerObservation {
  name: string;
  type: RecordType;
  subnet?: string;
  answer: string[];
}

export interface GslbServerObservation {
  server: string;
  error?: string;
  probes: MemberProbe[];
  answers: AnswerObservation[];
  /** Members whose probe result changed between the probes before and after the queries. */
  unstable: string[];
}

export const LIVE_GSLB_ANSWERS: CheckInfo = {
  id: 'live-gslb-answers', title: 'GSLB answers match the model for the probed member health', kind: 'live', layer: 'endpoint', severity: 'error',
  description: "every GSLB name, asked of each DNS server (topology names from each rule's subnet by EDNS Client Subnet), answers what predictAnswer says for the member health probed from the server",
};

export const LIVE_GSLB_HEALTH: CheckInfo = {
  id: 'live-gslb-health', title: "each DNS server's health checks reach the members or are dropped as the model predicts", kind: 'live', layer: 'endpoint', severity: 'error',
  description: "every health check a DNS server sends to a member the fabric holds reaches it, except those a firewall policy drops (gslb-health-reach), which must get no answer; members given as bare addresses are not predicted",
};

/** A Node script run inside the server's namespace: probes as JSON on stdout. */
const PROBE = `
const net = require('node:net'), http = require('node:http');
const probes = JSON.parse(process.argv[1]);
const one = (p) => new Promise((res) => {
  const done = (up, detail) => res({ check: p.check, address: p.address, port: p.port, up, ...(detail ? { detail } : {}) });
  if (p.type === 'tcp') {
    const s = net.connect({ host: p.address, port: p.port, timeout: p.timeoutMs });
    s.on('connect', () => { s.destroy(); done(true); });
    s.on('timeout', () => { s.destroy(); done(false, 'timeout'); });
    s.on('error', (e) => done(false, e.code));
    return;
  }
  const q = http.get({ host: p.address, port: p.port, path: p.path, headers: { host: p.host }, timeout: p.timeoutMs }, (r) => {
    let body = '';
    r.on('data', (d) => { body += d; });
    r.on('end', () => done(r.statusCode === p.status && (!p.content || body.includes(p.content)), 'status ' + r.statusCode));
  });
  q.on('timeout', () => { q.destroy(); done(false, 'timeout'); });
  q.on('error', (e) => done(false, e.code));
});
Promise.all(probes.map(one)).then((r) => process.stdout.write(JSON.stringify(r)));
`;

interface ProbeSpec { check: string; type: 'tcp' | 'http'; address: string; port: number; path: string; host: string; status: number; content?: string; timeoutMs: number }

function probeSpecs(m: GslbModel): ProbeSpec[] {
  const out = new Map<string, ProbeSpec>();
  for (const n of m.names) {
    const h = m.healthChecks.find((x) => x.name === n.health);
    if (!h) continue;
    for (const t of n.types) {
      for (const p of poolAddresses(m, n, t)) {
        for (const a of p.addresses) out.set(`${h.name} ${a.address}`, { check: h.name, type: h.type, address: a.address, port: h.port, path: h.path, host: n.name, status: h.expectStatus, content: h.expectContent, timeoutMs: h.timeoutMs });
      }
    }
  }
  return [...out.values()];
}

/** The queries of a live round: each name and type, topology names once per rule subnet and once plain. */
export function liveQueries(m: GslbModel): { name: string; type: RecordType; subnet?: string }[] {
  return m.names.flatMap((n) => n.types.flatMap((type) => [{ name: n.name, type }, ...n.topology.map((r) => ({ name: n.name, type, subnet: r.subnets[0] }))]));
}

const hostOf = (c: string) => c.split('/')[0];

/** One DNS server's observation, through `exec` (argv run inside its namespace). */
export async function observeServer(m: GslbModel, server: GslbDnsServer, exec: Exec): Promise<GslbServerObservation> {
  const specs = probeSpecs(m);
  const probe = async (): Promise<MemberProbe[]> => {
    if (!specs.length) return [];
    const r = await exec(['node', '-e', PROBE, JSON.stringify(specs)]);
    if (r.code !== 0) throw new Error(`member probes failed: ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
    return JSON.parse(r.stdout) as MemberProbe[];
  };
  try {
    const before = await probe();
    const queries = liveQueries(m);
    const at = hostOf(server.ipv4 ?? server.ipv6!);
    const argv = ['dig', `@${at}`, '+noall', '+answer', '+comments', '+tries=1', '+time=2', ...queries.flatMap((q) => [q.name, q.type, ...(q.subnet ? [`+subnet=${q.subnet}`] : [])])];
    const r = await exec(argv);
    const answers: string[][] = [];
    for (const line of r.stdout.split('\n')) {
      if (line.includes('->>HEADER<<-')) answers.push([]);
      const x = /\sIN\s+(A|AAAA)\s+(\S+)$/.exec(line);
      if (x && answers.length) answers[answers.length - 1].push(x[2]);
    }
    if (answers.length !== queries.length) throw new Error(`dig answered ${answers.length} of ${queries.length} queries${r.stderr ? `: ${r.stderr.trim().split('\n')[0]}` : ''}`);
    const after = await probe();
    const unstable = after.filter((p) => before.find((b) => b.check === p.check && b.address === p.address)?.up !== p.up).map((p) => `${p.address} (${p.check})`);
    return { server: server.name, probes: after, answers: queries.map((q, i) => ({ ...q, answer: answers[i] })), unstable };
  } catch (e) {
    return { server: server.name, error: (e as Error).message, probes: [], answers: [], unstable: [] };
  }
}

const same = (answer: string[], p: PredictedAnswer): boolean =>
  p.kind === 'all' ? [...answer].sort().join(',') === [...p.addresses].sort().join(',') : answer.length === 1 && p.weights.some(([a]) => a === answer[0]);
const predictedText = (p: PredictedAnswer) => (p.kind === 'all' ? p.addresses.join(', ') || '(none)' : `one of ${p.weights.map(([a, w]) => `${a} (weight ${w})`).join(', ')}`);

/** Observations + model -> the live-gslb-answers result: pure. */
export function compareGslb(model: FabricModel, observed: GslbServerObservation[]): CheckResult[] {
  const m = model.domains.gslb as GslbModel | undefined;
  const findings: Finding[] = [];
  let compared = 0;
  for (const o of observed) {
    const server = m?.servers.find((s) => s.name === o.server);
    if (o.error) {
      findings.push({ check: LIVE_GSLB_ANSWERS.id, severity: 'error', message: `DNS server ${o.server}: ${o.error}`, evidence: { server: o.server }, location: server?.source });
      continue;
    }
    for (const a of o.answers) {
      const n = m!.names.find((x) => x.name === a.name)!;
      const h: GslbHealthCheck | undefined = m!.healthChecks.find((x) => x.name === n.health);
      const down = new Set(o.probes.filter((p) => p.check === h?.name && !p.up).map((p) => p.address));
      const p = predictAnswer(m!, { name: a.name, type: a.type, client: a.subnet ? hostOf(a.subnet) : server && hostOf(server.ipv4 ?? server.ipv6!), down });
      compared++;
      if (same(a.answer, p)) continue;
      const flapping = o.unstable.length > 0;
      findings.push({
        check: LIVE_GSLB_ANSWERS.id, severity: flapping ? 'warning' : 'error',
        message: `DNS server ${o.server}: ${a.name} ${a.type}${a.subnet ? ` for ${a.subnet}` : ''} answered ${a.answer.join(', ') || '(nothing)'}; the model predicts ${predictedText(p)}${down.size ? ` with ${[...down].join(', ')} down` : ''}${flapping ? ` (member health changed during the round: ${o.unstable.join(', ')})` : ''}`,
        evidence: { server: o.server, name: a.name, type: a.type, ...(a.subnet ? { subnet: a.subnet } : {}), answer: a.answer, predicted: p, down: [...down] },
        location: n.source,
      });
    }
  }
  const details = observed.flatMap((o) => o.probes.map((p) => `${o.server}: ${p.address}:${p.port} (${p.check}) ${p.up ? 'up' : `down${p.detail ? ` (${p.detail})` : ''}`}`));
  return [
    { check: LIVE_GSLB_ANSWERS, passed: !findings.some((f) => f.severity === 'error'), findings, examined: m ? `${compared} answers from ${observed.length} DNS server(s)` : 'no gslb section', details, ms: 0 },
    compareHealth(model, m, observed),
  ];
}

/**
 * The probed member health against what the network model predicts of the check's packets.
 * A check a policy drops (gslb-health-reach) must not answer: a member up, or an HTTP status
 * back, is a policy that is not the one the model reasons with. Any other check of a member
 * the fabric holds (an endpoint, a VIP) must reach it: a timeout or an unreachable network is an
 * error; a refused connection or another status reached a member that is not serving, which
 * is the member's state (live-gslb-answers follows it), not a prediction. Members given as bare
 * addresses are outside the fabric: nothing is predicted of them.
 */
function compareHealth(model: FabricModel, m: GslbModel | undefined, observed: GslbServerObservation[]): CheckResult {
  const findings: Finding[] = [];
  const predicted = m ? predictedChecks(model, m) : new Map();
  const n = { probes: 0, dropped: 0, notServing: 0, outside: 0 };
  for (const o of observed) {
    if (o.error) continue; // live-gslb-answers names the server
    for (const p of o.probes) {
      const c = predicted.get(`${o.server}|${p.address}|${p.port}`);
      if (!c) continue;
      if (c.member.kind === 'address') {
        n.outside++;
        continue;
      }
      n.probes++;
      const answered = p.up || /^status /.test(p.detail ?? '');
      const reached = answered || p.detail === 'ECONNREFUSED';
      let wrong: string | undefined;
      if (c.denied) {
        n.dropped++;
        if (answered) wrong = `${p.up ? 'answered' : `got ${p.detail}`}; the model predicts the policies drop it (${c.denied})`;
      } else if (!reached) wrong = `failed${p.detail ? ` (${p.detail})` : ''}; the model predicts it reaches the member`;
      else if (!p.up) n.notServing++;
      if (!wrong) continue;
      const unstable = o.unstable.includes(`${p.address} (${p.check})`);
      findings.push({
        check: LIVE_GSLB_HEALTH.id, severity: unstable ? 'warning' : 'error',
        message: `DNS server ${o.server}: the ${p.check} check of ${p.address}:${p.port} (${c.member.ref}) ${wrong}${unstable ? ' (its health changed during the round)' : ''}`,
        evidence: { server: o.server, address: p.address, port: p.port, member: c.member.ref, observed: p.up ? 'up' : `down${p.detail ? ` (${p.detail})` : ''}`, predicted: c.denied ? 'dropped' : 'reaches', ...(c.denied ? { denied: c.denied } : {}) },
        location: c.member.source,
      });
    }
  }
  const extra = [n.notServing ? `${n.notServing} reached a member not serving` : '', n.outside ? `${n.outside} to addresses outside the fabric, not predicted` : ''].filter(Boolean);
  const examined = `${n.probes} health checks (${n.dropped} dropped by policy${findings.length ? '' : ', as predicted'}${extra.map((x) => `; ${x}`).join('')})`;
  return { check: LIVE_GSLB_HEALTH, passed: !findings.some((f) => f.severity === 'error'), findings, examined: m ? examined : 'no gslb section', ms: 0 };
}

/** The probed member health in Prometheus text format (what PowerDNS itself does not export). */
export function gslbMetrics(observed: GslbServerObservation[]): string {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const lines = ['# HELP netloom_gslb_member_up Health of a GSLB member as probed from its DNS server (1 up, 0 down).', '# TYPE netloom_gslb_member_up gauge'];
  for (const o of observed) for (const p of o.probes) lines.push(`netloom_gslb_member_up{server="${esc(o.server)}",check="${esc(p.check)}",address="${esc(p.address)}",port="${p.port}"} ${p.up ? 1 : 0}`);
  return `${lines.join('\n')}\n`;
}

/** Every DNS server's observation from a running lab, where the servers are nodes named as in the intent. */
export async function collectGslb(target: LiveTarget, model: FabricModel): Promise<GslbServerObservation[]> {
  const m = model.domains.gslb as GslbModel | undefined;
  if (!m) return [];
  return Promise.all(
    m.servers.map((s) => {
      const lab = target.lab;
      if (!lab) return { server: s.name, error: `live GSLB checks query the servers from inside a lab (${target.describe} is not one)`, probes: [], answers: [], unstable: [] };
      if (!lab.nodes.some((n) => n.name === s.name)) return { server: s.name, error: `DNS server ${s.name} is not a node of lab ${lab.name}`, probes: [], answers: [], unstable: [] };
      return observeServer(m, s, (argv) => labExec(lab, s.name, argv, { timeoutMs: 30_000 }));
    }),
  );
}
