/**
 * Copies of intents/slb1 for the slb tests (other targets, other pools), and throwaway TLS
 * certificates made with openssl at test time: the real tools load the files a configuration
 * names, so a copy can point its certificates at them.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');

const made: string[] = [];
export function cleanupCopies(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function scratchDir(tag: string): string {
  const d = mkdtempSync(path.join(tmpdir(), `hslb-${tag}-`));
  made.push(d);
  return d;
}

/** A self-signed certificate and its key, as separate files (<dir>/<name>.pem and .pem.key). */
export function makeCert(dir: string, name: string, cn: string): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.pem`);
  const key = `${cert}.key`;
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`], { stdio: 'pipe' });
  return { cert, key };
}

/** A copy of intents/slb1 whose slb section `edit` changes (certificates, targets, pools). */
export function slb1Copy(edit?: (slb: any) => void, dc?: (files: Record<string, any>) => void): string {
  const dir = scratchDir('slb1');
  cpSync(path.join(repoRoot, 'intents/slb1'), dir, { recursive: true });
  const p = path.join(dir, 'slb.yaml');
  const doc = parse(readFileSync(p, 'utf8'));
  edit?.(doc.slb);
  writeFileSync(p, stringify(doc));
  if (dc) {
    const files: Record<string, any> = {};
    for (const f of ['endpoints.yaml', 'tenants.yaml']) files[f] = parse(readFileSync(path.join(dir, f), 'utf8'));
    dc(files);
    for (const [f, d] of Object.entries(files)) writeFileSync(path.join(dir, f), stringify(d));
  }
  return dir;
}

/** Points every certificate of the section at a fresh throwaway one in `dir`. */
export function withTestCerts(slb: any, dir: string): void {
  for (const [n, c] of Object.entries<any>(slb.certificates ?? {})) {
    const made = makeCert(dir, n, 'shop.example.com');
    c.cert = made.cert;
    c.key = made.key;
  }
}

/** What OSS nginx can express of slb1's pools: no active checks, cookies or slow start. */
export function nginxCapable(slb: any): void {
  for (const p of Object.values<any>(slb.pools)) {
    delete p.health_check;
    delete p.slow_start;
    if (p.persistence?.type === 'cookie') delete p.persistence;
  }
}
