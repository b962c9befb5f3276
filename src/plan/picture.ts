/**
 * A picture of the fabric for the plan's pull-request report: devices and links of both
 * revisions, the changed and failing ones marked (added, removed, config changed, failing:
 * an element of an error finding of the head). Two renderings of the same selection: a mermaid
 * flowchart inline in the Markdown comment, and an SVG file beside the report. Every mark is
 * also written in the element's label, so the picture reads without colour.
 *
 * A big fabric is drawn in part (a comment has 65,536 characters, and a picture of 5,000
 * devices says nothing): the marked devices first, then their neighbours, up to a cap; the
 * picture says how many devices it leaves out.
 */
import { roleRank } from '../domains/fabric/roles.ts';
import type { FabricModel } from '../model/types.ts';
import { xml } from '../verify/report/format.ts';
import type { Plan, PlanFinding } from './plan.ts';

export type Mark = 'added' | 'removed' | 'changed' | 'failing';

export interface PictureDevice {
  name: string;
  role: string;
  marks: Mark[];
}

export interface PictureLink {
  /** `devA:ifA--devB:ifB`, the model's link name. */
  id: string;
  a: string;
  b: string;
  marks: Mark[];
}

export interface FabricPicture {
  devices: PictureDevice[];
  links: PictureLink[];
  /** Devices of both revisions, drawn or not. */
  total: number;
  /** Why devices are left out, when they are. */
  note?: string;
}

/** Devices drawn inline (mermaid) and in the SVG file. */
export const MERMAID_DEVICES = 60;
export const SVG_DEVICES = 400;
/** Links drawn inline at most (each is a line of the comment). */
export const MERMAID_LINKS = 240;

const linkId = (l: FabricModel['links'][number]) => `${l.a.device}:${l.a.interface}--${l.b.device}:${l.b.interface}`;

/**
 * The devices and links of both revisions with their marks, `max` devices at most: all when
 * they fit, else the marked ones and then their neighbours (by link); with nothing marked, the
 * top tiers.
 */
export function fabricPicture(plan: Plan, base: FabricModel | undefined, head: FabricModel | undefined, max: number): FabricPicture {
  const devices = new Map<string, PictureDevice>();
  for (const m of [head, base]) for (const d of m?.devices ?? []) if (!devices.has(d.name)) devices.set(d.name, { name: d.name, role: d.role, marks: [] });
  const links = new Map<string, PictureLink>();
  for (const m of [head, base]) for (const l of m?.links ?? []) if (!links.has(linkId(l))) links.set(linkId(l), { id: linkId(l), a: l.a.device, b: l.b.device, marks: [] });
  const mark = (x: { marks: Mark[] } | undefined, k: Mark) => {
    if (x && !x.marks.includes(k)) x.marks.push(k);
  };
  for (const c of plan.changes) {
    if (c.kind === 'device') mark(devices.get(c.key), c.change);
    if (c.kind === 'link' && c.change !== 'changed') mark(links.get(c.key), c.change);
  }
  for (const d of plan.blastRadius.devices) mark(devices.get(d.device), d.change);
  const failing: PlanFinding[] = plan.verification.checks.flatMap((c) => c.findings).filter((f) => f.severity === 'error');
  for (const f of failing) {
    for (const d of f.elements?.devices ?? []) mark(devices.get(d), 'failing');
    for (const l of f.elements?.links ?? []) mark(links.get(l), 'failing');
  }
  const all = [...devices.values()];
  let chosen = all;
  let note: string | undefined;
  if (all.length > max) {
    const neighbours = new Map<string, Set<string>>();
    for (const l of links.values()) {
      for (const [x, y] of [[l.a, l.b], [l.b, l.a]]) {
        if (!neighbours.has(x)) neighbours.set(x, new Set());
        neighbours.get(x)!.add(y);
      }
    }
    const pick = new Set<string>();
    const marked = all.filter((d) => d.marks.length);
    for (const d of marked) if (pick.size < max) pick.add(d.name);
    for (const d of marked) for (const n of neighbours.get(d.name) ?? []) if (pick.size < max) pick.add(n);
    if (!pick.size) for (const d of [...all].sort((x, y) => roleRank(x.role) - roleRank(y.role)).slice(0, max)) pick.add(d.name);
    chosen = all.filter((d) => pick.has(d.name));
    const markedLeft = marked.length - marked.filter((d) => pick.has(d.name)).length;
    note = `${chosen.length} of ${all.length} devices drawn (${marked.length ? 'the changed and failing ones and their neighbours' : 'nothing is marked: the top tiers'})${markedLeft ? `; ${markedLeft} more marked devices left out` : ''}`;
  }
  chosen.sort((x, y) => roleRank(x.role) - roleRank(y.role) || x.name.localeCompare(y.name, 'en', { numeric: true }));
  const drawn = new Set(chosen.map((d) => d.name));
  return { devices: chosen, links: [...links.values()].filter((l) => drawn.has(l.a) && drawn.has(l.b)), total: all.length, ...(note ? { note } : {}) };
}

const label = (x: { name?: string; marks: Mark[] }, name: string) => (x.marks.length ? `${name} (${x.marks.join(', ')})` : name);

const STYLE: Record<Mark, { fill: string; stroke: string }> = {
  failing: { fill: '#fdd', stroke: '#d00' },
  removed: { fill: '#eee', stroke: '#888' },
  added: { fill: '#dfd', stroke: '#080' },
  changed: { fill: '#ffe9b3', stroke: '#c80' },
};
/** The mark that colours an element: failing outranks the others. */
const colourOf = (marks: Mark[]): Mark | undefined => (['failing', 'removed', 'added', 'changed'] as const).find((m) => marks.includes(m));

/** Mermaid text for a label: quotes and markup characters as entities. */
const mm = (s: string) => s.replace(/["#<>&]/g, (c) => `#${c.charCodeAt(0)};`);

/** A mermaid flowchart (a fenced block), links past MERMAID_LINKS left out with a note. */
export function mermaidPicture(p: FabricPicture): string {
  const id = new Map(p.devices.map((d, i) => [d.name, `d${i}`]));
  const out = ['```mermaid', 'graph TD'];
  for (const d of p.devices) out.push(`  ${id.get(d.name)}["${mm(label(d, d.name))}"]`);
  // Marked links first, so a cut leaves out plain ones.
  const links = [...p.links].sort((x, y) => Number(y.marks.length > 0) - Number(x.marks.length > 0));
  const shown = links.slice(0, MERMAID_LINKS);
  const styles: string[] = [];
  shown.forEach((l, i) => {
    const text = l.marks.length ? `|${mm(l.marks.join(', '))}|` : '';
    out.push(`  ${id.get(l.a)} ${l.marks.includes('removed') ? '-.-' : '---'}${text} ${id.get(l.b)}`);
    const c = colourOf(l.marks);
    if (c) styles.push(`  linkStyle ${i} stroke:${STYLE[c].stroke},stroke-width:3px`);
  });
  for (const [m, s] of Object.entries(STYLE)) out.push(`  classDef ${m} fill:${s.fill},stroke:${s.stroke},stroke-width:2px`);
  for (const d of p.devices) {
    const c = colourOf(d.marks);
    if (c) out.push(`  class ${id.get(d.name)} ${c}`);
  }
  out.push(...styles, '```');
  const notes = [p.note, links.length > shown.length ? `${links.length - shown.length} of ${links.length} links between them left out` : undefined].filter(Boolean);
  return out.join('\n') + (notes.length ? `\n\n_${notes.join('; ')}._` : '');
}

/** An SVG drawing: one row per role (top tier first, wrapped past 40 devices), links as lines. */
export function svgPicture(p: FabricPicture, title: string): string {
  const W = 120;
  const H = 110;
  const PER_ROW = 40;
  const pos = new Map<string, { x: number; y: number }>();
  const roles = [...new Set(p.devices.map((d) => d.role))];
  const rows: PictureDevice[][] = [];
  for (const r of roles) {
    const ds = p.devices.filter((d) => d.role === r);
    for (let i = 0; i < ds.length; i += PER_ROW) rows.push(ds.slice(i, i + PER_ROW));
  }
  const widest = Math.max(1, ...rows.map((r) => r.length));
  // Each row centred under the widest, so a tier's links fan out evenly.
  rows.forEach((part, row) => part.forEach((d, j) => pos.set(d.name, { x: 20 + ((widest - part.length) * W) / 2 + j * W + W / 2, y: 70 + row * H })));
  const row = rows.length;
  const width = 40 + widest * W;
  const height = 40 + row * H;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${xml(title)}</title>`,
    '<style>',
    'line { stroke: #999; stroke-width: 1 } .device rect { fill: #f4f6fa; stroke: #556; stroke-width: 1 }',
    ...Object.entries(STYLE).map(([m, s]) => `line.${m} { stroke: ${s.stroke}; stroke-width: 3${m === 'removed' ? '; stroke-dasharray: 6 4' : ''} } .device.${m} rect { fill: ${s.fill}; stroke: ${s.stroke}; stroke-width: 2${m === 'removed' ? '; stroke-dasharray: 4 3' : ''} }`),
    '</style>',
    `<text x="20" y="24" font-size="14">${xml(title)}</text>`,
    ...(['added', 'removed', 'changed', 'failing'] as const).map((m, i) => `<rect x="${20 + i * 90}" y="33" width="14" height="12" fill="${STYLE[m].fill}" stroke="${STYLE[m].stroke}" stroke-width="2"/><text x="${38 + i * 90}" y="43">${m}</text>`),
    ...(p.note ? [`<text x="${20 + 4 * 90}" y="43">${xml(p.note)}</text>`] : []),
  ];
  for (const l of p.links) {
    const a = pos.get(l.a)!;
    const b = pos.get(l.b)!;
    const c = colourOf(l.marks);
    out.push(`<line${c ? ` class="${c}"` : ''} data-link="${xml(l.id)}" x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}"><title>${xml(label(l, l.id))}</title></line>`);
  }
  for (const d of p.devices) {
    const { x, y } = pos.get(d.name)!;
    const c = colourOf(d.marks);
    out.push(
      `<g class="device${c ? ` ${c}` : ''}" data-device="${xml(d.name)}"><title>${xml(label(d, d.name))}</title>` +
        `<rect x="${x - W / 2 + 6}" y="${y - 16}" width="${W - 12}" height="${d.marks.length ? 40 : 28}" rx="4"/>` +
        `<text x="${x}" y="${y + 2}" text-anchor="middle">${xml(d.name)}</text>` +
        (d.marks.length ? `<text x="${x}" y="${y + 16}" text-anchor="middle" font-size="9">${xml(d.marks.join(', '))}</text>` : '') +
        '</g>',
    );
  }
  out.push('</svg>', '');
  return out.join('\n');
}
