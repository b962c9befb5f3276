/**
 * The fabric's node roles, as data: every stage that behaves differently per role asks this
 * table (tier, whether the role is a leaf, display rank) instead of comparing role names, so a
 * new role is one row here. The list order is the intent schema's enum order.
 */
export const ROLE_DEFS = [
  /** Third tier: spines of every pod uplink to it; one ASN for the layer. */
  { name: 'super-spine', tier: 'super-spine', leaf: false, allVrfs: false, rank: 0, dci: false },
  /** Second tier: the leaves of its pod uplink to it; default iBGP route reflector. */
  { name: 'spine', tier: 'spine', leaf: false, allVrfs: false, rank: 1, dci: false },
  /** First tier: VTEP, access ports and endpoints. */
  { name: 'leaf', tier: 'leaf', leaf: true, allVrfs: false, rank: 3, dci: false },
  /** A leaf that instantiates every VRF (external connectivity), with or without endpoints. */
  { name: 'border-leaf', tier: 'leaf', leaf: true, allVrfs: true, rank: 2, dci: true },
  /**
   * A WAN/DCI router of a multi-site intent (sites.yaml): the tier above every site, relaying
   * underlay and EVPN routes between the sites' border leaves. Not a role of a fabric's nodes.
   */
  { name: 'wan', tier: 'super-spine', leaf: false, allVrfs: false, rank: 0, dci: true },
] as const;

export type RoleDef = (typeof ROLE_DEFS)[number];
export type Role = RoleDef['name'];
export type Tier = RoleDef['tier'];

/** The role of a multi-site intent's WAN routers. */
export const WAN_ROLE = 'wan' as const satisfies Role;

/** Roles a fabric intent's nodes may take (WAN routers come from sites.yaml only). */
export const roleNames = ROLE_DEFS.filter((r) => r.name !== WAN_ROLE).map((r) => r.name) as unknown as readonly [Role, ...Role[]];

const byName = new Map<string, RoleDef>(ROLE_DEFS.map((r) => [r.name, r]));

function def(r: string): RoleDef {
  const d = byName.get(r);
  if (!d) throw new Error(`unknown role '${r}'`);
  return d;
}

/** The role of each tier that generated intents (netloom gen) use. */
export const TIER_ROLE = { superSpine: 'super-spine', spine: 'spine', leaf: 'leaf' } as const satisfies Record<string, Role>;

/** Every role by a stable key, for generators that write intents using each of them. */
export const INTENT_ROLE = { ...TIER_ROLE, borderLeaf: 'border-leaf' } as const satisfies Record<string, Role>;

/** Roles from the edge inwards (leaves first): the order in which a minimiser drops nodes. */
export const rolesEdgeFirst = (): Role[] => [...ROLE_DEFS].sort((a, b) => b.rank - a.rank).map((r) => r.name);

export const roleTier = (r: string): Tier => def(r).tier;
/** Leaves carry a VTEP, access ports, endpoints and tenant VRFs. */
export const isLeafRole = (r: string): boolean => def(r).leaf;
/** Roles that may end a DCI link of a multi-site intent (border leaves, WAN routers). */
export const endsDci = (r: string): boolean => def(r).dci;
/** A WAN router of a multi-site intent. */
export const isWanRole = (r: string): boolean => r === WAN_ROLE;
/** Roles that instantiate every VRF of the fabric. */
export const hasAllVrfs = (r: string): boolean => def(r).allVrfs;
/** The tier a role uplinks to by default, if any. */
export const parentTier = (r: string): Tier | undefined => ({ leaf: 'spine', spine: 'super-spine', 'super-spine': undefined } as const)[def(r).tier];
/** Sort key for listings and pictures: top tier first, border leaves before leaves. */
export const roleRank = (r: string): number => byName.get(r)?.rank ?? ROLE_DEFS.length;
