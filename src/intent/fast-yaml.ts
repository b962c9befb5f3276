/**
 * The common intent file, read about ten times faster than through the `yaml` package's
 * document model: js-yaml's event stream (offsets into the text, no nodes), converted to the
 * same value and the same places that load.ts's FileConverter gives. The `yaml` parse takes most
 * of a big intent's load (0.45 s of the 5,000-device shape's 0.67 MB, js-yaml's events 0.03 s).
 *
 * It declines (undefined: the caller parses the file with `yaml`, whose diagnostics are the
 * established ones) on anything outside the plain subset where both parsers are known to agree,
 * so a file either gets exactly what the `yaml` path gives or goes through that path:
 * - any syntax error js-yaml reports, several documents, directives, a BOM, tabs or CRs;
 * - anchors, aliases, tags, merge keys (`<<`), block scalars (`|`, `>`), a scalar spanning lines;
 * - a null (an empty value, `~`, `null`), a key that is not a scalar, a key given twice;
 * - a top level that is not a mapping.
 * Plain scalars resolve as the `yaml` package's core schema does (same tests, same order).
 * test/intent/fast-yaml.test.ts holds both paths equal over every intent and fixture file of the
 * repository, generated fabrics, and thousands of randomly styled and randomly broken texts.
 */
import { EVENT_ID, getScalarValue, parseEvents, SCALAR_STYLE, type Event, type ScalarEvent } from 'js-yaml';
import type { SourceLocation } from '../util/errors.ts';
import type { Origins } from './load.ts';

class Decline extends Error {}

/** A plain scalar's value under the `yaml` package's core schema (null excluded: declined). */
function resolvePlain(s: string): string | number | boolean {
  const c = s.charCodeAt(0);
  // Only these can start a non-string: digits, sign, dot, and the letters of true/false/null/nan/inf.
  if (!((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || c === 126 || /^[TtFfNn]/.test(s))) return s;
  if (/^(?:~|[Nn]ull|NULL)$/.test(s)) throw new Decline();
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(s)) return s[0] === 't' || s[0] === 'T';
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(s)) return parseInt(s, 10);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s)) return parseFloat(s);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s)) return parseFloat(s);
  return s;
}

class EventConverter {
  private i = 0;
  /** Offsets where lines start (line n + 1 starts at lineStarts[n]). */
  private readonly lineStarts: number[] = [0];
  private cursorLine = 0;

  constructor(
    private readonly file: string,
    private readonly text: string,
    private readonly events: Event[],
    private readonly origins: Origins,
  ) {
    for (let p = text.indexOf('\n'); p >= 0; p = text.indexOf('\n', p + 1)) this.lineStarts.push(p + 1);
  }

  /** file:line:col of an offset (offsets mostly grow: walk from the last line found). */
  loc(off: number): SourceLocation {
    const ls = this.lineStarts;
    let l = this.cursorLine;
    if (ls[l] > off) l = 0;
    while (l + 1 < ls.length && ls[l + 1] <= off) l++;
    this.cursorLine = l;
    return { file: this.file, line: l + 1, col: off - ls[l] + 1 };
  }

  private next(): Event {
    const e = this.events[this.i++];
    if (!e) throw new Decline();
    return e;
  }

  /** Where a scalar starts as the `yaml` package places it (at the opening quote). */
  private scalarStart(e: ScalarEvent): number {
    return e.style === SCALAR_STYLE.PLAIN ? e.valueStart : e.valueStart - 1;
  }

  private scalar(e: ScalarEvent): string | number | boolean {
    if (e.anchorStart >= 0 || e.tagStart >= 0 || e.valueStart < 0) throw new Decline();
    if (e.style !== SCALAR_STYLE.PLAIN && e.style !== SCALAR_STYLE.SINGLE_QUOTED && e.style !== SCALAR_STYLE.DOUBLE_QUOTED) throw new Decline();
    const nl = this.text.indexOf('\n', e.valueStart);
    if (nl >= 0 && nl < e.valueEnd) throw new Decline();
    const s = getScalarValue(this.text, e);
    return e.style === SCALAR_STYLE.PLAIN ? resolvePlain(s) : s;
  }

  /** The node starting at the next event, with the offset the `yaml` package gives its start. */
  value(): { value: unknown; start: number } {
    const e = this.next();
    if (e.type === EVENT_ID.SCALAR) return { value: this.scalar(e), start: this.scalarStart(e) };
    if (e.type !== EVENT_ID.MAPPING && e.type !== EVENT_ID.SEQUENCE) throw new Decline();
    if (e.anchorStart >= 0 || e.tagStart >= 0 || e.start < 0) throw new Decline();
    if (e.type === EVENT_ID.SEQUENCE) {
      const arr: unknown[] = [];
      this.origins.setSelf(arr, this.loc(e.start));
      while (this.events[this.i]?.type !== EVENT_ID.POP) {
        const item = this.value();
        this.origins.set(arr, arr.length, { file: this.file, value: this.loc(item.start) });
        arr.push(item.value);
      }
      this.i++;
      return { value: arr, start: e.start };
    }
    const obj: Record<string, unknown> = {};
    this.origins.setSelf(obj, this.loc(e.start));
    while (this.events[this.i]?.type !== EVENT_ID.POP) {
      const k = this.next();
      if (k.type !== EVENT_ID.SCALAR) throw new Decline();
      const keyValue = this.scalar(k);
      if (k.style === SCALAR_STYLE.PLAIN && keyValue === '<<') throw new Decline();
      const key = String(keyValue);
      if (Object.prototype.hasOwnProperty.call(obj, key)) throw new Decline();
      const keyLoc = this.loc(this.scalarStart(k));
      const v = this.value();
      obj[key] = v.value;
      this.origins.set(obj, key, { file: this.file, key: keyLoc, value: this.loc(v.start) });
    }
    this.i++;
    return { value: obj, start: e.start };
  }

  document(): Record<string, unknown> {
    const d = this.next();
    if (d.type !== EVENT_ID.DOCUMENT || d.directives.length) throw new Decline();
    const top = this.events[this.i];
    if (top?.type !== EVENT_ID.MAPPING) throw new Decline();
    const { value } = this.value();
    if (this.next().type !== EVENT_ID.POP || this.i !== this.events.length) throw new Decline();
    return value as Record<string, unknown>;
  }
}

/**
 * The file's top-level mapping with its places recorded in `origins`, or undefined where this
 * path declines (see above); nothing is recorded for a declined file's value that the caller
 * could reach.
 */
export function fastParseFile(file: string, text: string, origins: Origins): Record<string, unknown> | undefined {
  if (/[\t\r\uFEFF]/.test(text)) return undefined;
  let events: Event[];
  try {
    events = parseEvents(text, {});
  } catch {
    return undefined;
  }
  try {
    return new EventConverter(file, text, events, origins).document();
  } catch (e) {
    if (e instanceof Decline) return undefined;
    throw e;
  }
}
