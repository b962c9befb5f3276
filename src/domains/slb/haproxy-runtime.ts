/**
 * HAProxy's runtime API (the `stats socket` of the rendered haproxy.cfg): one command per
 * connection, the answer read to the end. `show stat` is CSV with a `# pxname,svname,...`
 * header; servers are the rows that are neither FRONTEND nor BACKEND.
 */
import net from 'node:net';

export async function runtimeCommand(socket: string, command: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(socket);
    let out = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`HAProxy runtime API ${socket}: no answer to '${command}' in ${timeoutMs} ms`));
    }, timeoutMs);
    c.on('connect', () => c.write(`${command}\n`));
    c.on('data', (d) => (out += d.toString()));
    c.on('end', () => {
      clearTimeout(timer);
      resolve(out);
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export interface ServerStat {
  backend: string;
  server: string;
  /** UP, DOWN, MAINT, DRAIN, NOLB, "UP 1/2" (going down), "DOWN 1/2" (going up)... */
  status: string;
  weight: number;
  checkStatus: string;
  /** Seconds since the server last went up or down (`lastchg`): within a pool's slow start it is still ramping. */
  lastChangeS?: number;
}

export function parseShowStat(csv: string): ServerStat[] {
  const lines = csv.split('\n').filter((l) => l.trim());
  const head = lines.find((l) => l.startsWith('# '));
  if (!head) return [];
  const cols = head.slice(2).split(',');
  const at = (name: string) => cols.indexOf(name);
  const out: ServerStat[] = [];
  for (const l of lines) {
    if (l.startsWith('#')) continue;
    const f = l.split(',');
    const sv = f[at('svname')];
    if (sv === 'FRONTEND' || sv === 'BACKEND') continue;
    const lastchg = f[at('lastchg')];
    out.push({ backend: f[at('pxname')], server: sv, status: f[at('status')], weight: Number(f[at('weight')]), checkStatus: f[at('check_status')] ?? '', ...(lastchg ? { lastChangeS: Number(lastchg) } : {}) });
  }
  return out;
}

export async function serverStats(socket: string): Promise<ServerStat[]> {
  return parseShowStat(await runtimeCommand(socket, 'show stat'));
}
