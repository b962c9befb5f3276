/** Webhook delivery to a real HTTP server on loopback: generic JSON, Alertmanager v2 alerts, failures reported without credentials. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/service/bus.ts';
import type { ServiceEvent } from '../../src/service/store.ts';
import { attachWebhooks } from '../../src/service/webhooks.ts';

const received: { path: string; body: unknown; auth?: string }[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += String(d)));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(body), auth: req.headers.authorization });
      res.writeHead(req.url === '/fail' ? 500 : 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const ev = (id: number, kind: string, over: Partial<ServiceEvent> = {}): ServiceEvent => ({ id, time: `2026-01-01T00:00:0${id}.000Z`, kind, severity: 'error', device: 'leaf1', subject: 'inc-abc', message: `${kind} message`, evidence: {}, location: 'fabric.yaml:1:1', ...over });

async function until(f: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 25));
}

describe('webhooks', () => {
  it('posts every event as JSON in order, and incidents as Alertmanager alerts firing then resolved', async () => {
    const bus = new EventBus();
    const detach = attachWebhooks(bus, [{ url: `${base}/json`, format: 'json' }, { url: `${base}/am`, format: 'alertmanager' }], 'dc1', () => {});
    bus.publish(ev(1, 'bgp-session-down', { subject: 'k' }));
    bus.publish(ev(2, 'incident-opened'));
    bus.publish(ev(3, 'incident-resolved', { severity: 'info' }));
    await until(() => received.length >= 5);
    detach();
    expect(received.filter((r) => r.path === '/json').map((r) => (r.body as { event: ServiceEvent }).event.id)).toEqual([1, 2, 3]);
    const am = received.filter((r) => r.path === '/am').map((r) => r.body);
    expect(am).toEqual([
      [{ labels: { alertname: 'NetloomIncident', fabric: 'dc1', subject: 'inc-abc', device: 'leaf1', severity: 'error' }, annotations: { summary: 'incident-opened message', location: 'fabric.yaml:1:1', event: '2' }, startsAt: '2026-01-01T00:00:02.000Z' }],
      [{ labels: { alertname: 'NetloomIncident', fabric: 'dc1', subject: 'inc-abc', device: 'leaf1' }, annotations: { summary: 'incident-resolved message', location: 'fabric.yaml:1:1', event: '3' }, endsAt: '2026-01-01T00:00:03.000Z' }],
    ]);
  });

  it('sends URL credentials as basic authentication, reports a failed delivery after one retry without them', async () => {
    const bus = new EventBus();
    const reports: string[] = [];
    const url = new URL(`${base}/fail`);
    url.username = 'user';
    url.password = 'secret';
    attachWebhooks(bus, [{ url: url.toString(), format: 'json' }], 'dc1', (m) => reports.push(m));
    const before = received.filter((r) => r.path === '/fail').length;
    bus.publish(ev(9, 'probe-loss'));
    await until(() => reports.length > 0);
    const posts = received.filter((r) => r.path === '/fail').slice(before);
    expect(posts.map((r) => r.auth)).toEqual([`Basic ${Buffer.from('user:secret').toString('base64')}`, `Basic ${Buffer.from('user:secret').toString('base64')}`]);
    expect(reports).toEqual([`webhook ${base}/fail: event 9 not delivered: HTTP 500`]);
    expect(reports[0]).not.toContain('secret');
  });
});
