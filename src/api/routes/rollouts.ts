/**
 * Rollouts over the API, with the same engine, journal and apply lock as `netloom apply`:
 * `POST /rollouts` (operate, audited) pushes the service's model to its target, a dry run
 * first if asked; `GET /rollouts` lists the journals, `GET /rollouts/{id}` one journal's steps
 * (snapshots left out: they hold whole configurations).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { pushPostChecks, pushWaveChecks } from '../../domains/index.ts';
import { withApplyLock } from '../../push/apply-lock.ts';
import { inventoryFromLab } from '../../push/inventory.ts';
import { readJournal, rolloutsRoot, type Stamped } from '../../push/journal.ts';
import { runRollout } from '../../push/rollout.ts';
import { UsageError } from '../../util/errors.ts';
import { BEARER, type ApiContext } from '../context.ts';
import { ErrorReply, js } from '../schemas.ts';

const RolloutRow = z.object({ id: z.string(), started: z.string(), fabric: z.string(), target: z.string(), devices: z.array(z.string()), status: z.string(), applied: z.array(z.string()), rolledBack: z.array(z.string()), recoveredBy: z.string().nullable() });
const RolloutRequest = z.object({ dryRun: z.boolean().optional(), devices: z.array(z.string().min(1).max(128)).max(10000).optional(), canary: z.number().int().min(1).max(1000).optional(), waveSize: z.number().int().min(1).max(1000).optional() });
const RolloutReply = z.object({
  id: z.string().nullable(),
  ok: z.boolean(),
  changed: z.number().int(),
  results: z.array(z.object({ device: z.string(), action: z.string(), reason: z.string(), diff: z.string().nullable() })),
  /** Why the waves are refused before any push (BGP sessions or OSPF adjacencies held down until a later wave); empty when not. */
  unsafe: z.array(z.string()),
});
const RolloutId = z.object({ id: z.string().regex(/^[A-Za-z0-9._-]{1,80}$/) });

function summary(id: string, entries: Stamped[]): z.infer<typeof RolloutRow> {
  const start = entries.find((e) => e.t === 'start') as Extract<Stamped, { t: 'start' }> | undefined;
  const end = entries.findLast((e) => e.t === 'end') as Extract<Stamped, { t: 'end' }> | undefined;
  const recover = entries.findLast((e) => e.t === 'recover-start') as Extract<Stamped, { t: 'recover-start' }> | undefined;
  const of = (t: string) => [...new Set(entries.filter((e) => e.t === t).map((e) => (e as { device: string }).device))];
  return { id, started: entries[0]?.at ?? '', fabric: start?.fabric ?? '', target: start?.target ?? '', devices: start?.devices ?? [], status: end?.status ?? 'unfinished', applied: of('confirmed'), rolledBack: of('rolled-back'), recoveredBy: recover?.by ?? null };
}

export const rolloutRoutes: FastifyPluginAsync<ApiContext> = async (app, { monitor, store }) => {
  const audit = (req: FastifyRequest, action: string, target: string, outcome: string) => store.audit({ time: new Date().toISOString(), actor: `${req.role ?? 'unknown'} token from ${req.ip}`, action, target, outcome });
  const journal = (id: string) => path.join(rolloutsRoot(), id, 'journal.jsonl');

  app.get<{ Querystring: { limit?: number } }>('/rollouts', { schema: { tags: ['rollouts'], summary: 'rollouts in the journal (the CLI\'s and the service\'s), newest first', security: BEARER, querystring: js(z.object({ limit: z.number().int().min(1).max(1000).optional() })), response: { 200: js(z.array(RolloutRow)) } } }, async (req) => {
    const root = rolloutsRoot();
    if (!existsSync(root)) return [];
    const ids = readdirSync(root).filter((id) => existsSync(journal(id))).sort().reverse().slice(0, req.query.limit ?? 50);
    return ids.map((id) => summary(id, readJournal(journal(id))));
  });

  app.get<{ Params: z.infer<typeof RolloutId> }>('/rollouts/:id', { schema: { tags: ['rollouts'], summary: "one rollout's journal, step by step (snapshots left out)", security: BEARER, params: js(RolloutId), response: { 200: js(z.object({ rollout: RolloutRow, steps: z.array(z.record(z.string(), z.unknown())) })), 404: js(ErrorReply) } } }, async (req, reply) => {
    if (!existsSync(journal(req.params.id))) return reply.code(404).send({ error: 'not-found', message: `no rollout '${req.params.id}'` });
    const entries = readJournal(journal(req.params.id));
    return { rollout: summary(req.params.id, entries), steps: entries.map((e) => (e.t === 'snapshot' ? { t: e.t, at: e.at, device: e.device, transport: e.transport } : e)) };
  });

  app.post<{ Body: z.infer<typeof RolloutRequest> }>('/rollouts', { schema: { tags: ['rollouts'], summary: "push the service's model to its target in waves with post-checks and rollback, as netloom apply does (operate; dryRun: diffs only)", security: BEARER, body: js(RolloutRequest), response: { 200: js(RolloutReply), 400: js(ErrorReply), 409: js(ErrorReply) } } }, async (req, reply) => {
    const { inventory: given, lab } = monitor.pushTarget;
    const inventory = given ?? (lab ? inventoryFromLab(lab) : undefined);
    if (!inventory) throw new UsageError('the service\'s target has no inventory to push to');
    const names = req.body?.devices;
    for (const n of names ?? []) if (!inventory.devices.some((d) => d.name === n)) throw new UsageError(`no device '${n}' in the target's inventory`);
    const only = names ? { ...inventory, devices: inventory.devices.filter((d) => names.includes(d.name)) } : inventory;
    const model = monitor.model;
    const run = () => runRollout({
      model,
      inventory: only,
      dryRun: !!req.body?.dryRun,
      canary: req.body?.canary,
      waveSize: req.body?.waveSize,
      postChecks: pushPostChecks(model, { live: true }),
      waveChecks: pushWaveChecks(model, { lab }),
    });
    let held: string | undefined;
    const res = req.body?.dryRun ? await run() : await withApplyLock(`netloom serve API: rollout by ${req.role ?? 'unknown'} token from ${req.ip}`, run, (why) => (held = why));
    if (!res) {
      audit(req, 'rollout', only.origin, `refused: ${held}`);
      return reply.code(409).send({ error: 'conflict', message: held ?? 'another apply is running' });
    }
    const outcome = res.results.filter((r) => r.action !== 'unchanged').map((r) => `${r.device} ${r.action}`).join(', ') || 'nothing to change';
    audit(req, req.body?.dryRun ? 'rollout (dry run)' : 'rollout', only.origin, `${res.ok ? 'ok' : 'failed'}${res.id ? ` ${res.id}` : ''}: ${outcome}`);
    return { id: res.id ?? null, ok: res.ok, changed: res.changed, unsafe: res.unsafe ?? [], results: res.results.map((r) => ({ device: r.device, action: r.action, reason: r.reason, diff: req.body?.dryRun ? r.diff ?? null : null })) };
  });
};
