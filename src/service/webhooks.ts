/**
 * Event delivery to webhooks: `json` posts every event as it is stored ({"event": ...});
 * `alertmanager` posts Alertmanager v2 alerts (POST /api/v2/alerts body) for incidents,
 * flapping and anomalies, firing when they open and with endsAt when they end. One queue per
 * hook keeps the order; each post has 5 s and one retry; a failure is reported, never thrown.
 */
import type { EventBus } from './bus.ts';
import type { ServiceEvent } from './store.ts';

export type WebhookFormat = 'json' | 'alertmanager';

export interface Webhook {
  url: string;
  format: WebhookFormat;
}

/** Alert identity per event kind: which events open and which close the same alert. */
const ALERTS: Record<string, { name: string; firing: boolean }> = {
  'incident-opened': { name: 'NetloomIncident', firing: true },
  'incident-resolved': { name: 'NetloomIncident', firing: false },
  flapping: { name: 'NetloomFlapping', firing: true },
  'flap-settled': { name: 'NetloomFlapping', firing: false },
  anomaly: { name: 'NetloomAnomaly', firing: true },
  'anomaly-cleared': { name: 'NetloomAnomaly', firing: false },
};

export function alertmanagerAlerts(e: ServiceEvent, fabric: string): unknown[] | undefined {
  const a = ALERTS[e.kind];
  if (!a) return undefined;
  const labels: Record<string, string> = { alertname: a.name, fabric, subject: e.subject, ...(e.device ? { device: e.device } : {}), severity: a.firing ? e.severity : 'info' };
  // A resolving event carries the opening severity nowhere: keep the label stable instead.
  if (!a.firing) delete labels.severity;
  return [{ labels, annotations: { summary: e.message, ...(e.location ? { location: e.location } : {}), event: String(e.id) }, ...(a.firing ? { startsAt: e.time } : { endsAt: e.time }) }];
}

/** Where a hook posts, without credentials or query (for messages). */
export function hookName(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export function attachWebhooks(bus: EventBus, hooks: Webhook[], fabric: string, report: (message: string) => void): () => void {
  const unsubs = hooks.map((h) => {
    let chain = Promise.resolve();
    return bus.subscribe((e) => {
      const body = h.format === 'json' ? { event: e } : alertmanagerAlerts(e, fabric);
      if (!body) return;
      chain = chain.then(() => post(h.url, body).catch((err: Error) => report(`webhook ${hookName(h.url)}: event ${e.id} not delivered: ${err.message}`)));
    });
  });
  return () => unsubs.forEach((u) => u());
}

async function post(url: string, body: unknown): Promise<void> {
  // fetch refuses URLs with credentials: they travel as basic authentication instead.
  const u = new URL(url);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (u.username || u.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await fetch(u, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
      if (r.ok) return;
      throw new Error(`HTTP ${r.status}`);
    } catch (e) {
      if (attempt >= 1) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
