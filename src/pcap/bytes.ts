/** Bounds-checked field reading for the per-protocol decoders (not the hot path). */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

export function need(off: number, n: number, end: number, what: string): void {
  if (n < 0 || off + n > end) throw new DecodeError(`truncated ${what}: need ${n} bytes, ${Math.max(0, end - off)} left`);
}

export function ipv4At(buf: Buffer, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

export function ipv4FromU32(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** RFC 5952 text form (lower case, longest zero run compressed), as tshark prints. */
export function ipv6At(buf: Buffer, off: number): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(buf.readUInt16BE(off + i * 2));
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${ipv4At(buf, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = w.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function ipAt(buf: Buffer, off: number, len: number): string {
  return len === 4 ? ipv4At(buf, off) : len === 16 ? ipv6At(buf, off) : buf.toString('hex', off, off + len);
}

export function macAt(buf: Buffer, off: number): string {
  const h = buf.toString('hex', off, off + 6);
  return `${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}:${h.slice(6, 8)}:${h.slice(8, 10)}:${h.slice(10, 12)}`;
}

/** A prefix of `bits` bits stored in ceil(bits/8) bytes, widened to a full address. */
export function prefixAt(buf: Buffer, off: number, bits: number, family: 4 | 6): string {
  const full = Buffer.alloc(family === 4 ? 4 : 16);
  buf.copy(full, 0, off, off + Math.ceil(bits / 8));
  return `${family === 4 ? ipv4At(full, 0) : ipv6At(full, 0)}/${bits}`;
}
