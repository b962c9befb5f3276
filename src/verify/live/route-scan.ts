/**
 * `show ip route [vrf X] json` read straight from the text into what parseRoutes keeps, without
 * the parsed tree: a leaf's default table at 5,000 devices is 10,000 prefixes and several MB of
 * JSON whose tree (a dozen fields per route and per next hop) was most of a first read's CPU and
 * of its garbage. Fields parseRoutes does not read are stepped over, not built.
 *
 * scanRoutes gives exactly parseRoutes(vrf, JSON.parse(text)) or undefined: anything it does not
 * read the same way (not JSON, a top level that is not an object, an integer-like prefix key,
 * which an object would reorder, a protocol that is neither a string nor null) is left to the
 * whole parse, which then answers as before (test/verify/route-scan.test.ts).
 */
import { unmapIpv4, type ObservedRoute } from './observed.ts';

/** What parseRoutes reads of one route entry (the other fields stepped over). */
interface Entry {
  selected: boolean;
  /** A string, null, or absent (undefined). */
  protocol: string | null | undefined;
  /** Undefined when `nexthops` is absent or not an array. */
  hops: Hop[] | undefined;
}
/** What parseRoutes reads of one next hop. */
interface Hop {
  active: boolean;
  fib: boolean;
  resolver: boolean;
  recursive: boolean;
  ip: string | undefined;
  iface: string | undefined;
}

// The scan is plain functions over (text, index) returning the index after what they read, or
// -1 where the text leaves what is read here (closures and method calls per character made it
// slower than the whole parse). A string read is left in `str`.
const ESCAPED = /"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
let str = '';
/** Whether the last string read had escapes. */
let wasEscaped = false;

function ws(s: string, i: number): number {
  for (let c = s.charCodeAt(i); c === 32 || c === 10 || c === 13 || c === 9; c = s.charCodeAt(++i));
  return i;
}

/** A string at i: its end, and its text in `str` when `keep`. */
function string(s: string, i: number, keep: boolean): number {
  const j = s.indexOf('"', i + 1);
  let k = i + 1;
  // No escape or control character before the closing quote: the text as is.
  for (; k < j; k++) {
    const c = s.charCodeAt(k);
    if (c < 32 || c === 92) break;
  }
  if (k === j) {
    wasEscaped = false;
    if (keep) str = s.slice(i + 1, j);
    return j + 1;
  }
  wasEscaped = true;
  ESCAPED.lastIndex = i;
  if (!ESCAPED.test(s)) return -1;
  if (keep) str = JSON.parse(s.slice(i, ESCAPED.lastIndex)) as string;
  return ESCAPED.lastIndex;
}

/** A JSON number at i: its end, or -1. */
function number(s: string, i: number): number {
  if (s.charCodeAt(i) === 45) i++;
  let c = s.charCodeAt(i);
  if (c === 48) c = s.charCodeAt(++i);
  else if (c >= 49 && c <= 57) do c = s.charCodeAt(++i); while (c >= 48 && c <= 57);
  else return -1;
  if (c === 46) {
    c = s.charCodeAt(++i);
    if (!(c >= 48 && c <= 57)) return -1;
    do c = s.charCodeAt(++i); while (c >= 48 && c <= 57);
  }
  if (c === 101 || c === 69) {
    c = s.charCodeAt(++i);
    if (c === 43 || c === 45) c = s.charCodeAt(++i);
    if (!(c >= 48 && c <= 57)) return -1;
    do c = s.charCodeAt(++i); while (c >= 48 && c <= 57);
  }
  return i;
}

/** Steps over any JSON value at i (after blanks). */
function skip(s: string, i: number): number {
  i = ws(s, i);
  const c = s.charCodeAt(i);
  if (c === 34) return string(s, i, false);
  if (c === 123 || c === 91) {
    const close = c === 123 ? 125 : 93;
    i = ws(s, i + 1);
    if (s.charCodeAt(i) === close) return i + 1;
    for (;;) {
      if (c === 123) {
        if (s.charCodeAt(i) !== 34) return -1;
        i = ws(s, string(s, i, false));
        if (i < 0 || s.charCodeAt(i) !== 58) return -1;
        i++;
      }
      i = skip(s, i);
      if (i < 0) return -1;
      i = ws(s, i);
      const n = s.charCodeAt(i++);
      if (n === close) return i;
      if (n !== 44) return -1;
      i = ws(s, i);
    }
  }
  if (c === 116) return s.startsWith('true', i) ? i + 4 : -1;
  if (c === 102) return s.startsWith('false', i) ? i + 5 : -1;
  if (c === 110) return s.startsWith('null', i) ? i + 4 : -1;
  return number(s, i);
}

/** `=== true` of the value at i; its end in `end`, and `readOk` false where it was not read. */
let end = 0;
let readOk = true;
function isTrue(s: string, i: number): boolean {
  i = ws(s, i);
  if (s.startsWith('true', i)) {
    end = i + 4;
    readOk = true;
    return true;
  }
  end = skip(s, i);
  readOk = end >= 0;
  return false;
}

/** `typeof x === 'string'`: the string in `str` and 1, or 0 for another value; its end in `end`. */
function maybeString(s: string, i: number): number {
  i = ws(s, i);
  if (s.charCodeAt(i) === 34) {
    end = string(s, i, true);
    return end < 0 ? -1 : 1;
  }
  end = skip(s, i);
  return end < 0 ? -1 : 0;
}

/**
 * Reads the members of the object at i (after blanks; a value that is not an object is stepped
 * over and reads as {}), each through `member`, which reads the value at its index and returns
 * the value's end. Returns the object's end.
 */
function members<T>(s: string, i: number, into: T, member: (s: string, i: number, from: number, to: number, into: T) => number): number {
  i = ws(s, i);
  if (s.charCodeAt(i) !== 123) return skip(s, i);
  i = ws(s, i + 1);
  if (s.charCodeAt(i) === 125) return i + 1;
  for (;;) {
    if (s.charCodeAt(i) !== 34) return -1;
    const from = i;
    const to = string(s, i, false);
    if (to < 0) return -1;
    const escaped = wasEscaped;
    i = ws(s, to);
    if (s.charCodeAt(i) !== 58) return -1;
    // An escaped key is compared decoded (set per member: a member's nested objects set their own).
    keyText = escaped ? (JSON.parse(s.slice(from, to)) as string) : undefined;
    i = member(s, i + 1, from, to, into);
    if (i < 0) return -1;
    i = ws(s, i);
    const n = s.charCodeAt(i++);
    if (n === 125) return i;
    if (n !== 44) return -1;
    i = ws(s, i);
  }
}

/** The key of the member being read, decoded, when it was escaped in the text (rare). */
let keyText: string | undefined;
/** Whether the key at [from, to) (quotes included) is `key`. */
function keyIs(s: string, from: number, to: number, key: string): boolean {
  if (keyText !== undefined) return keyText === key;
  return to - from === key.length + 2 && s.startsWith(key, from + 1);
}

/** A next hop's true/false fields read here, by their key's length (each length names one). */
const FLAG_BY_LENGTH: Record<number, 'active' | 'fib' | 'resolver' | 'recursive' | undefined> = { 6: 'active', 3: 'fib', 8: 'resolver', 9: 'recursive' };

/** The next-hop object at i (members() and a member reader in one: a table has 100,000 of them). */
function hopObject(s: string, i: number, h: Hop): number {
  i = ws(s, i + 1);
  if (s.charCodeAt(i) === 125) return i + 1;
  for (;;) {
    if (s.charCodeAt(i) !== 34) return -1;
    const from = i;
    const to = string(s, i, false);
    if (to < 0) return -1;
    keyText = wasEscaped ? (JSON.parse(s.slice(from, to)) as string) : undefined;
    i = ws(s, to);
    if (s.charCodeAt(i) !== 58) return -1;
    i = ws(s, i + 1);
    // By the key's length first: most of a next hop's fields are not read.
    let r = -2;
    const len = keyText !== undefined ? keyText.length : to - from - 2;
    const flag = FLAG_BY_LENGTH[len];
    if (flag !== undefined) {
      if (keyIs(s, from, to, flag)) {
        h[flag] = isTrue(s, i);
        r = readOk ? end : -1;
      }
    } else switch (len) {
      case 2:
        if (keyIs(s, from, to, 'ip')) {
          const m = maybeString(s, i);
          h.ip = m === 1 ? str : undefined;
          r = m < 0 ? -1 : end;
        }
        break;
      case 13:
        if (keyIs(s, from, to, 'interfaceName')) {
          const m = maybeString(s, i);
          h.iface = m === 1 ? str : undefined;
          r = m < 0 ? -1 : end;
        }
        break;
    }
    i = r === -2 ? skip(s, i) : r;
    if (i < 0) return -1;
    i = ws(s, i);
    const n = s.charCodeAt(i++);
    if (n === 125) return i;
    if (n !== 44) return -1;
    i = ws(s, i);
  }
}

function entryMember(s: string, i: number, from: number, to: number, e: Entry): number {
  if (keyIs(s, from, to, 'selected')) {
    e.selected = isTrue(s, i);
    return readOk ? end : -1;
  }
  if (keyIs(s, from, to, 'protocol')) {
    i = ws(s, i);
    const c = s.charCodeAt(i);
    if (c === 34) {
      i = string(s, i, true);
      e.protocol = str;
      return i;
    }
    if (c === 110 && s.startsWith('null', i)) {
      e.protocol = null;
      return i + 4;
    }
    return -1;
  }
  if (keyIs(s, from, to, 'nexthops')) {
    i = ws(s, i);
    if (s.charCodeAt(i) !== 91) {
      e.hops = undefined;
      return skip(s, i);
    }
    const hops: Hop[] = [];
    i = ws(s, i + 1);
    if (s.charCodeAt(i) === 93) {
      e.hops = hops;
      return i + 1;
    }
    for (;;) {
      // A next hop that is not an object reads as {}: neither active nor fib, so filtered out.
      const isObject = s.charCodeAt(i) === 123;
      const h: Hop = { active: false, fib: false, resolver: false, recursive: false, ip: undefined, iface: undefined };
      i = isObject ? hopObject(s, i, h) : skip(s, i);
      if (i < 0) return -1;
      if (isObject) hops.push(h);
      i = ws(s, i);
      const n = s.charCodeAt(i++);
      if (n === 93) break;
      if (n !== 44) return -1;
      i = ws(s, i);
    }
    e.hops = hops;
    return i;
  }
  return skip(s, i);
}

const NO_ENTRY: Entry = { selected: false, protocol: undefined, hops: undefined };

/** parseRoutes' reading of one prefix's entries (the selected one, else the first). */
function routeOf(vrf: string, prefix: string, entries: (Entry | undefined)[] | undefined): ObservedRoute {
  let sel: Entry | undefined;
  if (entries) {
    for (const e of entries) {
      if (e?.selected) {
        sel = e;
        break;
      }
    }
    sel ??= entries[0];
  }
  sel ??= NO_ENTRY;
  const list = sel.hops ?? [];
  // A recursive next hop is listed twice, as itself and resolved: count the resolved ones.
  let resolved = false;
  for (const n of list) if ((n.active || n.fib) && n.resolver) resolved = true;
  const hops: { ip?: string; iface?: string }[] = [];
  for (const n of list) {
    if (!(n.active || n.fib) || (resolved && n.recursive)) continue;
    const h: { ip?: string; iface?: string } = {};
    // Only an address starting with ':' can be IPv4-mapped.
    if (n.ip !== undefined) h.ip = n.ip.charCodeAt(0) === 58 ? unmapIpv4(n.ip) : n.ip;
    if (n.iface !== undefined) h.iface = n.iface;
    hops.push(h);
  }
  return { vrf, prefix, protocol: String(sel.protocol ?? ''), nexthops: hops.length, hops };
}

/** An integer-like key, which a JS object lists first whatever its place in the text. */
const indexLike = (k: string) => /^(?:0|[1-9]\d*)$/.test(k);

/** parseRoutes(vrf, JSON.parse(text.trim() || '{}')), or undefined where the text is not read the same way here. */
export function scanRoutes(vrf: string, text: string): ObservedRoute[] | undefined {
  const out: ObservedRoute[] = [];
  // A prefix listed twice keeps its first place and its last value, as in an object.
  const at = new Map<string, number>();
  const read = eachRoute(vrf, text, (r) => {
    const i = at.get(r.prefix);
    if (i === undefined) at.set(r.prefix, out.push(r) - 1);
    else out[i] = r;
    return true;
  });
  return read ? out : undefined;
}

/**
 * Each route of the table as parseRoutes reads it, in the order of the text (a prefix listed
 * twice is given twice: the caller tells). False where the text is not read the same way here,
 * or `route` returned false (it stops there).
 */
export function eachRoute(vrf: string, text: string, route: (r: ObservedRoute) => boolean): boolean {
  try {
    return scan(vrf, text, route);
  } catch (e) {
    // Nested past the stack (not FRR's): the whole parse answers.
    if (e instanceof RangeError) return false;
    throw e;
  } finally {
    keyText = undefined;
  }
}

function scan(vrf: string, s: string, route: (r: ObservedRoute) => boolean): boolean {
  let i = ws(s, 0);
  if (s.charCodeAt(i) !== 123) return false;
  i = ws(s, i + 1);
  if (s.charCodeAt(i) !== 125) {
    for (;;) {
      if (s.charCodeAt(i) !== 34) return false;
      i = string(s, i, true);
      if (i < 0) return false;
      const prefix = str;
      if (indexLike(prefix)) return false;
      i = ws(s, i);
      if (s.charCodeAt(i) !== 58) return false;
      i = ws(s, i + 1);
      let entries: (Entry | undefined)[] | undefined;
      if (s.charCodeAt(i) === 91) {
        entries = [];
        i = ws(s, i + 1);
        if (s.charCodeAt(i) === 93) i++;
        else {
          for (;;) {
            // An entry that is not an object reads as {} (obj()).
            const isObject = s.charCodeAt(i) === 123;
            const e: Entry = { selected: false, protocol: undefined, hops: undefined };
            i = members(s, i, e, entryMember);
            if (i < 0) return false;
            entries.push(isObject ? e : undefined);
            i = ws(s, i);
            const n = s.charCodeAt(i++);
            if (n === 93) break;
            if (n !== 44) return false;
            i = ws(s, i);
          }
        }
      } else {
        i = skip(s, i);
        if (i < 0) return false;
      }
      if (!route(routeOf(vrf, prefix, entries))) return false;
      i = ws(s, i);
      const n = s.charCodeAt(i++);
      if (n === 125) break;
      if (n !== 44) return false;
      i = ws(s, i);
    }
  } else i++;
  return ws(s, i) === s.length;
}
