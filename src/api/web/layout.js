// Positions for the fabric picture, from GET /topology alone (no DOM, so it is testable in
// Node): one column per site (a single column for one fabric), rows by tier (WAN routers
// above every site, then super-spines, spines, border leaves and leaves), each leaf's
// endpoints and service nodes in a row beneath it. Deterministic: the same topology always
// gives the same picture, so positions stay put across refreshes and restarts.
export const GAP = { node: 110, host: 70, row: 120, site: 100 };

const byRank = (a, b) => a.rank - b.rank;

/** id -> { x, y, site } for devices, service nodes (by name) and endpoints ('ep:' + name). */
export function layout(t) {
  const pos = new Map();
  const under = new Map();
  for (const e of t.endpoints) under.set(e.leaf, [...(under.get(e.leaf) ?? []), `ep:${e.name}`]);
  for (const s of t.serviceNodes) under.set(s.leaf, [...(under.get(s.leaf) ?? []), s.name]);
  const multi = t.sites.length > 0;
  const columns = multi ? t.sites.map((s) => s.name) : [null];
  const topRow = multi ? t.devices.filter((d) => !columns.includes(d.site)) : [];
  const tiers = [...new Set(t.devices.filter((d) => !topRow.includes(d)).map((d) => d.tier))].sort();
  // Sites start a row below the WAN routers (with room for the site box's label).
  const y0 = topRow.length ? GAP.row * 1.4 : 0;
  let x0 = 0;
  for (const site of columns) {
    const devs = t.devices.filter((d) => !topRow.includes(d) && (!multi || d.site === site));
    const rows = tiers.map((tier) => devs.filter((d) => d.tier === tier).sort(byRank));
    const slot = (d) => Math.max(GAP.node, (under.get(d.name)?.length ?? 0) * GAP.host);
    const widths = rows.map((r) => r.reduce((w, d) => w + slot(d), 0));
    const w = Math.max(GAP.node, ...widths);
    rows.forEach((r, i) => {
      let x = x0 + (w - widths[i]) / 2;
      for (const d of r) {
        const s = slot(d);
        pos.set(d.name, { x: x + s / 2, y: y0 + i * GAP.row, site });
        const hosts = under.get(d.name) ?? [];
        hosts.forEach((id, j) => pos.set(id, { x: x + (s - hosts.length * GAP.host) / 2 + GAP.host * (j + 0.5), y: y0 + rows.length * GAP.row, site }));
        x += s;
      }
    });
    x0 += w + GAP.site;
  }
  const total = x0 - GAP.site;
  // Spread over the sites below (their links fan out to every site), packed when they are many.
  const step = Math.max(GAP.node, total / (topRow.length + 1));
  topRow.sort(byRank).forEach((d, i) => pos.set(d.name, { x: (total - (topRow.length - 1) * step) / 2 + step * i, y: 0, site: d.site }));
  return pos;
}
