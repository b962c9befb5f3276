/** Shared helpers for the pcap tests: the corpus, tshark as an oracle, and our own decode. */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PacketDecoder, type DecodedPacket } from '../../src/pcap/decode.ts';
import { CaptureReader } from '../../src/pcap/reader.ts';
import type { Problem } from '../../src/pcap/problems.ts';

export const CORPUS = process.env.NETLOOM_PCAP_CORPUS ?? path.resolve(import.meta.dirname, '../../../shared/corpus/pcap');

export const corpusPresent = existsSync(CORPUS);

export function corpusCaptures(): string[] {
  if (!corpusPresent) return [];
  return readdirSync(CORPUS)
    .filter((f) => f.endsWith('.pcap') || f.endsWith('.pcapng'))
    .sort();
}

export const tsharkPresent = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
export const tcpdumpPresent = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status === 0;

/** Every file whose name says it is broken on purpose. */
export function isMalformedByName(f: string): boolean {
  return /oobr|overflow|-ub|_ub|infinite-loop|infloop|malformed|asan|seg-fault|invalid|trunc|heapoverflow|ubsan/i.test(f);
}

export interface OurDecode {
  packets: DecodedPacket[];
  problems: Problem[];
  readerProblems: Problem[];
}

export function decodeFile(file: string, vxlanPorts: number[] = [8472]): OurDecode {
  const r = CaptureReader.open(file);
  const dec = new PacketDecoder({ vxlanPorts });
  const packets: DecodedPacket[] = [];
  try {
    for (let f = r.next(); f; f = r.next()) packets.push(dec.decode(f));
  } finally {
    r.close();
  }
  return { packets, problems: packets.flatMap((p) => p.problems), readerProblems: r.problems };
}

const run = promisify(execFile);

export type TsharkLayers = Record<string, unknown>;

/** tshark's per-packet layer trees (`-T json --no-duplicate-keys`: repeated layers become arrays). */
export async function tsharkJson(file: string): Promise<TsharkLayers[]> {
  const { stdout } = await run('tshark', ['-r', file, '-T', 'json', '--no-duplicate-keys', '-d', 'udp.port==8472,vxlan', '-o', 'tcp.desegment_tcp_streams:TRUE'], {
    maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, HOME: process.env.HOME ?? '/tmp' },
  });
  const pkts = JSON.parse(stdout) as Array<{ _source: { layers: TsharkLayers } }>;
  return pkts.map((p) => p._source.layers);
}

/** The n-th occurrence of a tshark layer (0-based), or undefined. */
export function tsharkLayer(layers: TsharkLayers, name: string, n: number): Record<string, unknown> | undefined {
  const v = layers[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v[n] as Record<string, unknown> | undefined;
  return n === 0 ? (v as Record<string, unknown>) : undefined;
}

/** All values of `key` anywhere below obj, depth first, in document order. */
export function findAll(obj: unknown, key: string, out: string[] = []): string[] {
  if (Array.isArray(obj)) for (const x of obj) findAll(x, key, out);
  else if (obj && typeof obj === 'object') {
    for (const [k, v] of Object.entries(obj)) {
      if (k === key) {
        if (Array.isArray(v)) out.push(...v.map(String));
        else if (typeof v !== 'object') out.push(String(v));
      }
      if (typeof v === 'object') findAll(v, key, out);
    }
  }
  return out;
}

export function first(obj: unknown, key: string): string | undefined {
  return findAll(obj, key)[0];
}
