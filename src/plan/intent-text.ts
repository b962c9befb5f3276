/**
 * The intent text behind a model object: the YAML node starting at the object's source
 * location. Comparing it between two revisions tells whether a change touched the object
 * itself, or only moved something it derives from (a pool, a group's ASN range): the
 * renumbering alarm of `netloom plan`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { SourceLocation } from '../util/errors.ts';

export class IntentText {
  private readonly files = new Map<string, Map<string, string>>();

  /**
   * The node's text at `loc` (a key: the key with its value), or the line there when no node
   * starts at it. `filePath`: where the place's file is (a revision's places name it relative to
   * that revision's root).
   */
  at(loc: SourceLocation, filePath: (file: string) => string = path.resolve): string | undefined {
    const file = filePath(loc.file);
    let nodes = this.files.get(file);
    if (!nodes) this.files.set(file, (nodes = readNodes(file)));
    return nodes.get(`${loc.line}:${loc.col}`) ?? nodes.get(`line ${loc.line}`);
  }
}

function readNodes(file: string): Map<string, string> {
  const out = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  text.split('\n').forEach((l, i) => out.set(`line ${i + 1}`, l.trim()));
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const put = (start: number, end: number) => {
    const p = lc.linePos(start);
    const k = `${p.line}:${p.col}`;
    // The outermost node starting here wins (a pair's key and its scalar share a start).
    const t = text.slice(start, end);
    if ((out.get(k)?.length ?? 0) < t.length) out.set(k, t);
  };
  visit(doc, (_key, node) => {
    if (isPair(node)) {
      const k = node.key as { range?: [number, number, number] } | null;
      const v = node.value as { range?: [number, number, number] } | null;
      if (k?.range) put(k.range[0], v?.range?.[1] ?? k.range[1]);
    } else if ((isMap(node) || isSeq(node) || isScalar(node)) && node.range) put(node.range[0], node.range[1]);
  });
  return out;
}
