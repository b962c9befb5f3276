/**
 * Platform definitions are data (models/platforms/<name>.yaml): interface naming, transport,
 * capabilities and, for the renderer, template and artifact facts. Adding a platform means
 * adding a file here and templates/<name>/, not a code path.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { z } from 'zod';
import { platformFiles, platformYaml } from '../intent/platform-names.ts';

export const modelsDir = fileURLToPath(new URL('../../models', import.meta.url));

/**
 * What the renderer (src/render) needs from a platform or an extra artifact set: the files it
 * renders per device and the limits its templates cannot express. See the contract at the top
 * of src/render/index.ts.
 */
export const renderSpecSchema = z.strictObject({
  artifacts: z
    .array(
      z.strictObject({
        /** Output file name under OUT/<device>/. */
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/),
        /** Template file in templates/<templates dir>/. */
        template: z.string(),
        /** Line-comment syntax for the generated header: "!" / "#", or [start, end] like ["<!--", "-->"]. */
        comment: z.union([z.string().min(1), z.tuple([z.string(), z.string()])]),
        /** xml: values are XML-escaped; text: written verbatim. */
        format: z.enum(['text', 'xml']).default('text'),
        /** Octal file mode, e.g. "0755" for scripts. */
        mode: z.string().regex(/^0[0-7]{3}$/).default('0644'),
        /** Only devices with one of these roles get this artifact (default: all). */
        roles: z.array(z.string()).optional(),
        /** Only devices a domain gives a view to get this artifact (firewall: devices enforcing a policy). */
        domain: z.string().optional(),
      }),
    )
    .min(1),
  /** Templates directory under templates/ (default: the platform name). */
  templates: z.string().optional(),
  /** Longest Linux-style device name the platform accepts for VRFs (frr: 15). */
  vrf_name_max: z.number().int().min(1).optional(),
  /** Free platform facts for templates (`platform.vars.*`). */
  vars: z.record(z.string(), z.unknown()).default({}),
});

export type RenderSpec = z.output<typeof renderSpecSchema>;

const platformSchema = z.looseObject({
  name: z.string(),
  vendor: z.string(),
  description: z.string(),
  interfaces: z.strictObject({
    port: z.string(),
    port_pattern: z.string(),
    port_pattern_zero_based: z.boolean().default(false),
    first_port: z.number().int().min(0),
    max_ports: z.number().int().min(1),
    loopback: z.string(),
    vtep_loopback: z.string(),
    mgmt: z.string(),
  }),
  uplink_port_start: z.number().int().min(0),
  transport: z.enum(['ssh', 'netconf']),
  /** Per domain (src/domains), per capability kind: what the platform can express. */
  capabilities: z.record(z.string(), z.record(z.string(), z.array(z.string()))),
  render: renderSpecSchema.optional(),
  /** Per inventory transport: the push driver (src/push/drivers.ts) and the artifacts it pushes. */
  push: z.partialRecord(z.enum(['ssh', 'netconf']), z.strictObject({ driver: z.string(), artifacts: z.array(z.string()).min(1) })).default({}),
});

export type PlatformDef = z.output<typeof platformSchema> & {
  /** Port number -> interface name. */
  portName(n: number): string;
  /** Interface name -> port number, or undefined when not a front-panel port of this platform. */
  portNumber(name: string): number | undefined;
};

function withNaming(def: z.output<typeof platformSchema>): PlatformDef {
  const re = new RegExp(def.interfaces.port_pattern);
  const zero = def.interfaces.port_pattern_zero_based;
  const tpl = def.interfaces.port;
  // Both asked for every port of every device (120,000 at 5,000 devices) over a few hundred
  // names: remembered, so a name is one string, built and hashed once.
  const nameOf = (n: number) => tpl.replace('{n}', String(n)).replace('{n0}', String(n - 1));
  const names: string[] = [];
  const numbers = new Map<string, number | undefined>();
  return {
    ...def,
    portName: (n: number) => (Number.isInteger(n) && n >= 0 && n < 65536 ? (names[n] ??= nameOf(n)) : nameOf(n)),
    portNumber: (name: string) => {
      if (numbers.has(name)) return numbers.get(name);
      const m = re.exec(name);
      const n = m ? Number(m[1]) + (zero ? 1 : 0) : undefined;
      if (numbers.size < 65536) numbers.set(name, n);
      return n;
    },
  };
}

let cache: Map<string, PlatformDef> | undefined;

export function loadPlatforms(dir = path.join(modelsDir, 'platforms')): Map<string, PlatformDef> {
  if (cache && dir === path.join(modelsDir, 'platforms')) return cache;
  const out = new Map<string, PlatformDef>();
  for (const { file } of platformFiles(dir)) {
    const res = platformSchema.safeParse(platformYaml(file));
    if (!res.success) {
      throw new Error(`${file}: invalid platform definition: ${res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    out.set(res.data.name, withNaming(res.data));
  }
  if (dir === path.join(modelsDir, 'platforms')) cache = out;
  return out;
}
