#!/usr/bin/env node
// netloom lab: service probes from inside an endpoint's namespace (src/verify/live/service-probes.ts
// runs this there). Reads a JSON array of {id, proto: "tcp"|"udp", address, port, deadlineMs}
// on stdin, runs them with at most --concurrency in flight, prints one JSON array of
// {id, outcome, reply?, detail?, ms} on stdout.
//   tcp: connected (the listener's line in `reply`), refused (RST, or ICMP port unreachable),
//        unreachable (ICMP host/net/admin unreachable), timeout (nothing came back: dropped)
//   udp: answered (reply), icmp-unreachable (ICMP port/host unreachable), timeout
import dgram from 'node:dgram';
import net from 'node:net';

const args = process.argv.slice(2);
const ci = args.indexOf('--concurrency');
const concurrency = Math.max(1, ci >= 0 ? Number(args[ci + 1]) : 16);

const parseReply = (text) => {
  const first = text.split('\n')[0];
  try {
    return JSON.parse(first);
  } catch {
    return first ? { raw: first.slice(0, 200) } : undefined;
  }
};

const UNREACH = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EACCES', 'EPERM']);

function tcpProbe(p) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let data = '';
    let connected = false;
    let done = false;
    const sock = net.connect({ host: p.address, port: p.port });
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ id: p.id, ms: Date.now() - t0, ...r });
    };
    const timer = setTimeout(
      () => finish(connected ? { outcome: 'connected', detail: 'connected; no reply line before the deadline' } : { outcome: 'timeout' }),
      p.deadlineMs,
    );
    sock.setEncoding('utf8');
    sock.on('connect', () => (connected = true));
    sock.on('data', (d) => {
      data += d;
      if (data.includes('\n')) finish({ outcome: 'connected', reply: parseReply(data) });
    });
    sock.on('end', () => finish({ outcome: 'connected', ...(data ? { reply: parseReply(data) } : { detail: 'closed without a reply' }) }));
    sock.on('error', (e) => {
      if (connected) return finish({ outcome: 'connected', detail: `after connect: ${e.code ?? e.message}` });
      if (e.code === 'ECONNREFUSED') return finish({ outcome: 'refused', detail: e.code });
      if (UNREACH.has(e.code)) return finish({ outcome: 'unreachable', detail: e.code });
      finish({ outcome: 'error', detail: e.code ?? e.message });
    });
  });
}

function udpProbe(p) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let done = false;
    const sock = dgram.createSocket(net.isIPv6(p.address) ? 'udp6' : 'udp4');
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(again);
      try {
        sock.close();
      } catch {
        /* closed */
      }
      resolve({ id: p.id, ms: Date.now() - t0, ...r });
    };
    const timer = setTimeout(() => finish({ outcome: 'timeout' }), p.deadlineMs);
    // UDP may lose the first datagram (neighbour resolution on a path): send again now and then.
    let again;
    const payload = Buffer.from(`netloom-probe ${p.id}\n`);
    // Connected: the kernel reports an ICMP error for this flow as an error of the socket.
    sock.on('error', (e) => {
      if (e.code === 'ECONNREFUSED' || UNREACH.has(e.code)) return finish({ outcome: 'icmp-unreachable', detail: e.code });
      finish({ outcome: 'error', detail: e.code ?? e.message });
    });
    sock.on('message', (msg) => finish({ outcome: 'answered', reply: parseReply(msg.toString('utf8')) }));
    sock.connect(p.port, p.address, () => {
      if (done) return;
      const send = () => sock.send(payload, (e) => e && sock.emit('error', e));
      send();
      again = setInterval(send, Math.max(100, Math.floor(p.deadlineMs / 4)));
    });
  });
}

async function main() {
  let input = '';
  for await (const c of process.stdin) input += c;
  const probes = JSON.parse(input);
  const out = new Array(probes.length);
  let next = 0;
  const worker = async () => {
    while (next < probes.length) {
      const i = next++;
      const p = probes[i];
      out[i] = p.proto === 'udp' ? await udpProbe(p) : await tcpProbe(p);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, probes.length) }, worker));
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`probe-client: ${e.message}\n`);
  process.exit(1);
});
