/** The --listen address of `netloom serve`. */
import { UsageError } from '../util/errors.ts';

/** "127.0.0.1:8080", "[::1]:8080", "localhost:0". */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--listen expects HOST:PORT (127.0.0.1:8080, [::1]:8080), got '${s}'`);
  return { host: m[1] ?? m[2], port };
}

export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);
