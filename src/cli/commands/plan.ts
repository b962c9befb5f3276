/**
 * `netloom plan [DIR] --base REV [--head REV]`: what merging a change of the intent does to
 * the network, for a pull request (src/plan). Both revisions are read from git into temporary
 * directories; the working tree is the default head and is only read.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../command.ts';
import { numberOpt, stringOpt } from '../command.ts';
import { fabricFrom, loadHeadModel } from '../../plan/incremental-head.ts';
import { UsageError } from '../../util/errors.ts';
import { atRevision, type RootedSide } from '../../plan/revision-errors.ts';
import { exportIntent, intentRepo, resolveRevision, revisionPaths, type ExportedIntent, type IntentRepo } from '../../plan/git-revision.ts';
import { cachedModel, IntentFileCache, isCached } from '../../plan/model-cache.ts';
import { startSideAnalysis } from '../../plan/side-analysis.ts';
import { inventorySecrets } from '../../plan/inventory-secrets.ts';
import { buildPlan, failingFindings } from '../../plan/plan.ts';
import { fabricPicture, SVG_DEVICES, svgPicture } from '../../plan/picture.ts';
import { formatPlanText, PLAN_FORMATS, type PlanFormat } from '../../plan/format.ts';
import type { Severity } from '../../verify/findings.ts';
import { intentDirArg } from '../intent-dir.ts';
import { APPLY_PLAN_SCHEMA, artifactDigests, pushedArtifacts, snapshotDigest, targetId, type ApplyPlan } from '../../plan/apply-plan.ts';
import { readSnapshots } from '../../push/running-state.ts';
import { targetOf } from '../push-target.ts';
import { servedPlan } from '../plan-server.ts';
import { planReport } from '../../plan/resident.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface LoadedSide extends RootedSide {
  /** The intent directory its model was loaded from. */
  dir?: string;
}

/**
 * `base`: the side loaded before, whose model this one is built from when only tenants changed
 * (src/plan/incremental-head.ts). Every side's files are recorded relative to its root, as the
 * repository names them: both revisions name an unchanged file alike.
 */
function loadSide(repo: IntentRepo, rev: string, commit: string | undefined, exports: ExportedIntent[], saves: (() => void)[], files: IntentFileCache, base?: LoadedSide): LoadedSide {
  const headBase = base && { ...(base.model ? { model: base.model } : {}), ...(base.dir ? { dir: base.dir } : {}), placesRoot: base.root };
  const load = (dir: string, root: string) => loadHeadModel(dir, files, headBase, root);
  const side = (r: string): LoadedSide => ({ rev, commit, root: r, ...revisionPaths(r) });
  if (!commit) {
    const dir = path.join(repo.root, repo.dir);
    const s: LoadedSide = { ...side(repo.root), dir };
    try {
      return { ...s, model: existsDir(dir) ? load(dir, repo.root) : undefined };
    } catch (e) {
      throw atRevision(e, [s]);
    }
  }
  // A committed revision's model comes from the cache by its tree when it was planned before.
  let root = '';
  try {
    const c = cachedModel(
      repo,
      commit,
      (dir) => {
        root = dir.slice(0, dir.length - repo.dir.length).replace(/\/$/, '') || dir;
        return load(dir, root);
      },
      () => {
        const ex = exportIntent(repo, commit);
        root = ex.root;
        return ex;
      },
      { builtFrom: (m) => fabricFrom.get(m) },
    );
    exports.push(c);
    saves.push(c.save);
    root = c.root;
    if (c.model || !c.dir) return { ...side(c.root), model: c.model, ...(c.dir ? { dir: c.dir } : {}), ...(c.memo ? { memo: c.memo } : {}) };
    return { ...side(c.root), dir: c.dir, model: load(c.dir, c.root) };
  } catch (e) {
    throw atRevision(e, [side(root)]);
  }
}

const existsDir = (dir: string): boolean => existsSync(dir) && statSync(dir).isDirectory();

/** What `apply --plan` checks (src/plan/apply-plan.ts), written atomically enough for one reader: whole or absent. */
async function savePlan(file: string, head: LoadedSide, intentDir: string, target: string | undefined): Promise<void> {
  const model = head.model!;
  const record: ApplyPlan = {
    schema: APPLY_PLAN_SCHEMA,
    createdAt: new Date().toISOString(),
    netloom: VERSION,
    fabric: model.name,
    intentDir,
    intent: { rev: head.rev, ...(head.commit ? { commit: head.commit } : {}), revision: model.revision },
    artifacts: artifactDigests(pushedArtifacts(model)),
  };
  if (target !== undefined) {
    record.target = targetId(target, model.name);
    const snaps = await readSnapshots(model, targetOf(target, model.name).inventory);
    record.running = Object.fromEntries([...snaps].sort(([a], [b]) => a.localeCompare(b)).map(([d, s]) => [d, snapshotDigest(s)]));
  }
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n');
  renameSync(tmp, file);
}

export const planCommand: Command = {
  name: 'plan',
  summary: 'what merging a change of the intent does: changes, blast radius, behaviour, new findings, rollout waves',
  usage: 'netloom plan [DIR] --base REV [--head REV] [--format text|markdown|json|junit|sarif] [--out FILE] [--fail-on error|warning|never] [--save PLAN.json [--target lab[:NAME]|INVENTORY.yaml]] | netloom plan --server URL --base REV --head REV [--format F] [--out FILE] [--fail-on L]',
  options: {
    base: { type: 'string', arg: 'REV', help: 'the revision the change is compared with (a branch, tag or commit)' },
    head: { type: 'string', arg: 'REV', help: 'the changed revision (default: the working tree)' },
    format: { type: 'string', short: 'f', arg: 'FORMAT', choices: PLAN_FORMATS, default: 'text', help: 'report format' },
    out: { type: 'string', short: 'o', arg: 'FILE', help: 'write the report here (the summary on stdout)' },
    'fail-on': { type: 'string', choices: ['error', 'warning', 'never'], default: 'error', help: 'exit 1 when the head has findings at or above this severity, or apply would refuse its waves (never: neither)' },
    save: { type: 'string', arg: 'PLAN.json', help: 'record what apply --plan must check: the head\'s intent revision, a digest of every rendered file, the target and its devices\' running state' },
    target: { type: 'string', short: 't', arg: 'lab[:NAME]|INVENTORY.yaml', help: 'with --save: the target the plan is for; each device\'s running state is read (nothing is changed)' },
    server: { type: 'string', arg: 'URL', help: 'ask a running netloom serve (GET /plans; it keeps the models it planned in memory) instead of planning here: committed revisions of the intent it serves, --head required; token from $NETLOOM_TOKEN or --token-file' },
    'token-file': { type: 'string', arg: 'FILE', help: 'with --server: a file holding a token with the read role' },
    canary: { type: 'number', integer: true, min: 1, default: 1, help: 'devices in the first wave (as apply)' },
    'wave-size': { type: 'number', integer: true, min: 1, default: 5, help: 'devices per following wave (as apply)' },
  },
  notes: [
    'DIR must be inside a git work tree; revisions are read with git archive into temporary directories, the work tree is left alone.',
    'A DIR that did not exist at --base plans everything as added.',
    'Models of committed revisions are cached by the git tree of DIR in $NETLOOM_CACHE_DIR (default ~/.cache/netloom) under plan-models/, parsed intent files by content under plan-files/.',
    'NETLOOM_PLAN_WORKER=always (or auto: a big intent, a core idle) analyses the head on a worker thread; the report is the same.',
    'Markdown fits one pull-request comment (65,536 characters); when cut, the full report is written beside --out (FILE.full.md) or to plan.full.md.',
    'Inventory files the change adds or modifies (YAML with a devices: mapping, or named *inventor*) and the --target inventory are scanned for secrets (check compliance-inventory-secrets; file:line:col, never the value).',
    'Markdown carries a mermaid picture of the fabric (changed and failing elements marked; big fabrics in part); with --out also as SVG beside the report (FILE.svg).',
    'exit 0: no finding at or above --fail-on, and waves apply would push; 1: some, apply would refuse the waves, or an invalid intent; 2: usage error (no git repository, unknown revision)',
  ],
  async run(ctx) {
    if (ctx.positionals.length > 1) throw new UsageError(`unexpected argument '${ctx.positionals[1]}'\nusage: ${this.usage}`);
    const baseRev = stringOpt(ctx, 'base');
    if (!baseRev) throw new UsageError(`--base REV is required (the revision to compare with, e.g. --base main)\nusage: ${this.usage}`);
    const save = stringOpt(ctx, 'save');
    const target = stringOpt(ctx, 'target');
    if (target !== undefined && save === undefined) throw new UsageError(`--target needs --save PLAN.json (the target is recorded in the saved plan)\nusage: ${this.usage}`);
    const server = stringOpt(ctx, 'server');
    if (server !== undefined) {
      const head = stringOpt(ctx, 'head');
      if (ctx.positionals.length) throw new UsageError(`--server plans the intent the service serves: no DIR\nusage: ${this.usage}`);
      if (head === undefined) throw new UsageError(`--server plans committed revisions: give --head REV\nusage: ${this.usage}`);
      if (save !== undefined) throw new UsageError(`--save reads the target's running state here: plan without --server\nusage: ${this.usage}`);
      const tokenFile = stringOpt(ctx, 'token-file');
      return servedPlan({ server, ...(tokenFile !== undefined ? { tokenFile } : {}), base: baseRev, head, format: stringOpt(ctx, 'format')!, failOn: stringOpt(ctx, 'fail-on')!, canary: numberOpt(ctx, 'canary'), waveSize: numberOpt(ctx, 'wave-size'), ...(stringOpt(ctx, 'out') !== undefined ? { out: stringOpt(ctx, 'out')! } : {}), print: ctx.out, note: ctx.err });
    }
    if (stringOpt(ctx, 'token-file') !== undefined) throw new UsageError(`--token-file goes with --server\nusage: ${this.usage}`);
    const dirArg = intentDirArg(ctx.positionals[0], 'plan');
    const repo = intentRepo(dirArg);
    const headRev = stringOpt(ctx, 'head');
    const baseCommit = resolveRevision(repo, baseRev, '--base');
    const headCommit = headRev === undefined ? undefined : resolveRevision(repo, headRev, '--head');
    const exports: ExportedIntent[] = [];
    const saves: (() => void)[] = [];
    // The head's static checks and flows start on a worker thread before anything is loaded
    // here, when NETLOOM_PLAN_WORKER asks for it (a cached head has them in its memo).
    const headAnalysis = headCommit && isCached(repo, headCommit) ? undefined : startSideAnalysis(repo, headCommit);
    try {
      // Both sides' unchanged files are parsed once (and kept for the next plan).
      const files = new IntentFileCache();
      saves.push(() => files.save());
      const base = loadSide(repo, baseRev, baseCommit, exports, saves, files);
      const head: LoadedSide = { ...loadSide(repo, headRev ?? 'working tree', headCommit, exports, saves, files, base), ...(headAnalysis ? { analysis: headAnalysis } : {}) };
      if (!base.model && !head.model) throw new UsageError(`${repo.dir || '.'} exists neither at ${baseRev} nor at ${headRev ?? 'the working tree'}`);
      let plan;
      try {
        plan = buildPlan(repo.dir, base, head, { canary: numberOpt(ctx, 'canary'), waveSize: numberOpt(ctx, 'wave-size') });
      } catch (e) {
        throw atRevision(e, [base, head]);
      } finally {
        headAnalysis?.close();
      }
      // Inventories the change touches (and the --target one) are scanned for secrets; the check
      // is reported when there is one to scan.
      const inventories = inventorySecrets(repo, baseCommit, headCommit, head.model, target);
      if (inventories) plan.verification.checks.push(inventories);
      if (save !== undefined) {
        if (!head.model) throw new UsageError(`--save: ${repo.dir || '.'} does not exist at ${head.rev}: there is nothing to apply`);
        await savePlan(save, head, plan.intentDir, target);
        ctx.err(`saved plan: ${save} (apply it with netloom apply ${repo.dir || '.'} --plan ${save}${target ? ` --target ${target}` : ' --target ...'})`);
      }
      const failOn = stringOpt(ctx, 'fail-on') as Severity | 'never';
      const failing = failingFindings(plan, failOn);
      const format = stringOpt(ctx, 'format') as PlanFormat;
      const out = stringOpt(ctx, 'out');
      // Markdown: the picture inline (mermaid), and with --out an SVG file beside the report.
      const fullName = out ? `${out.replace(/\.md$/, '')}.full.md` : 'plan.full.md';
      const svgName = format === 'markdown' && out ? `${out.replace(/\.md$/, '')}.svg` : undefined;
      if (svgName) writeFileSync(svgName, svgPicture(fabricPicture(plan, base.model, head.model, SVG_DEVICES), `netloom plan ${plan.fabric}: ${plan.base.rev} -> ${plan.head.rev}`));
      const report = planReport({ plan, failing, base, head }, format, failOn, VERSION, { fullName: path.basename(fullName), ...(svgName ? { svgName: path.basename(svgName) } : {}) });
      const text = report.text;
      if (report.full !== undefined) {
        writeFileSync(fullName, report.full);
        ctx.err(`the Markdown report was cut to fit one comment; the full report: ${fullName}`);
      }
      if (out) {
        writeFileSync(out, text);
        for (const l of formatPlanText(plan, failing).split('\n').slice(0, 8)) ctx.out(l);
      } else ctx.out(text.replace(/\n$/, ''));
      // After the report: the next plan of these revisions reads their models from the cache.
      for (const save of saves) save();
      return failing.length ? 1 : 0;
    } finally {
      headAnalysis?.close();
      for (const e of exports) e.cleanup();
    }
  },
};
