/**
 * What the service keeps: events, incidents, verification history, state snapshots and the
 * audit log. One interface, so a server database can replace the embedded SQLite store
 * (src/service/sqlite-store.ts) without touching the poller or the API.
 */
import type { Finding, Severity } from '../verify/findings.ts';

export interface ServiceEvent {
  id: number;
  /** ISO 8601. */
  time: string;
  /** e.g. bgp-session-down, finding-cleared, incident-opened, anomaly, flapping. */
  kind: string;
  severity: Severity;
  device?: string;
  check?: string;
  /** The finding key or incident id the event is about. */
  subject: string;
  message: string;
  evidence: Record<string, unknown>;
  /** Intent file:line behind the object at fault. */
  location?: string;
  incident?: string;
}

/** An event as the poller stores it: with a finding event, the finding and its announced state after it. */
export interface NewEvent extends Omit<ServiceEvent, 'id'> {
  finding?: { value: Finding; present: boolean };
}

export interface EventQuery {
  /** Events with id > after (SSE resume, paging). */
  after?: number;
  since?: string;
  kind?: string;
  device?: string;
  limit?: number;
}

export interface Incident {
  id: string;
  status: 'open' | 'resolved';
  /** The failed element that explains the findings: "link:a:if--b:if", "device:x", "endpoint:e". */
  element: string;
  summary: string;
  severity: Severity;
  opened: string;
  resolved?: string;
  /** Keys of the findings it explains (the latest set while open). */
  findings: string[];
  devices: string[];
  acknowledged?: string;
  /** Packet captures taken on the failed element when the incident opened, with their findings. */
  captures?: IncidentCapture[];
}

/** One capture on one interface of an incident's element (src/service/incident-capture.ts). */
export interface IncidentCapture {
  /** 1-based; GET /incidents/{id}/captures/{n} serves the file. */
  n: number;
  device: string;
  interface: string;
  seconds: number;
  /** Relative to the state directory; absent when the interface could not be captured. */
  file?: string;
  packets: number;
  bytes: number;
  protocols?: Record<string, number>;
  /** BGP messages decoded (keepalives included) and OSPF packets: the control plane the link carried. */
  bgpMessages: number;
  ospfPackets: number;
  /** Why there is no capture (tcpdump's words). */
  error?: string;
  /** `pcap analyze` findings, and the service's own (no control-plane packet where the model runs a session). */
  findings: { severity: Severity; category: string; message: string; packets?: number[] }[];
}

export interface VerificationRecord {
  time: string;
  ms: number;
  failing: number;
  /** check id -> number of error findings. */
  checks: Record<string, number>;
}

export interface AuditEntry {
  time: string;
  /** The token role that acted (never the token). */
  actor: string;
  action: string;
  target: string;
  outcome: string;
}

export interface ServiceStore {
  addEvent(e: NewEvent): ServiceEvent;
  /** Findings announced present by the last finding event of each subject (restart). */
  announcedFindings(): Map<string, Finding>;
  events(q?: EventQuery): ServiceEvent[];
  putIncident(i: Incident): void;
  incidents(q?: { status?: Incident['status']; device?: string }): Incident[];
  incident(id: string): Incident | undefined;
  addVerification(r: VerificationRecord): void;
  verifications(limit?: number): VerificationRecord[];
  addSnapshot(time: string, state: unknown): number;
  latestSnapshot(): { id: number; time: string; state: unknown } | undefined;
  audit(e: AuditEntry): void;
  auditLog(limit?: number): AuditEntry[];
  /** Schema version (number of migrations applied). */
  readonly version: number;
  close(): void;
}
