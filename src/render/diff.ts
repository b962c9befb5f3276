/**
 * Line diff (Myers' O(ND) greedy algorithm with a trace for the edit script) and unified diff
 * output with context, as `diff -u` prints it. Hand-written: ~100 lines, no dependency for
 * what `netloom render --diff` needs.
 */
export type Edit = { op: ' ' | '-' | '+'; line: string };

export function diffLines(a: string[], b: string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let done = false;
  for (let d = 0; d <= max && !done; d++) {
    trace.push(v.slice());
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) {
        done = true;
        break;
      }
    }
    v = next;
  }
  // Walk the trace backwards to recover the edit script.
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[offset + k - 1] < vd[offset + k + 1]) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) edits.push({ op: ' ', line: a[--x] }), y--;
    if (d > 0) {
      if (x === prevX) edits.push({ op: '+', line: b[--y] });
      else edits.push({ op: '-', line: a[--x] });
    }
  }
  while (x > 0 && y > 0) edits.push({ op: ' ', line: a[--x] }), y--;
  return edits.reverse();
}

function splitText(s: string): string[] {
  if (s === '') return [];
  const l = s.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

/** `diff -u` output, or '' when the texts are equal. */
export function unifiedDiff(oldText: string, newText: string, oldName: string, newName: string, context = 3): string {
  if (oldText === newText) return '';
  const edits = diffLines(splitText(oldText), splitText(newText));
  const out = [`--- ${oldName}`, `+++ ${newName}`];
  let i = 0;
  // Old/new line numbers (1-based) of edits[i].
  const oldNo: number[] = [];
  const newNo: number[] = [];
  let o = 1;
  let nn = 1;
  for (const e of edits) {
    oldNo.push(o);
    newNo.push(nn);
    if (e.op !== '+') o++;
    if (e.op !== '-') nn++;
  }
  while (i < edits.length) {
    if (edits[i].op === ' ') {
      i++;
      continue;
    }
    const start = Math.max(0, i - context);
    let end = i;
    // Extend the hunk while the next change is within 2*context unchanged lines.
    for (;;) {
      while (end < edits.length && edits[end].op !== ' ') end++;
      let j = end;
      while (j < edits.length && edits[j].op === ' ' && j - end < 2 * context) j++;
      if (j < edits.length && edits[j].op !== ' ' && j - end <= 2 * context) end = j;
      else break;
    }
    const stop = Math.min(edits.length, end + context);
    const hunk = edits.slice(start, stop);
    const oldLen = hunk.filter((e) => e.op !== '+').length;
    const newLen = hunk.filter((e) => e.op !== '-').length;
    const oStart = oldLen === 0 ? oldNo[start] - 1 : oldNo[start];
    const nStart = newLen === 0 ? newNo[start] - 1 : newNo[start];
    out.push(`@@ -${oStart},${oldLen} +${nStart},${newLen} @@`);
    for (const e of hunk) out.push(e.op + e.line);
    i = stop;
  }
  return out.join('\n') + '\n';
}
