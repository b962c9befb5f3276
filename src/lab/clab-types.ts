/**
 * The parts of a containerlab topology file (`*.clab.yml`) the lab driver reads. The full
 * format is defined by containerlab's JSON Schema (lab/schemas/clab.schema.json), which every
 * accepted file is validated against first; these types only name what netloom uses.
 */
export interface ClabNodeConfig {
  kind?: string;
  image?: string;
  group?: string;
  binds?: string[];
  exec?: string[];
  env?: Record<string, string | number | boolean>;
  sysctls?: Record<string, string | number>;
  hostname?: string;
  'mgmt-ipv4'?: string;
  'mgmt-ipv6'?: string;
  'network-mode'?: string;
  /** Main process of a linux node (docker CMD), a command line. */
  cmd?: string;
  /** Docker ENTRYPOINT override, a command line; `cmd` is appended to it. */
  entrypoint?: string;
  /** Seconds to wait before the node is started. */
  'startup-delay'?: number;
  labels?: Record<string, string>;
  [other: string]: unknown;
}

export interface ClabEndpointObject {
  node: string;
  interface: string;
  mac?: string;
}

export interface ClabLink {
  endpoints?: (string | ClabEndpointObject)[];
  type?: string;
  mtu?: number;
  [other: string]: unknown;
}

export interface ClabTopology {
  name: string;
  prefix?: string;
  mgmt?: {
    network?: string;
    bridge?: string;
    'ipv4-subnet'?: string;
    'ipv4-gw'?: string;
    'ipv6-subnet'?: string;
    [other: string]: unknown;
  };
  topology: {
    defaults?: ClabNodeConfig;
    kinds?: Record<string, ClabNodeConfig>;
    groups?: Record<string, ClabNodeConfig>;
    nodes: Record<string, ClabNodeConfig | null>;
    links?: ClabLink[];
  };
  [other: string]: unknown;
}
