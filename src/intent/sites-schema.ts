/**
 * The multi-site intent: a directory holding `sites.yaml` and one fabric intent directory per
 * site. Each site resolves alone, exactly as a single fabric does (so adding a site renumbers
 * nothing in the others); `sites.yaml` says how the sites are joined: WAN/DCI routers, the
 * links from border leaves to them (or between border leaves), and which VRFs (L3, EVPN
 * type-5) and networks (L2 stretch) cross the DCI.
 */
import { z } from 'zod';
import { asn, freeText, ipv4, ipv4Prefix, name } from './primitives.ts';
import { domains } from '../domains/index.ts';

/** "device:port", device names being unique across the sites and the WAN. */
const linkEnd = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,62}:[A-Za-z0-9_./-]{1,40}$/, 'must be DEVICE:PORT, e.g. border1:eth20');

const site = z.strictObject({
  id: z.number().int().min(1, 'site id must be between 1 and 99').max(99, 'site id must be between 1 and 99').describe('Stable site number (link ids, ordering); never reuse one'),
  dir: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'must be the name of a directory beside sites.yaml (no "/" and no "..")')
    .describe('The site\'s fabric intent directory, beside sites.yaml'),
  description: freeText.optional(),
});

const wanRouter = z.strictObject({
  id: z.number().int().min(1).max(250).describe('Stable id: loopback and management address offsets in the WAN pools'),
  platform: z.literal('frr').default('frr').describe('WAN routers run FRR'),
  description: freeText.optional(),
});

export const sitesSchema = z.strictObject({
  name: name.describe('Name of the multi-site network (lab name)'),
  mgmt: z
    .strictObject({
      subnet: ipv4Prefix.describe("The lab's management network: holds every site's and the WAN's management pool"),
      gateway: ipv4.optional().describe('Management gateway (default: the first address)'),
    })
    .describe('Management network across the sites'),
  sites: z.record(name, site).describe('The sites, each a fabric intent directory'),
  wan: z
    .strictObject({
      asn: asn.describe('ASN of the WAN routers (one AS)'),
      pools: z.strictObject({ loopback: ipv4Prefix, mgmt: ipv4Prefix }),
      routers: z.record(name, wanRouter),
    })
    .optional()
    .describe('WAN/DCI routers between the sites (absent: border leaves peer directly)'),
  dci: z
    .strictObject({
      links: z
        .array(z.strictObject({ a: linkEnd, b: linkEnd, mtu: z.number().int().min(1280).max(9216).optional() }))
        .min(1, 'a DCI needs at least one link')
        .describe('Border leaf to WAN router (or border leaf to border leaf of another site); eBGP unnumbered, IPv4 unicast and L2VPN EVPN'),
      vrfs: z.array(name).default([]).describe('VRFs routed between the sites (EVPN type-5, per-site route targets imported across)'),
      stretch: z.array(name).default([]).describe('Networks bridged between the sites (L2 stretch: the same network, VLAN, VNI and subnet in each site)'),
    })
    .describe('How the sites are joined'),
});

/**
 * The multi-site directory's own files: sites.yaml, and beside it any domain section that
 * spans the sites (gslb names answered from several sites, for one).
 */
export const multiSiteSchema = sitesSchema
  .extend(Object.fromEntries(domains().flatMap((d) => (d.intent ? [[d.id, d.intent.optional().describe(d.title)]] : []))))
  .describe('netloom multi-site intent: sites.yaml and domain sections spanning the sites');

export type SitesIntent = z.infer<typeof sitesSchema>;
