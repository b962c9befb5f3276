/**
 * The slb domain in a lab: each pool member that is an endpoint runs lab/member-server.py on
 * its port (HTTP answering with the member's name, or a TCP echo that first writes it), and
 * each load-balancer node attached to the fabric gets a self-signed test certificate for every
 * certificate its https listeners reference, made at `lab up` in the lab directory (never key
 * material in intent or in the repository) and bound at the path the intent names.
 */
import { shq } from '../../util/shell-quote.ts';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FabricModel } from '../../model/types.ts';
import type { LabProvision } from '../types.ts';
import type { SlbModel } from './model.ts';

const MEMBER_SERVER = fileURLToPath(new URL('../../../lab/member-server.py', import.meta.url));
export const SLB_CLIENT = fileURLToPath(new URL('../../../lab/slb-client.py', import.meta.url));
const TLS_DIR = 'slb-tls';
/** The lab's test certificates as a CA bundle, relative to the lab directory. */
export const SLB_CA_BUNDLE = `${TLS_DIR}/ca.pem`;
/** The test certificate's names: the rule hosts of the services using it. */
export function certificateHosts(m: SlbModel, cert: string): string[] {
  return [...new Set(m.services.filter((s) => s.listeners.some((l) => l.certificates.includes(cert))).flatMap((s) => s.rules.flatMap((r) => (r.host && !r.host.startsWith('*.') ? [r.host] : []))))].sort();
}


export function slbLabProvision(model: FabricModel): LabProvision {
  const m = model.domains.slb as SlbModel | undefined;
  const out: LabProvision = { binds: {}, exec: {} };
  if (!m) return out;
  const started = new Set<string>();
  for (const p of m.pools) {
    for (const mb of p.members) {
      if (!mb.endpoint || started.has(`${mb.endpoint}|${mb.port}`)) continue;
      started.add(`${mb.endpoint}|${mb.port}`);
      (out.exec[mb.endpoint] ??= []).push(`setsid -f python3 ${shq(MEMBER_SERVER)} ${shq(mb.endpoint)} ${p.mode} ${mb.port} </dev/null >/dev/null 2>&1`);
      // HTTP and the echo alike are TCP, on every address of the member.
      (out.serves ??= {})[mb.endpoint] = [...(out.serves[mb.endpoint] ?? []), `tcp/${mb.port}`];
    }
  }
  const attached = new Set((model.serviceNodes ?? []).filter((n) => n.domain === 'slb').map((n) => n.name));
  const certs: { node: string; name: string; file: string; keyFile?: string; hosts: string[] }[] = [];
  for (const node of m.nodes) {
    if (!attached.has(node.name)) continue;
    for (const c of m.certificates) {
      const services = m.services.filter((s) => s.nodes.includes(node.name) && s.listeners.some((l) => l.certificates.includes(c.name)));
      if (!services.length) continue;
      const hosts = certificateHosts(m, c.name);
      const file = `${TLS_DIR}/${node.name}/${c.name}.pem`;
      const binds = (out.binds[node.name] ??= []);
      binds.push(`${file}:${c.cert}`);
      if (c.key) binds.push(`${file}.key:${c.key}`);
      certs.push({ node: node.name, name: c.name, file, ...(c.key ? { keyFile: `${file}.key` } : {}), hosts });
    }
  }
  out.prepare = (labDir: string) => {
    const bundle: string[] = [];
    for (const c of certs) {
      const cert = path.join(labDir, c.file);
      mkdirSync(path.dirname(cert), { recursive: true });
      const key = path.join(labDir, c.keyFile ?? `${c.file}.key`);
      const san = [`DNS:${c.name}`, ...c.hosts.map((h) => `DNS:${h}`)].join(',');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '7', '-subj', `/CN=${c.hosts[0] ?? c.name}`, '-addext', `subjectAltName=${san}`, '-keyout', key, '-out', cert], { stdio: 'ignore' });
      bundle.push(readFileSync(cert, 'utf8'));
      // HAProxy reads the key from the certificate file unless a separate key file is named.
      if (!c.keyFile) {
        writeFileSync(cert, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'));
      }
    }
    // What clients trust: every test certificate, no key (live checks verify TLS against it).
    if (bundle.length) writeFileSync(path.join(labDir, SLB_CA_BUNDLE), bundle.join(''));
  };
  return out;
}
