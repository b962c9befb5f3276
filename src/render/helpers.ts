/**
 * The few Handlebars helpers templates may use. Anything more involved belongs in the view
 * builder (view.ts), where it is typed and tested, not in template logic.
 */
import type { HelperDelegate } from 'handlebars';

function args(list: unknown[]): unknown[] {
  // Handlebars passes its options object last.
  return list.slice(0, -1);
}

export const helpers: Record<string, HelperDelegate> = {
  /** {{#if (eq a b)}} */
  eq: (...a: unknown[]) => {
    const [x, y] = args(a);
    return x === y;
  },
  /** {{#if (or a b)}} */
  or: (...a: unknown[]) => args(a).some(Boolean),
  /** {{#if (and a b)}} */
  and: (...a: unknown[]) => args(a).every(Boolean),
  /** {{#unless (not a)}} */
  not: (...a: unknown[]) => !args(a)[0],
  /** {{add platform.vars.vrf_table_base id}}: integer sum. */
  add: (...a: unknown[]) => {
    const [x, y] = args(a);
    const sum = Number(x) + Number(y);
    if (!Number.isFinite(sum)) throw new Error(`add: not numbers: ${String(x)}, ${String(y)}`);
    return sum;
  },
  /** {{join list ","}} */
  join: (...a: unknown[]) => {
    const [list, sep] = args(a);
    if (!Array.isArray(list)) return '';
    return list.join(typeof sep === 'string' ? sep : ' ');
  },
};
