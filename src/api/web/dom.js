// DOM building without innerHTML: every piece of data lands in a text node or an attribute.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Replaces an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** A table of expected vs observed rows; each row's `agrees` marks it (false: a mismatch). */
export function compareTable(id, headers, rows) {
  const mark = (a) => (a === false ? h('td', { class: 'mark bad', title: 'mismatch' }, '✗') : a === true ? h('td', { class: 'mark ok', title: 'agrees' }, '✓') : h('td', { class: 'mark' }, '·'));
  return h('table', { id, class: 'cmp' },
    h('tr', {}, headers.map((x) => h('th', {}, x)), h('th', {}, '')),
    rows.map((r) => h('tr', { class: r.agrees === false ? 'mismatch' : '' }, r.cells.map((c) => h('td', {}, c)), mark(r.agrees))));
}

export const hms = (iso) => (iso ? String(iso).slice(11, 19) : '');
