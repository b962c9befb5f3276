/**
 * CEL for user rules: one environment (undeclared variables are dynamic: `self` is the
 * object's JSON), expressions compiled once per process. A parse error is reported by the
 * resolver at the expression's intent line with the library's own message.
 */
import { Environment } from '@marcbachmann/cel-js';

const env = new Environment({ unlistedVariablesAreDyn: true, limits: { maxAstNodes: 10_000, maxDepth: 64, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 32 } });
const compiled = new Map<string, (vars: Record<string, unknown>) => unknown>();

export type CelProgram = (vars: Record<string, unknown>) => unknown;

/** The compiled expression, or throws the library's error. */
export function compileCel(expr: string): CelProgram {
  let p = compiled.get(expr);
  if (!p) {
    const parsed = env.parse(expr);
    p = (vars) => parsed(vars);
    compiled.set(expr, p);
  }
  return p;
}

/** The first line of a CEL error (the rest is the library's caret picture of the expression). */
export const celMessage = (e: unknown): string => String((e as Error)?.message ?? e).split('\n')[0];
