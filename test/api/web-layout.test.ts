/**
 * The web view's layout (src/api/web/layout.js, the browser's own module) over GET /topology of
 * every example intent: every device, endpoint and service node placed, no two closer than
 * an endpoint's spacing, uplinks drawn upwards (each link's upper tier above its lower),
 * endpoints and service nodes below their leaf, sites side by side without sharing a column,
 * and the same picture twice.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/intent-copy.ts';
import { refusingService } from '../support/refusing-service.ts';

interface Topo {
  sites: { name: string }[];
  devices: { name: string; tier: number; site: string | null }[];
  links: { a: string; b: string }[];
  endpoints: { name: string; leaf: string }[];
  serviceNodes: { name: string; leaf: string }[];
}
type Pos = Map<string, { x: number; y: number; site: string | null }>;

const { layout, GAP } = (await import(new URL('../../src/api/web/layout.js', import.meta.url).href)) as { layout: (t: Topo) => Pos; GAP: { host: number } };
const dir = mkdtempSync(path.join(tmpdir(), 'netloom-layout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('web view layout', () => {
  for (const example of readdirSync(path.join(repoRoot, 'intents')).sort()) {
    it(`intents/${example}`, async () => {
      const { app, monitor } = await refusingService(`intents/${example}`, path.join(dir, `${example}.db`), { read: 'layout-read-token-0123456789abc' });
      try {
        const t = (await app.inject({ method: 'GET', url: '/topology', headers: { authorization: 'Bearer layout-read-token-0123456789abc' } })).json() as Topo;
        const pos = layout(t);
        const ids = [...t.devices.map((d) => d.name), ...t.serviceNodes.map((s) => s.name), ...t.endpoints.map((e) => `ep:${e.name}`)];
        expect(ids.filter((id) => !pos.has(id))).toEqual([]);
        const close = ids.flatMap((a, i) => ids.slice(i + 1).filter((b) => Math.hypot(pos.get(a)!.x - pos.get(b)!.x, pos.get(a)!.y - pos.get(b)!.y) < GAP.host - 1e-9).map((b) => `${a}/${b}`));
        expect(close).toEqual([]);
        const tier = new Map(t.devices.map((d) => [d.name, d.tier]));
        for (const l of t.links) {
          const [up, down] = tier.get(l.a)! <= tier.get(l.b)! ? [l.a, l.b] : [l.b, l.a];
          if (tier.get(up) !== tier.get(down)) expect(pos.get(up)!.y, `${up} above ${down}`).toBeLessThan(pos.get(down)!.y);
        }
        for (const x of [...t.endpoints.map((e) => [`ep:${e.name}`, e.leaf]), ...t.serviceNodes.map((s) => [s.name, s.leaf])]) expect(pos.get(x[0])!.y).toBeGreaterThan(pos.get(x[1])!.y);
        // Sites: each one's x range apart from every other's.
        const ranges = t.sites.map((s) => {
          const xs = [...pos.values()].filter((p) => p.site === s.name).map((p) => p.x);
          return [Math.min(...xs), Math.max(...xs)];
        });
        for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThan(ranges[i - 1][1]);
        expect(JSON.stringify([...layout(t)])).toBe(JSON.stringify([...pos]));
      } finally {
        await app.close();
        await monitor.stop();
        monitor.store.close();
      }
    });
  }
});
