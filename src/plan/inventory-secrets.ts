/**
 * The secret scanner over the inventory files a change touches (issue 16: "no secrets in
 * intent or inventory files"). The intent's own files are the compliance domain's
 * (`compliance-secrets`); an inventory lives beside it in the same repository and names each
 * device's address and credentials, so a password or key pasted into one is as public as the
 * intent. The files added or modified between the two revisions (the working tree: also the
 * untracked ones) that are inventories, and the `--target` inventory, are scanned at the head;
 * a finding is new unless the base's version of the file had it. Findings say file:line:col
 * and the value's length, never a character of it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { lengthOnly, scanYaml, type SecretHit } from '../domains/compliance/secrets.ts';
import { complianceOf } from '../domains/compliance/checks.ts';
import type { FabricModel } from '../model/types.ts';
import { LIMITS, readTextBounded } from '../util/safe-path.ts';
import type { IntentRepo } from './git-revision.ts';
import type { PlanCheck, PlanFinding } from './plan.ts';

export const INVENTORY_SECRETS = 'compliance-inventory-secrets';

function git(repo: IntentRepo, args: string[]): string {
  return execFileSync('git', args, { cwd: repo.root, maxBuffer: LIMITS.inventory + (1 << 20), stdio: ['ignore', 'pipe', 'ignore'] }).toString();
}

/** Files added, modified or renamed from `base` to `head` (the working tree when undefined), repository-relative. */
function changedFiles(repo: IntentRepo, base: string, head: string | undefined): string[] {
  const split = (s: string) => s.split('\0').filter(Boolean);
  const files = split(git(repo, ['diff', '--name-only', '-z', '--no-renames', '--diff-filter=AM', base, ...(head ? [head] : []), '--']));
  if (!head) files.push(...split(git(repo, ['ls-files', '-z', '--others', '--exclude-standard'])));
  return [...new Set(files)].sort();
}

/** The text of a file at a commit (undefined when absent or too big), or in the working tree. */
function textAt(repo: IntentRepo, commit: string | undefined, file: string): string | undefined {
  try {
    if (commit) return git(repo, ['cat-file', 'blob', `${commit}:${file}`]);
    const abs = path.join(repo.root, file);
    return existsSync(abs) ? readTextBounded(abs, LIMITS.inventory, 'an inventory') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * netloom's inventory shape (a `devices` mapping whose entries name an address or transport),
 * or a YAML file named like one; a file that does not parse counts by its name alone.
 */
export function looksLikeInventory(file: string, text: string): boolean {
  if (!/\.ya?ml$/i.test(file)) return false;
  if (/inventor/i.test(path.basename(file))) return true;
  try {
    const doc = parseDocument(text, { uniqueKeys: false });
    const devices = isMap(doc.contents) ? doc.contents.get('devices', true) : undefined;
    if (!isMap(devices)) return false;
    return devices.items.some((i) => isMap(i.value) && (i.value.has('address') || i.value.has('transport') || i.value.has('credentials')));
  } catch {
    return false;
  }
}

const message = (file: string, h: SecretHit) => `${h.kind} in inventory ${file} (${h.hint})`;

/**
 * The check as the plan reports it, or undefined when the change touches no inventory. `target`:
 * the --target inventory when it is a file (scanned as it is on disk). Severity follows the
 * intent's `compliance-secrets` setting (`off`: the check says so and scans nothing).
 */
export function inventorySecrets(repo: IntentRepo, base: string, head: string | undefined, model: FabricModel | undefined, target?: string): PlanCheck | undefined {
  const inIntent = (f: string) => repo.dir !== '' && (f === repo.dir || f.startsWith(`${repo.dir}/`));
  const files: { name: string; text: string; before?: string }[] = [];
  for (const f of changedFiles(repo, base, head)) {
    if (repo.dir === '' || inIntent(f)) continue; // the intent's files: compliance-secrets
    const text = textAt(repo, head, f);
    if (text !== undefined && looksLikeInventory(f, text)) files.push({ name: f, text, before: textAt(repo, base, f) });
  }
  if (target && existsSync(target) && statSync(target).isFile()) {
    const rel = path.relative(repo.root, path.resolve(target)).split(path.sep).join('/');
    if (!files.some((f) => f.name === rel)) {
      try {
        files.push({ name: rel.startsWith('..') ? target : rel, text: readTextBounded(target, LIMITS.inventory, 'an inventory') });
      } catch {
        // unreadable here: apply reads it and says why
      }
    }
  }
  if (!files.length) return undefined;
  const title = 'no secrets in the inventory files the change touches';
  const set = model ? complianceOf(model)?.severity['compliance-secrets'] : undefined;
  if (set === 'off') return { id: INVENTORY_SECRETS, title, passed: true, examined: 'off (compliance.severity.compliance-secrets)', findings: [] };
  const severity = set ?? 'error';
  const findings: PlanFinding[] = [];
  for (const f of files) {
    const seen = new Set(f.before === undefined ? [] : scanYaml(f.name, f.before, lengthOnly).map((h) => message(f.name, h)));
    for (const h of scanYaml(f.name, f.text, lengthOnly)) findings.push({ check: INVENTORY_SECRETS, severity, message: message(f.name, h), location: h.location, new: !seen.has(message(f.name, h)) });
  }
  const n = files.length;
  return { id: INVENTORY_SECRETS, title, passed: !findings.some((x) => x.severity === 'error'), examined: `${n} inventory file${n === 1 ? '' : 's'} (${files.map((f) => f.name).join(', ')})`, findings };
}
