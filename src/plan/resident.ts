/**
 * Plans served by a process that stays up (`netloom serve`: GET /plans), as Atlantis serves
 * Terraform's: the models of the revisions planned before stay in memory, by the git tree of
 * the intent directory (the key of the disk cache, src/plan/model-cache.ts), with the memo of
 * what plans derived from them. A pull request's next push is then planned against a base
 * already in memory: no 73 MB model read back at 5,000 devices, and code the process has
 * compiled before. Models not in memory come from the disk cache, else are resolved (and
 * stored there, as the CLI stores them). Plans run one at a time (`ResidentPlanner.plan` is
 * synchronous; its thread, src/plan/resident-worker.ts, takes the requests in turn).
 */
import { existsSync } from 'node:fs';
import { UsageError } from '../util/errors.ts';
import type { Severity } from '../verify/findings.ts';
import { exportIntent, resolveRevision, revisionPaths, type IntentRepo } from './git-revision.ts';
import { fabricFrom, loadHeadModel } from './incremental-head.ts';
import { cachedModel, entryKey, IntentFileCache, PARSED_FILES_KEPT, type CachedSide } from './model-cache.ts';
import { buildPlan, failingFindings, type Plan, type PlanFinding } from './plan.ts';
import { atRevision, type RootedSide } from './revision-errors.ts';
import { inventorySecrets } from './inventory-secrets.ts';
import { formatPlanJson, formatPlanJunit, formatPlanMarkdown, formatPlanSarif, formatPlanText, type PlanFormat } from './format.ts';
import { fabricPicture, MERMAID_DEVICES, mermaidPicture } from './picture.ts';

/** Revisions kept in memory (the newest by use): a base and the heads of a few pull requests. */
export const RESIDENT_MODELS = 4;

interface Side extends RootedSide {
  dir?: string;
}

interface Entry {
  side: Side;
  cache: CachedSide;
}

export interface ResidentPlan {
  plan: Plan;
  failing: PlanFinding[];
  base: Side;
  head: Side;
  /** Each side read from memory (not the disk cache or a resolution). */
  resident: { base: boolean; head: boolean };
}

export class ResidentPlanner {
  private readonly entries = new Map<string, Entry>();
  private files = new IntentFileCache();

  constructor(
    readonly repo: IntentRepo,
    private readonly keep = RESIDENT_MODELS,
  ) {}

  /**
   * The plan from `baseRev` to `headRev` (both committed revisions: a service plans commits,
   * never a working tree), with its findings at or above `failOn` and the inventories the
   * change touches scanned for secrets, as `netloom plan` reports it.
   */
  plan(baseRev: string, headRev: string, opts: { canary?: number; waveSize?: number; failOn?: Severity | 'never'; timings?: Record<string, number> } = {}): ResidentPlan {
    let t = performance.now();
    const lap = (phase: string) => {
      const now = performance.now();
      if (opts.timings) opts.timings[phase] = (opts.timings[phase] ?? 0) + now - t;
      t = now;
    };
    const baseCommit = resolveRevision(this.repo, baseRev, 'base');
    const headCommit = resolveRevision(this.repo, headRev, 'head');
    const passing: (() => void)[] = [];
    try {
      const base = this.side(baseRev, baseCommit, passing);
      lap(`base (${base.resident ? 'in memory' : 'loaded'})`);
      const head = this.side(headRev, headCommit, passing, base.side);
      lap(`head (${head.resident ? 'in memory' : 'loaded'})`);
      if (!base.side.model && !head.side.model) throw new UsageError(`${this.repo.dir || '.'} exists neither at ${baseRev} nor at ${headRev}`);
      let plan: Plan;
      try {
        plan = buildPlan(this.repo.dir, base.side, head.side, { canary: opts.canary ?? 1, waveSize: opts.waveSize ?? 5, ...(opts.timings ? { timings: opts.timings } : {}) });
      } catch (e) {
        throw atRevision(e, [base.side, head.side]);
      }
      t = performance.now(); // buildPlan timed its own phases
      const inventories = inventorySecrets(this.repo, baseCommit, headCommit, head.side.model, undefined);
      if (inventories) plan.verification.checks.push(inventories);
      lap('inventories scanned for secrets');
      return { plan, failing: failingFindings(plan, opts.failOn ?? 'error'), base: base.side, head: head.side, resident: { base: base.resident, head: head.resident } };
    } finally {
      for (const p of passing) p();
    }
  }

  /** Writes what the plans added (new models, memo entries, parsed files) to the disk cache: after the reply. */
  save(): void {
    for (const e of this.entries.values()) e.cache.save();
    this.files.save();
    // A service planning for months parses many files: the ones in memory start again past
    // what the disk keeps, the last load kept (the next push's reload reads it).
    if (this.files.held > PARSED_FILES_KEPT) {
      const last = this.files.lastIntent;
      this.files = new IntentFileCache();
      this.files.lastIntent = last;
    }
  }

  private side(rev: string, commit: string, passing: (() => void)[], base?: Side): { side: Side; resident: boolean } {
    const key = entryKey(this.repo, commit);
    const held = key === undefined ? undefined : this.entries.get(key);
    // An entry whose files another process's prune removed is read again.
    if (held && (!held.side.dir || existsSync(held.side.dir))) {
      this.entries.delete(key!);
      this.entries.set(key!, held);
      return { side: { ...held.side, rev, commit }, resident: true };
    }
    if (held) this.entries.delete(key!);
    const repo = this.repo;
    const rootOf = (dir: string) => dir.slice(0, dir.length - repo.dir.length).replace(/\/$/, '') || dir;
    const headBase = base?.model && base.dir ? { model: base.model, dir: base.dir, placesRoot: base.root } : undefined;
    let root = '';
    const load = (dir: string) => loadHeadModel(dir, this.files, headBase, (root = rootOf(dir)));
    try {
      const c = cachedModel(repo, commit, load, () => {
        const ex = exportIntent(repo, commit);
        root = ex.root;
        return ex;
      }, { builtFrom: (m) => fabricFrom.get(m) });
      root = c.root;
      const side: Side = { rev, commit, root: c.root, ...revisionPaths(c.root), ...(c.dir ? { dir: c.dir } : {}), ...(c.memo ? { memo: c.memo } : {}) };
      if (c.model || !c.dir) side.model = c.model;
      else side.model = load(c.dir);
      // Not held (the cache could not take it: another process filling the entry, a full disk):
      // its temporary export goes with this plan.
      if (key === undefined || !c.memo) {
        passing.push(() => c.cleanup());
        return { side, resident: false };
      }
      this.entries.set(key, { side, cache: c });
      while (this.entries.size > this.keep) {
        const [oldest, e] = this.entries.entries().next().value!;
        e.cache.save();
        e.cache.cleanup();
        this.entries.delete(oldest);
      }
      return { side, resident: false };
    } catch (e) {
      throw atRevision(e, [{ rev, commit, root, ...revisionPaths(root) }]);
    }
  }
}

/**
 * A plan's report in `format`, as `netloom plan --format` prints it. Markdown names its full
 * report `names.fullName` (default plan.full.md: `full` when cut to fit a comment) and, given
 * `names.svgName`, the SVG picture beside it; the mermaid picture is inline.
 */
export function planReport(r: Pick<ResidentPlan, 'plan' | 'failing' | 'base' | 'head'>, format: PlanFormat, failOn: Severity | 'never', version: string, names: { fullName?: string; svgName?: string } = {}): { text: string; cut: boolean; full?: string } {
  const { plan, failing, base, head } = r;
  if (format === 'markdown') {
    const mermaid = mermaidPicture(fabricPicture(plan, base.model, head.model, MERMAID_DEVICES));
    const md = formatPlanMarkdown(plan, failing, names.fullName ?? 'plan.full.md', undefined, { mermaid, ...(names.svgName ? { svgName: names.svgName } : {}) });
    return md.cut ? { text: md.text, cut: true, full: md.full } : { text: md.text, cut: false };
  }
  if (format === 'json') return { text: formatPlanJson(plan, failing), cut: false };
  if (format === 'junit') return { text: formatPlanJunit(plan, failing, failOn), cut: false };
  if (format === 'sarif') {
    const fabric = head.model?.fabric.source ?? base.model?.fabric.source;
    return { text: formatPlanSarif(plan, fabric && { ...fabric, file: (head.model ? head : base).repoPath(fabric.file) }, version), cut: false };
  }
  return { text: formatPlanText(plan, failing), cut: false };
}
