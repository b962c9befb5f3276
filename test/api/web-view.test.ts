/**
 * The web view in real headless Chromium (Debian's, driven by playwright-core) over the API of
 * a multi-site model (intents/mdc: two sites, WAN routers, border leaves, load balancers, DNS
 * servers) whose target answers nothing: one box per site holding its devices, WAN routers
 * above them, no two nodes overlapping, stable positions; a device's tabs with every expected
 * row marked as a mismatch (nothing observed); a path query highlighting its ECMP layers;
 * stored text shown as text, never as markup; the token in sessionStorage only; no request
 * leaves the service; on fw2, a path query with a port shows the firewall's verdict and rule.
 * The lab-backed browser test is in test/api/serve-lab.test.ts.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Monitor } from '../../src/service/monitor.ts';
import { inCI } from '../support/ci.ts';
import { refusingService } from '../support/refusing-service.ts';

const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM) && !inCI) process.stdout.write(`web-view: skipped, no Chromium at ${CHROMIUM}\n`);
const READ = 'web-view-read-token-0123456789ab';
const HOSTILE = '<img src=x onerror="window.pwned=1">';

interface Box { id: string; parent: string | null; x1: number; x2: number; y1: number; y2: number }

describe.skipIf(!existsSync(CHROMIUM) && !inCI)('web view on a multi-site model (mdc) in Chromium', () => {
  let dir: string;
  let app: FastifyInstance;
  let monitor: Monitor;
  let browser: Browser;
  let page: Page;
  let base: string;
  const errors: string[] = [];
  const foreign: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'netloom-web-'));
    ({ app, monitor } = await refusingService('intents/mdc', path.join(dir, 'netloom.db'), { read: READ }, { poll: true }));
    monitor.store.addEvent({ time: new Date().toISOString(), kind: 'test-note', severity: 'warning', subject: 'x', message: HOSTILE, evidence: {} });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await open(base, 14);
  }, 60_000);

  /** The view of the service at `at`, logged in, once its graph holds `devices` devices. */
  async function open(at: string, devices: number): Promise<Page> {
    // The page's CSP forbids eval; Playwright evaluates the string expressions below with it.
    const p = await browser.newPage({ viewport: { width: 1400, height: 900 }, bypassCSP: true });
    p.on('pageerror', (e) => errors.push(e.message));
    p.on('request', (r) => void (new URL(r.url()).origin !== at && !r.url().startsWith('blob:') && foreign.push(r.url())));
    await p.goto(`${at}/ui/`);
    await p.fill('#token', READ);
    await p.click('#go');
    await p.waitForFunction(`window.netloomCy && netloomCy.nodes(".device").length === ${devices}`, null, { timeout: 15_000 });
    return p;
  }

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await monitor?.stop();
    monitor?.store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('one box per site with its devices, WAN routers above both, no two nodes overlapping; a screenshot', async () => {
    // NETLOOM_TEST_ARTIFACTS keeps the screenshots for a person to look at.
    const shot = path.join(process.env.NETLOOM_TEST_ARTIFACTS ?? dir, 'web-mdc.png');
    await page.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(20_000);
    const boxes = (await page.evaluate(`netloomCy.nodes().map((n) => { const b = n.renderedBoundingBox({ includeLabels: false }); return { id: n.id(), parent: n.isChild() ? n.parent().id() : null, x1: b.x1, x2: b.x2, y1: b.y1, y2: b.y2 }; })`)) as Box[];
    const by = new Map(boxes.map((b) => [b.id, b]));
    expect(boxes.filter((b) => b.id.startsWith('site:')).map((b) => b.id)).toEqual(['site:dc1', 'site:dc2']);
    for (const b of boxes.filter((x) => /^(leaf|border|spine)1\d$/.test(x.id))) expect(b.parent, b.id).toBe('site:dc1');
    for (const b of boxes.filter((x) => /^(leaf|border|spine)2\d$/.test(x.id))) expect(b.parent, b.id).toBe('site:dc2');
    // Endpoints and service nodes sit in their leaf's site.
    expect([by.get('ep:h11')!.parent, by.get('lb2')!.parent, by.get('ns1')!.parent]).toEqual(['site:dc1', 'site:dc2', 'site:dc1']);
    const [s1, s2] = [by.get('site:dc1')!, by.get('site:dc2')!];
    expect(s1.x2 < s2.x1 || s2.x2 < s1.x1).toBe(true);
    for (const w of ['wan1', 'wan2']) {
      expect(by.get(w)!.parent).toBeNull();
      expect(by.get(w)!.y2).toBeLessThan(Math.min(s1.y1, s2.y1));
    }
    // Tiers top-down inside a site: spines above border leaves and leaves, endpoints below.
    expect(by.get('spine11')!.y2).toBeLessThan(by.get('border11')!.y1);
    expect(by.get('border11')!.y1).toBe(by.get('leaf11')!.y1);
    expect(by.get('leaf11')!.y2).toBeLessThan(by.get('ep:h11')!.y1);
    const leaves = boxes.filter((b) => !b.id.startsWith('site:'));
    const overlaps = leaves.flatMap((a, i) => leaves.slice(i + 1).filter((b) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2).map((b) => `${a.id}/${b.id}`));
    expect(overlaps).toEqual([]);
    // Stable: a refresh (every 2 s) moves nothing.
    const before = await page.evaluate(`JSON.stringify(netloomCy.nodes().map((n) => [n.id(), n.position()]))`);
    await page.waitForFunction(`document.getElementById('status').textContent.startsWith('poll 1')`, null, { timeout: 10_000 });
    await page.waitForTimeout(2500);
    expect(await page.evaluate(`JSON.stringify(netloomCy.nodes().map((n) => [n.id(), n.position()]))`)).toBe(before);
    expect(await page.textContent('#legend')).toMatch(/ok.*findings.*failed/);
  });

  it('a click on a device: BGP, EVPN, routes and interfaces tabs, each expected row beside observed, marked as a mismatch when nothing is observed', async () => {
    const at = (await page.evaluate(`(() => { const n = netloomCy.getElementById('leaf11').renderedPosition(); const c = document.getElementById('graph').getBoundingClientRect(); return { x: n.x + c.left, y: n.y + c.top }; })()`)) as { x: number; y: number };
    await page.mouse.click(at.x, at.y);
    await page.waitForSelector('#bgp');
    expect(await page.textContent('#device-name')).toBe('leaf11');
    const rows = (sel: string) => page.evaluate(`[...document.querySelectorAll('${sel} tr')].slice(1).map((tr) => ({ cells: [...tr.querySelectorAll('td')].map((td) => td.textContent), mismatch: tr.classList.contains('mismatch') }))`) as Promise<{ cells: string[]; mismatch: boolean }[]>;
    const bgp = await rows('#bgp');
    expect(bgp.map((r) => r.cells[0])).toEqual(['spine11', 'spine12']);
    for (const r of bgp) expect(r).toMatchObject({ mismatch: true, cells: [expect.any(String), expect.any(String), expect.stringMatching(/ipv4-unicast/), 'not seen', '✗'] });
    await page.click('.tabs button[data-tab="evpn"]');
    await page.waitForSelector('#evpn-vnis');
    const vnis = await rows('#evpn-vnis');
    expect(vnis.length).toBeGreaterThan(0);
    for (const r of vnis) expect(r.cells[2]).toBe('not seen');
    await page.click('.tabs button[data-tab="routes"]');
    await page.waitForSelector('#routes');
    expect(await page.evaluate(`[...document.querySelectorAll('.vrfs button')].map((b) => b.dataset.vrf)`)).toContain('default');
    const routes = await rows('#routes');
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.every((r) => r.mismatch && r.cells[2] === 'missing')).toBe(true);
    await page.click('.tabs button[data-tab="interfaces"]');
    await page.waitForSelector('#interfaces');
    const ifs = await rows('#interfaces');
    const eth1 = ifs.find((r) => r.cells[0] === 'eth1 (fabric)')!;
    expect(eth1.cells[1]).toMatch(/to spine11:eth\d+; 1 BGP session/);
    expect([eth1.cells[2], eth1.mismatch]).toEqual(['nothing collected', true]);
    await page.screenshot({ path: path.join(process.env.NETLOOM_TEST_ARTIFACTS ?? dir, 'web-mdc-interfaces.png') });
    await page.click('.tabs button[data-tab="bgp"]');
    await page.waitForSelector('#bgp');
  });

  it('a path query marks the endpoints, both leaves, the spines of the ECMP layer and the links between them', async () => {
    await page.fill('#src', 'h11');
    await page.fill('#dst', 'h12');
    await page.click('#path');
    await page.waitForSelector('#hops');
    expect(await page.textContent('#path-title')).toMatch(/^h11 → h12: (bridged|routed)$/);
    const on = (await page.evaluate(`netloomCy.elements('.onpath').map((e) => e.id()).sort()`)) as string[];
    expect(on).toEqual(expect.arrayContaining(['ep:h11', 'ep:h12', 'leaf11', 'leaf12', 'spine11', 'spine12', 'ep:h11--leaf11']));
    expect(on.filter((id) => id.includes('--') && id.includes('spine')).length).toBe(4);
    expect(on.some((id) => /^(leaf|spine|border)2|wan/.test(id))).toBe(false);
    await page.click('#why');
    await page.waitForSelector('#why-answer');
    expect(await page.textContent('#why-answer')).toMatch(/^predicted (bridged|routed)/);
  });

  it('fw2: a path query with protocol and port shows the firewall verdict and the deciding rule with its line', async () => {
    const fw = await refusingService('intents/fw2', path.join(dir, 'fw2.db'), { read: READ });
    try {
      const p = await open(await fw.app.listen({ host: '127.0.0.1', port: 0 }), 5);
      await p.fill('#src', 'web1');
      await p.fill('#dst', 'db1');
      await p.selectOption('#proto', 'tcp');
      await p.fill('#port', '22');
      await p.click('#path');
      await p.waitForSelector('#fw-verdict');
      const verdict = (await p.textContent('#fw-verdict'))!;
      expect(verdict).toMatch(/^firewall, tcp\/22: denied/);
      expect(verdict).toMatch(/tiers \(enforced networks on leaf1, source leaf; leaf3, destination leaf\)drop by ssh-drop \(intents\/fw2\/firewall\.yaml:\d+:\d+\)/);
      expect(await p.evaluate(`document.getElementById('fw-verdict').className`)).toBe('bad');
      await p.close();
    } finally {
      await fw.app.close();
      await fw.monitor.stop();
      fw.monitor.store.close();
    }
  });

  it('stored text stays text; the token in sessionStorage only; no request leaves the service; no page error', async () => {
    await page.waitForSelector('#events .event');
    expect(await page.evaluate(`[...document.querySelectorAll('#events .event')].some((e) => e.textContent.includes(${JSON.stringify(HOSTILE)}))`)).toBe(true);
    expect(await page.evaluate(`document.querySelectorAll('#timeline img').length + (window.pwned ? 1 : 0)`)).toBe(0);
    expect(await page.evaluate(`[sessionStorage.getItem('netloom-token'), localStorage.length, document.cookie]`)).toEqual([READ, 0, '']);
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
  });
});
