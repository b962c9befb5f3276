/**
 * Every request and reply of the API as zod schemas, turned into JSON Schema (z.toJSONSchema)
 * for Fastify's validation and serialisation and for the OpenAPI document.
 */
import { z } from 'zod';

/** JSON Schema of a zod schema, without the $schema header Fastify and OpenAPI do not want. */
export function js(s: z.ZodType): Record<string, unknown> {
  const j = z.toJSONSchema(s, { target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>;
  delete j.$schema;
  return j;
}

const severity = z.enum(['error', 'warning', 'info']);
const anyObject = z.record(z.string(), z.unknown());

export const ErrorReply = z.object({ error: z.string(), message: z.string() });

export const DeviceName = z.object({ name: z.string().min(1).max(128) });

export const Finding = z.object({
  key: z.string(),
  check: z.string(),
  severity,
  message: z.string(),
  evidence: anyObject,
  location: z.string().nullable(),
  devices: z.array(z.string()),
  links: z.array(z.string()),
});

export const Event = z.object({
  id: z.number().int(),
  time: z.string(),
  kind: z.string(),
  severity,
  device: z.string().optional(),
  check: z.string().optional(),
  subject: z.string(),
  message: z.string(),
  evidence: anyObject,
  location: z.string().optional(),
  incident: z.string().optional(),
});

export const Incident = z.object({
  id: z.string(),
  status: z.enum(['open', 'resolved']),
  element: z.string(),
  summary: z.string(),
  severity,
  opened: z.string(),
  resolved: z.string().optional(),
  findings: z.array(z.string()),
  devices: z.array(z.string()),
  acknowledged: z.string().optional(),
  captures: z
    .array(
      z.object({
        n: z.number().int(),
        device: z.string(),
        interface: z.string(),
        seconds: z.number(),
        file: z.string().optional(),
        packets: z.number().int(),
        bytes: z.number().int(),
        protocols: z.record(z.string(), z.number()).optional(),
        bgpMessages: z.number().int(),
        ospfPackets: z.number().int(),
        error: z.string().optional(),
        findings: z.array(z.object({ severity, category: z.string(), message: z.string(), packets: z.array(z.number().int()).optional() })),
      }),
    )
    .optional()
    .describe('packet captures on the failed element taken when the incident opened, with their pcap analyze findings'),
});

export const IncidentDetail = Incident.extend({ explains: z.array(Finding) });

export const Status = z.object({
  fabric: z.string(),
  revision: z.string(),
  target: z.string(),
  periodMs: z.number().describe('the poller\'s tick: the shortest period of any device'),
  polling: z.object({ defaultMs: z.number(), roles: z.record(z.string(), z.number()), source: z.string() }).describe('poll period per device role and where it came from (intent, command line, default)'),
  recovery: z.object({ drift: z.enum(['off', 'alert', 'reapply']), forwarding: z.enum(['off', 'resync']), minIntervalMs: z.number(), maxPerHour: z.number().int(), maxResyncsPerHour: z.number().int(), source: z.record(z.string(), z.string()) }).describe('the recovery policy in force and where each key came from'),
  lastPoll: z
    .object({
      seq: z.number().int(),
      time: z.string(),
      ms: z.number(),
      failing: z.number().int(),
      pending: z.number().int().describe('devices not observed yet: the first full read admits a few devices a poll'),
      owedTables: z.number().int().describe('default tables that changed and wait for a later poll (a budget of reads a poll); their devices are judged by the tables read before'),
    })
    .nullable(),
  openIncidents: z.number().int(),
  tableReads: z
    .object({ admit: z.number().int(), refresh: z.number().int(), changed: z.number().int() })
    .describe('default tables read a poll: devices admitted until all are, tables re-read for their slow refresh, routes of the tables whose version moved (the rest owed)'),
});

export const CheckRow = z.object({ id: z.string(), title: z.string(), layer: z.string(), passed: z.boolean(), errors: z.number().int(), warnings: z.number().int(), examined: z.string() });

export const DeviceRow = z.object({ name: z.string(), role: z.string(), platform: z.string(), findings: z.number().int(), openIncidents: z.array(z.string()) });

export const DeviceDetail = DeviceRow.extend({ loopback: z.string().nullable(), vtep: z.string().nullable(), asn: z.number().nullable(), location: z.string(), findingList: z.array(Finding), collectionErrors: z.record(z.string(), z.string()) });

export const BgpView = z.object({
  device: z.string(),
  observedAt: z.string().nullable(),
  expected: z.array(z.object({
    session: z.string(), peer: z.string(), neighbor: z.string(), afiSafis: z.array(z.string()), location: z.string(),
    observed: z.array(z.object({ afi: z.string(), state: z.string(), prefixesReceived: z.number().nullable() })),
  })),
  unexpected: z.array(z.object({ peer: z.string(), vrf: z.string(), afi: z.string(), state: z.string() })),
});

const where = z.object({ type: z.string(), where: z.string() });
export const EvpnView = z.object({
  device: z.string(),
  observedAt: z.string().nullable(),
  vnis: z.array(z.object({
    vni: z.number().int(),
    expected: z.object({ type: z.string(), remoteVteps: z.array(z.string()) }),
    observed: z.object({ type: z.string(), state: z.string().nullable(), remoteVteps: z.array(z.string()) }).nullable(),
    agrees: z.boolean(),
    location: z.string(),
  })),
  macs: z.array(z.object({ vni: z.number().int(), mac: z.string(), endpoint: z.string(), expected: where, observed: where.nullable(), agrees: z.boolean() })),
});

export const RoutesQuery = z.object({ vrf: z.string().max(64).optional() });
export const RoutesView = z.object({
  device: z.string(),
  observedAt: z.string().nullable(),
  routes: z.array(z.object({
    vrf: z.string(),
    prefix: z.string(),
    expected: z.object({ protocol: z.string(), nextHops: z.array(z.unknown()), origin: z.string() }).nullable(),
    observed: z.object({ protocol: z.string(), nextHops: z.number().int() }).nullable(),
    agrees: z.boolean(),
  })),
});

export const InterfacesView = z.object({
  device: z.string(),
  observedAt: z.string().nullable(),
  interfaces: z.array(z.object({
    name: z.string(),
    kind: z.string(),
    location: z.string(),
    expected: z.object({ ipv4: z.string().nullable(), ipv6: z.string().nullable(), mtu: z.number(), peer: z.string().nullable().describe('device:interface at the other end of a fabric link'), vlans: z.array(z.number().int()), endpoints: z.array(z.string()), sessions: z.number().int().describe('BGP sessions the model runs over the interface') }),
    observed: z.object({
      sessions: z.array(z.object({ peer: z.string(), afi: z.string(), state: z.string() })),
      ospf: z.string().nullable(),
      routesVia: z.number().int().describe('observed routes with a next hop out of the interface'),
      macs: z.number().int().describe('EVPN MACs learned locally on the interface'),
    }).nullable().describe('control-plane evidence of the last poll (null before one, or when the device answered nothing)'),
    kernel: z.object({
      exists: z.boolean().describe('the kernel has an interface of this name (the fields below are null when not)'),
      up: z.boolean().describe('admin up, carrier, and no down operational state'),
      admin: z.enum(['up', 'down']).nullable(),
      carrier: z.boolean().nullable(),
      oper: z.string().nullable().describe('operational state (RFC 2863) as the kernel says it: UP, DOWN, UNKNOWN...'),
      mtu: z.number().int().nullable(),
      mac: z.string().nullable(),
      master: z.string().nullable().describe('the bridge the interface is enslaved to'),
      counters: z.object({ rxPackets: z.number(), rxBytes: z.number(), rxErrors: z.number(), rxDropped: z.number(), txPackets: z.number(), txBytes: z.number(), txErrors: z.number(), txDropped: z.number() }).nullable(),
      growth: z.record(z.string(), z.number()).nullable().describe('error and drop counters that grew since the poll before, by how much (null: no poll before)'),
    }).nullable().describe('the interface in the device\'s kernel at the last poll (`ip -j -s link show`; null: not read, e.g. a collector without shell access)'),
    agrees: z.boolean().nullable().describe('null: nothing to observe for this kind (loopback, management, unused port)'),
  })),
  kernelNotRead: z.string().nullable().describe('why the kernel\'s interfaces were not read at the last poll (null: read)'),
});

export const PathsQuery = z.object({
  src: z.string().min(1).max(128),
  dst: z.string().min(1).max(128),
  proto: z.enum(['tcp', 'udp', 'icmp', 'icmpv6']).optional(),
  port: z.number().int().min(0).max(65535).optional(),
});
export const PathsReply = z.object({
  src: z.string(),
  dst: z.string(),
  forwarding: z.string(),
  expected: z.string(),
  asIntended: z.boolean(),
  reason: z.string().nullable(),
  vni: z.number().nullable(),
  ecmp: z.number().int(),
  hops: z.array(z.object({ kind: z.string(), text: z.string(), devices: z.array(z.string()) })),
  /** Devices on the path with open incidents or findings now (live state over the prediction). */
  liveProblems: z.array(z.object({ device: z.string(), findings: z.number().int(), incidents: z.array(z.string()) })),
  firewall: z.object({ service: z.string(), verdict: z.string(), policies: z.array(anyObject) }).nullable(),
});

export const ReachabilityQuery = z.object({
  src: z.string().min(1).max(128).optional(),
  dst: z.string().min(1).max(128).optional(),
  /** Only pairs where prediction and observation disagree, or the prediction is not what the intent asks. */
  problems: z.boolean().optional(),
  limit: z.number().int().min(1).max(100000).optional(),
});
export const ReachabilityReply = z.object({
  /** The last poll the observed column comes from (null before the first). */
  poll: z.object({ seq: z.number().int(), time: z.string() }).nullable(),
  pairs: z.number().int(),
  disagreeing: z.number().int(),
  notAsIntended: z.number().int(),
  rows: z.array(z.object({
    src: z.string(),
    dst: z.string(),
    address: z.string(),
    /** What the intent asks, and what the configuration gives (the reachability prediction). */
    expected: z.string(),
    predicted: z.string(),
    asIntended: z.boolean(),
    /** Whether a ping is predicted to answer (the live probes' own prediction). */
    answers: z.boolean(),
    /** The last poll's ping of the pair: answered, unanswered, or not probed. */
    observed: z.enum(['answered', 'unanswered', 'not probed']),
    /** Prediction and observation agree (null when not probed). */
    agrees: z.boolean().nullable(),
    devices: z.array(z.string()),
  })),
  truncated: z.boolean(),
});

export const FindingsQuery = z.object({ device: z.string().max(128).optional(), check: z.string().max(128).optional() });
export const EventsQuery = z.object({
  after: z.number().int().min(0).optional(),
  since: z.string().max(40).optional(),
  kind: z.string().max(64).optional(),
  device: z.string().max(128).optional(),
  limit: z.number().int().min(1).max(10000).optional(),
});
export const IncidentsQuery = z.object({ status: z.enum(['open', 'resolved']).optional(), device: z.string().max(128).optional() });
export const IncidentId = z.object({ id: z.string().min(1).max(64) });
export const CaptureRef = IncidentId.extend({ n: z.number().int().min(1).max(64) });
export const HistoryQuery = z.object({ limit: z.number().int().min(1).max(10000).optional() });
export const HistoryRow = z.object({ time: z.string(), ms: z.number(), failing: z.number().int(), checks: z.record(z.string(), z.number()) });
export const AuditRow = z.object({ time: z.string(), actor: z.string(), action: z.string(), target: z.string(), outcome: z.string() });
export const PollReply = z.object({ seq: z.number().int(), time: z.string(), ms: z.number(), failing: z.number().int(), openIncidents: z.number().int() });

export const WhyReply = z.object({
  src: z.string(),
  dst: z.string(),
  /** What the model predicts for the pair, and whether the intent asks for it. */
  predicted: z.string(),
  asIntended: z.boolean(),
  /** One line: the answer. */
  answer: z.string(),
  /** The first device on the predicted path (source side) with findings now. */
  firstDivergence: z.string().nullable(),
  findings: z.array(Finding),
  incidents: z.array(z.string()),
  /** What the packet captures of those incidents showed, finding by finding. */
  captureEvidence: z.array(z.object({ incident: z.string(), device: z.string(), interface: z.string(), severity, message: z.string() })),
  /** The last poll's pings between the two endpoints. */
  probes: z.array(z.object({ family: z.number().int(), address: z.string(), answered: z.boolean(), detail: z.string().nullable() })),
  /** Where the intent has firewall policies: their verdict for the pings (ICMP echo), with the deciding rules. */
  firewall: z.object({ service: z.string(), verdict: z.string(), policies: z.array(anyObject) }).nullable(),
});
