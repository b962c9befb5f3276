/**
 * The web view of `netloom serve` on a real multi-site lab (intents/mdc: two sites, two WAN
 * routers, border leaves, load balancers, DNS servers; its own lab name and management
 * network), in headless Chromium (Debian's, driven by playwright-core): after a clean poll
 * every device is green and sits in its site's box (WAN routers in none), a click on a border
 * leaf shows its sessions to both spines and both WAN routers Established; a DCI link taken
 * down turns red and is an incident in the timeline whose click highlights it, and turns grey
 * again when it comes back.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExec, labUp, waitConverged } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { inCI } from '../support/ci.ts';
import { sitesCopy } from '../support/intent-copy.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';

const CHROMIUM = '/usr/bin/chromium';
const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/sbin/pdns_server') ? 'pdns-server' : !existsSync(CHROMIUM) ? 'chromium' : undefined;
if (missing && !inCI) console.log(`serve-web-mdc-lab: skipped, needs ${missing}`);

const LAB = 'hwbmdc';
const READ = 'hweb-mdc-read-token-0123456789ab';
const PERIOD_S = 3;

describe.skipIf(!!missing && !inCI)('web view of netloom serve on a multi-site lab (intents/mdc)', () => {
  const copy = sitesCopy('intents/mdc', 202, '172.27');
  const stateDir = mkdtempSync(path.join(tmpdir(), 'netloom-web-mdc-'));
  let serve: ServeProcess | undefined;
  let base = '';
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const get = async <T>(url: string): Promise<T> => (await (await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${READ}` } })).json()) as T;
  // Browser-side expressions as text: the test's TypeScript has no DOM types.
  const colour = (id: string) => page.evaluate(`netloomCy.getElementById(${JSON.stringify(id)}).style('line-color')`);

  beforeAll(async () => {
    const { topology, baseDir } = await topologyFromModel(copy.dir, { name: LAB });
    await labUp(topology as never, { name: LAB, baseDir });
    expect((await waitConverged(LAB, { timeoutMs: 120_000 })).pending).toEqual([]);
    serve = await startServe([copy.dir, '--target', `lab:${LAB}`, '--state-dir', stateDir, '--period', String(PERIOD_S), '--no-probes', '--capture-seconds', '0'], { NETLOOM_READ_TOKEN: READ, NETLOOM_ADMIN_TOKEN: 'hweb-mdc-admin-token-0123456789a' });
    base = serve.base;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    // The page's CSP forbids eval; Playwright evaluates the string expressions below with it.
    page = await browser.newPage({ viewport: { width: 1400, height: 900 }, bypassCSP: true });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/ui/`);
    await page.fill('#token', READ);
    await page.click('#go');
    await page.waitForFunction('window.netloomCy && netloomCy.nodes(".device").length === 14', null, { timeout: 15_000 });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await labDown(LAB).catch(() => false);
    copy.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);

  it('after a clean poll every device is green, in its site\'s box; a border leaf\'s sessions to spines and WAN routers Established', async () => {
    // Before the first poll nothing is known, and the picture says so.
    const polled = async () => (await get<{ lastPoll: { failing: number } | null }>('/status')).lastPoll;
    if (!(await polled())) expect(await page.evaluate(`netloomCy.getElementById('wan1').data('state')`)).toBe('unknown');
    for (let i = 0; i < 360 && (await polled())?.failing !== 0; i++) await new Promise((r) => setTimeout(r, 250));
    expect((await polled())?.failing, JSON.stringify(await get('/findings')).slice(0, 3000)).toBe(0);
    await page.waitForFunction(`netloomCy.nodes('.device').every((n) => n.data('state') === 'ok')`, null, { timeout: 10_000 });
    await page.screenshot({ path: path.join(process.env.NETLOOM_TEST_ARTIFACTS ?? stateDir, 'web-mdc-lab.png') });
    const parents = (await page.evaluate(`Object.fromEntries(netloomCy.nodes('.device').map((n) => [n.id(), n.isChild() ? n.parent().id() : null]))`)) as Record<string, string | null>;
    expect(Object.entries(parents).filter(([d, p]) => p !== (/^wan/.test(d) ? null : `site:dc${d.replace(/\D/g, '')[0]}`))).toEqual([]);
    const at = (await page.evaluate(`(() => { const n = netloomCy.getElementById('border11').renderedPosition(); const c = document.getElementById('graph').getBoundingClientRect(); return { x: n.x + c.left, y: n.y + c.top }; })()`)) as { x: number; y: number };
    await page.mouse.click(at.x, at.y);
    await page.waitForSelector('#bgp');
    const rows = (await page.evaluate(`[...document.querySelectorAll('#bgp tr')].slice(1).map((tr) => ({ peer: tr.cells[0].textContent, observed: tr.cells[3].textContent, mismatch: tr.classList.contains('mismatch') }))`)) as { peer: string; observed: string; mismatch: boolean }[];
    expect(rows.map((r) => r.peer).sort()).toEqual(['spine11', 'spine12', 'wan1', 'wan2']);
    for (const r of rows) expect([r.peer, r.mismatch, /Established/.test(r.observed)]).toEqual([r.peer, false, true]);
  }, 120_000);

  it('a DCI link down turns red and is an incident in the timeline, highlighted on a click; back up, grey again', async () => {
    const topo = await get<{ links: { id: string; a: string; b: string }[] }>('/topology');
    const link = topo.links.find((l) => [l.a, l.b].sort().join() === 'border11,wan1')!.id;
    expect(link).toMatch(/border11:eth20/);
    expect(await colour(link)).toBe('rgb(156,163,175)');
    await labExec(LAB, 'border11', ['ip', 'link', 'set', 'eth20', 'down']);
    try {
      await page.waitForFunction(`netloomCy.getElementById(${JSON.stringify(link)}).style('line-color') === 'rgb(220,38,38)'`, null, { timeout: 60_000 });
      const head = `#incidents .incident.open`;
      await page.waitForFunction(`[...document.querySelectorAll(${JSON.stringify(`${head} .element`)})].some((e) => e.textContent === ${JSON.stringify(`link:${link}`)})`, null, { timeout: 30_000 });
      const id = (await page.evaluate(`[...document.querySelectorAll(${JSON.stringify(head)})].find((i) => i.querySelector('.element').textContent === ${JSON.stringify(`link:${link}`)}).dataset.id`)) as string;
      await page.click(`#incidents .incident[data-id="${id}"] .head`);
      await page.waitForFunction(`netloomCy.getElementById(${JSON.stringify(link)}).hasClass('incident')`, null, { timeout: 5_000 });
      await page.screenshot({ path: path.join(process.env.NETLOOM_TEST_ARTIFACTS ?? stateDir, 'web-mdc-lab-dci-down.png') });
    } finally {
      await labExec(LAB, 'border11', ['ip', 'link', 'set', 'eth20', 'up']);
    }
    await page.waitForFunction(`netloomCy.getElementById(${JSON.stringify(link)}).style('line-color') === 'rgb(156,163,175)'`, null, { timeout: 90_000 });
    expect(errors).toEqual([]);
  }, 240_000);
});
