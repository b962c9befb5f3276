/** Shared state of one resolution run: the intent, where things are, and the errors so far. */
import type { Intent, Role } from '../intent/schema.ts';
import { roleTier, type Tier } from '../domains/fabric/roles.ts';
import type { Locator, Path } from '../intent/validate.ts';
import type { Diagnostic, SourceLocation } from '../util/errors.ts';
import type { PlatformDef } from './platforms.ts';
import type { Device, Interface } from './types.ts';

export interface NodeInfo {
  name: string;
  device: Device;
  def: PlatformDef;
  /** Ports in use on this device: port name -> what uses it (for "used twice" errors). */
  usedPorts: Map<string, string>;
  /** Fabric interfaces by name. */
  ifaces: Map<string, Interface>;
  uplinkPortStart: number;
  downlinkPortBase: number;
}

export class ResolveContext {
  readonly diags: Diagnostic[] = [];
  readonly nodes = new Map<string, NodeInfo>();

  constructor(
    readonly intent: Intent,
    readonly loc: Locator,
    readonly platforms: Map<string, PlatformDef>,
  ) {}

  /** A node the intent declares but that failed to resolve: its own error explains it. */
  isBrokenNode(name: string): boolean {
    return !this.nodes.has(name) && Object.prototype.hasOwnProperty.call(this.intent.nodes, name);
  }

  error(path: Path, message: string, key = false): void {
    this.diags.push({ loc: this.loc.at(path, key), message });
  }

  /** Marks a port of a node as used by `user`; a second claim is the "used twice" error. */
  claimPort(node: NodeInfo, port: string, user: string, path: Path): boolean {
    const prev = node.usedPorts.get(port);
    if (prev !== undefined) {
      this.error(path, `${node.name}:${port} is used twice: by ${user} and by ${prev}`);
      return false;
    }
    node.usedPorts.set(port, user);
    return true;
  }

  at(path: Path, key = false): SourceLocation {
    return this.loc.at(path, key);
  }

  nodesWithRole(...roles: Role[]): NodeInfo[] {
    return [...this.nodes.values()].filter((n) => roles.includes(n.device.role));
  }

  nodesOfTier(tier: Tier): NodeInfo[] {
    return [...this.nodes.values()].filter((n) => roleTier(n.device.role) === tier);
  }

  /** Whether the intent declares a node of this tier, resolved or not (one with an error is not in `nodes`). */
  declaresTier(tier: Tier): boolean {
    return Object.values(this.intent.nodes).some((n) => {
      const role = n.role ?? (n.group ? this.intent.groups[n.group]?.role : undefined);
      return role !== undefined && roleTier(role as Role) === tier;
    });
  }
}

export { isLeafRole } from '../domains/fabric/roles.ts';
