/** What every GSLB target starts from: the diagnostics of features it cannot express. */
import type { SourceLocation } from '../../util/errors.ts';
import type { NodeDiagnostic } from '../types.ts';
import type { GslbTarget } from './model.ts';

export class Gaps {
  readonly diagnostics: NodeDiagnostic[] = [];
  constructor(private readonly target: GslbTarget, private readonly node: string) {}
  add(feature: string, loc: SourceLocation, context: string): void {
    const message = `DNS server ${this.node}: target ${this.target} cannot express ${feature} (${context})`;
    if (!this.diagnostics.some((d) => d.message === message && d.loc === loc)) this.diagnostics.push({ node: this.node, loc, message });
  }
}

/** A host label for a DNS server's own records (ns-<server>): lower case, "_" and "." as "-". */
export const serverLabel = (server: string): string => `ns-${server.toLowerCase().replace(/[_.]/g, '-')}`;
