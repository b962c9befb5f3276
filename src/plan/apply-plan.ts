/**
 * The reviewed plan `netloom apply --plan` applies (`netloom plan --save PLAN.json`): what was
 * reviewed, as digests, so apply can refuse anything else. It records the intent revision (the
 * hash of the intent files the model carries, plus the git commit when the head was one), a
 * sha256 of every rendered artifact per device, the target the plan was made for and, with a
 * target, each device's running state (a digest of the push driver's snapshot, the same one
 * apply takes before it pushes). Staleness is decided here from plain values (no I/O but the
 * plan file's read), so it is tested without a lab.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { renderModel, type RenderedArtifact } from '../render/index.ts';
import type { FabricModel } from '../model/types.ts';
import { IntentError } from '../util/errors.ts';
import { readTextBounded } from '../util/safe-path.ts';

export const APPLY_PLAN_SCHEMA = 'netloom-apply-plan/1';
/** A plan of the 5,000-device shape is about 1 MiB; anything far larger is not a plan. */
export const MAX_APPLY_PLAN_BYTES = 32 * 1024 * 1024;

const digest = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 digest (64 hex digits)');
const name = z.string().min(1).max(253);

const planSchema = z
  .object({
    schema: z.literal(APPLY_PLAN_SCHEMA),
    createdAt: z.string(),
    netloom: z.string(),
    fabric: name,
    intentDir: z.string(),
    intent: z.object({ rev: z.string(), commit: z.string().regex(/^[0-9a-f]{40,64}$/, 'a git commit id').optional(), revision: z.string().regex(/^[0-9a-f]{16}$/, 'an intent revision (16 hex digits)') }).strict(),
    artifacts: z.record(name, z.record(name, digest)),
    target: z.string().min(1).optional(),
    running: z.record(name, digest).optional(),
  })
  .strict()
  .refine((p) => !p.running || p.target, { message: 'running-state digests without the target they were read from', path: ['running'] });

export type ApplyPlan = z.infer<typeof planSchema>;

/** Artifact digests per device (device -> file -> sha256 of the content). */
export type ArtifactDigests = Record<string, Record<string, string>>;

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export function artifactDigests(arts: RenderedArtifact[]): ArtifactDigests {
  const out: ArtifactDigests = {};
  for (const a of [...arts].sort((x, y) => x.device.localeCompare(y.device) || x.artifact.localeCompare(y.artifact))) (out[a.device] ??= {})[a.artifact] = sha256(a.content);
  return out;
}

/** JSON with object keys sorted, so equal snapshots have equal digests whatever built them. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The running-state fingerprint of a device: its push driver's snapshot (without what is only observed), digested. */
export const snapshotDigest = (snapshot: unknown): string => {
  const { transient: _observed, ...config } = (snapshot ?? {}) as Record<string, unknown>;
  return sha256(canonical(config));
};

/** What `apply` pushes, rendered: every device's artifacts and every service node's files. */
export function pushedArtifacts(model: FabricModel): RenderedArtifact[] {
  return renderModel(model, { devices: [...model.devices.map((d) => d.name), ...(model.serviceNodes ?? []).map((n) => n.name)] }).artifacts;
}

/** A target as the plan records it: `lab:NAME` (the fabric's name when none is given) or the inventory's absolute path. */
export function targetId(target: string, fabric: string): string {
  if (target === 'lab' || target.startsWith('lab:')) return `lab:${target.slice(4) || fabric}`;
  return path.resolve(target);
}

/** 1-based line and column of a character offset. */
function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, offset));
  const nl = before.lastIndexOf('\n');
  return { line: before.split('\n').length, col: offset - nl };
}

/** Reads and checks a plan file; every defect is `FILE:line:col: ...` (exit 1), never a stack trace. */
export function readApplyPlan(file: string): ApplyPlan {
  const at = (message: string, line = 1, col = 1) => new IntentError([{ loc: { file, line, col }, message }]);
  if (!existsSync(file)) throw at('plan file not found (write one with netloom plan --save FILE)');
  if (!statSync(file).isFile()) throw at('not a file');
  let text: string;
  try {
    text = readTextBounded(file, MAX_APPLY_PLAN_BYTES, 'a plan file');
  } catch (e) {
    throw at((e as Error).message.replace(`${file}: `, ''));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const pos = m ? lineCol(text, Number(m[1])) : { line: 1, col: 1 };
    throw at(`not JSON: ${(e as Error).message.replace(/ in JSON at position \d+.*$/, '').replace(/^JSON\.parse: /, '')}`, pos.line, pos.col);
  }
  const schema = (json as { schema?: unknown } | null)?.schema;
  if (schema !== APPLY_PLAN_SCHEMA) {
    const what = schema === 'netloom-plan/1' ? 'a plan report (netloom plan --format json), not a saved plan: write one with netloom plan --save FILE' : `not a netloom plan (schema ${JSON.stringify(schema ?? null)}, expected ${APPLY_PLAN_SCHEMA})`;
    throw at(what);
  }
  const r = planSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(top)'}: ${i.message}`);
    throw at(`not a valid ${APPLY_PLAN_SCHEMA}: ${issues.join('; ')}`);
  }
  return r.data;
}

/** What apply sees now, to compare with the plan. */
export interface ApplyNow {
  fabric: string;
  /** The model's intent revision. */
  revision: string;
  artifacts: ArtifactDigests;
  /** The target as targetId gives it. */
  target: string;
}

/** Devices and files whose digests differ: `leaf2: frr.conf, network.sh`, `leaf4: not in the plan`. */
export function artifactChanges(planned: ArtifactDigests, now: ArtifactDigests): string[] {
  const out: string[] = [];
  for (const dev of [...new Set([...Object.keys(planned), ...Object.keys(now)])].sort()) {
    const a = planned[dev];
    const b = now[dev];
    if (!a) out.push(`${dev}: not in the plan (a new device)`);
    else if (!b) out.push(`${dev}: in the plan, no longer in the intent`);
    else {
      const files = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().flatMap((f) => (a[f] === b[f] ? [] : [!a[f] ? `${f} (new)` : !b[f] ? `${f} (gone)` : f]));
      if (files.length) out.push(`${dev}: ${files.join(', ')}`);
    }
  }
  return out;
}

/** Why the plan no longer describes what apply would do (empty: it does), without contacting a device. */
export function staleReasons(plan: ApplyPlan, now: ApplyNow): string[] {
  if (plan.fabric !== now.fabric) return [`the plan is for fabric ${plan.fabric}, the intent is fabric ${now.fabric}`];
  const out: string[] = [];
  if (plan.target && plan.target !== now.target) out.push(`the plan was made for target ${plan.target}, not ${now.target}`);
  if (plan.intent.revision !== now.revision) {
    out.push(`the intent changed since the plan: revision ${now.revision}, planned ${plan.intent.revision}${plan.intent.commit ? ` (${plan.intent.rev}, commit ${plan.intent.commit.slice(0, 12)})` : ''}`);
  }
  const files = artifactChanges(plan.artifacts, now.artifacts);
  if (files.length) out.push(`rendered output differs from the plan: ${files.join('; ')}`);
  return out;
}

/** The drift check of one device: undefined when its running state is what the plan saw. */
export function driftReason(plan: ApplyPlan, device: string, snapshot: unknown): string | undefined {
  const planned = plan.running?.[device];
  if (planned === undefined) return `${device}: its running state was not read when the plan was made`;
  return planned === snapshotDigest(snapshot) ? undefined : `${device}: running state changed since the plan`;
}
