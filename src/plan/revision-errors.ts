/** Intent errors found in a revision's exported copy, named as the repository names the file. */
import path from 'node:path';
import { IntentError } from '../util/errors.ts';
import type { PlanSide } from './plan.ts';

/** A plan side with where its files are: the export's root, or the repository for the working tree. */
export interface RootedSide extends PlanSide {
  root: string;
}

/** An intent error at a revision names its files as `REV:path`, never the temporary copy. */
export function atRevision(e: unknown, sides: RootedSide[]): unknown {
  if (!(e instanceof IntentError)) return e;
  return new IntentError(
    e.diagnostics.map((d) => {
      // A relative place is a side's own (its files are recorded relative to its root): the one
      // side loading, or an error buildPlan made absolute (sideError).
      const abs = path.isAbsolute(d.loc.file) ? d.loc.file : sides.length === 1 ? sides[0].filePath!(d.loc.file) : path.resolve(d.loc.file);
      const side = sides.find((s) => !path.relative(s.root, abs).startsWith('..'));
      if (!side) return d;
      return { ...d, loc: { ...d.loc, file: `${side.commit ? `${side.rev}:` : ''}${path.relative(side.root, abs)}` } };
    }),
  );
}
