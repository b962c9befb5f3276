/**
 * HTTPS: the API with a certificate and key speaks TLS only (a client trusting the certificate
 * gets answers, a plain HTTP request none); a key others can read, a key of another
 * certificate and a missing file are refused with one line each. The certificate is made by
 * openssl for each run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.ts';
import { readTls } from '../../src/api/start.ts';
import { tokenCheck } from '../../src/api/tokens.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { Monitor } from '../../src/service/monitor.ts';
import { openSqliteStore } from '../../src/service/sqlite-store.ts';
import { DeviceViews } from '../../src/service/views.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { repoRoot } from '../support/intent-copy.ts';

const READ = 'tls-read-token-0123456789';
const ADMIN = 'tls-admin-token-0123456789';
let dir: string;
let app: FastifyInstance;
let monitor: Monitor;
let port = 0;

function cert(name: string): { cert: string; key: string } {
  const c = path.join(dir, `${name}.crt`);
  const k = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', k, '-out', c], { stdio: 'ignore' });
  chmodSync(k, 0o600);
  return { cert: c, key: k };
}

function request(mod: typeof https | typeof http, url: string, opts: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = mod.get(url, opts, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

let pem: { cert: string; key: string };
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'netloom-tls-'));
  pem = cert('a');
  const model = loadModelSync(path.join(repoRoot, 'intents/dc1'));
  const fg = buildFabricGraph(model);
  monitor = new Monitor(model, fg, { collector: { name: 'none', run: async () => ({ ok: false, stdout: '', error: 'no target' }), close: async () => {} }, describe: 'no target' }, openSqliteStore(path.join(dir, 'netloom.db')), { probes: false });
  app = await buildServer({ monitor, store: monitor.store, views: new DeviceViews(model, fg) }, tokenCheck({ read: READ, admin: ADMIN }, 'test'), { tls: readTls(pem.cert, pem.key) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
});
afterAll(async () => {
  await app?.close();
  await monitor?.stop();
  monitor?.store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('HTTPS', () => {
  it('answers over TLS to a client that trusts the certificate, and not over plain HTTP', async () => {
    const ca = readFileSync(pem.cert);
    expect(await request(https, `https://127.0.0.1:${port}/health`, { ca })).toEqual({ status: 200, body: '{"ok":true}' });
    const st = await request(https, `https://127.0.0.1:${port}/status`, { ca, headers: { authorization: `Bearer ${READ}` } });
    expect([st.status, JSON.parse(st.body).target]).toEqual([200, 'no target']);
    // A client that does not trust it refuses the handshake.
    await expect(request(https, `https://127.0.0.1:${port}/health`)).rejects.toThrow(/self-signed|self signed/);
    // Plain HTTP on the TLS port gets no API answer.
    const plain = await request(http, `http://127.0.0.1:${port}/health`).catch((e: Error) => ({ status: 0, body: e.message }));
    expect(plain.body).not.toContain('"ok":true');
  });

  it('refuses a key others can read, a key of another certificate, a missing file', () => {
    const other = cert('b');
    expect(() => readTls(pem.cert, other.key)).toThrow(/^--tls-cert\/--tls-key: the key does not fit the certificate/);
    chmodSync(other.key, 0o644);
    expect(() => readTls(other.cert, other.key)).toThrow(`--tls-key ${other.key}: readable by others (mode 644); chmod 600 it`);
    expect(() => readTls(path.join(dir, 'none.crt'), pem.key)).toThrow(`--tls-cert ${path.join(dir, 'none.crt')}: no such file`);
    expect(() => readTls(pem.key, pem.key)).toThrow(/not a PEM certificate/);
  });

  it('the command line wants both files', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'serve', path.join(repoRoot, 'intents/dc1'), '--tls-cert', pem.cert, '--state-dir', path.join(dir, 'state')], { encoding: 'utf8', timeout: 30_000 });
    expect([r.status, r.stderr.trim()]).toEqual([2, 'netloom serve: --tls-cert and --tls-key go together']);
  });
});
