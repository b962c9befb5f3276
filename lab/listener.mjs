#!/usr/bin/env node
// netloom lab: an endpoint's TCP/UDP listeners (src/lab/listeners.ts starts this inside the
// endpoint's namespace). Every connection / datagram is answered with one JSON line naming the
// endpoint, the protocol, the port and addresses the packet arrived with (after any NAT on the
// path) and its source as seen here: {"endpoint":"h2","proto":"tcp","port":8080,"dst":"10.10.10.12","peer":"10.10.10.11","peerPort":40312}
//
// usage: node listener.mjs --name ENDPOINT [--tcp P,P...] [--udp P,P...] [--skip-dev D,D...] [--daemon]
// Sockets are bound per address of the namespace (loopback, IPv6 link-local and the addresses of
// --skip-dev devices, e.g. the lab's management eth0 where sshd listens, left out): the
// reply leaves from the address the packet reached, so conntrack undoes a DNAT on the way back.
// --daemon: forks the listeners into the background and exits once every port listens,
// printing "ready PID"; a port that cannot be bound makes it exit non-zero with the reason.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const ports = (s) => (s ? s.split(',').filter(Boolean).map(Number) : []);
const name = opt('--name') ?? os.hostname();
const tcp = ports(opt('--tcp'));
const udp = ports(opt('--udp'));
const skipDev = new Set((opt('--skip-dev') ?? '').split(',').filter(Boolean));
if (![...tcp, ...udp].every((p) => Number.isInteger(p) && p > 0 && p < 65536)) {
  process.stderr.write('listener: ports must be 1-65535\n');
  process.exit(2);
}

if (args.includes('--daemon')) {
  const child = spawn(process.execPath, [process.argv[1], ...args.filter((a) => a !== '--daemon')], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const fail = (msg) => {
    process.stderr.write(`listener: ${msg}\n`);
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
    process.exit(1);
  };
  const timer = setTimeout(() => fail('not listening within 10 s'), 10_000);
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  child.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
    if (out.includes('ready\n')) {
      clearTimeout(timer);
      process.stdout.write(`ready ${child.pid}\n`);
      child.unref();
      child.stdout.destroy();
      child.stderr.destroy();
      process.exit(0);
    }
  });
  child.on('exit', (code) => fail(err.trim() || `exited with ${code}`));
} else {
  serve().then(
    () => {
      process.stdout.write('ready\n');
      // The parent is gone after "ready": later writes would fail on a closed pipe.
      process.stdout.on('error', () => {});
      process.stderr.on('error', () => {});
    },
    (e) => {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    },
  );
}

/** An IPv4 peer of a dual-stack socket arrives as ::ffff:a.b.c.d. */
const plain = (a) => (a && a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);

const line = (proto, port, dst, peer, peerPort) => JSON.stringify({ endpoint: name, proto, port, dst: plain(dst), peer: plain(peer), peerPort }) + '\n';

function listening(emitter, what) {
  return new Promise((resolve, reject) => {
    emitter.once('error', (e) => reject(new Error(`${what}: ${e.message}`)));
    emitter.once('listening', () => {
      emitter.on('error', () => {});
      resolve();
    });
  });
}

/** The addresses to listen on (link-local ones would need a scope: left out). */
function localAddresses() {
  const out = [];
  for (const [dev, list] of Object.entries(os.networkInterfaces())) {
    if (skipDev.has(dev)) continue;
    for (const a of list ?? []) if (!a.internal && !(a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80'))) out.push(a);
  }
  return out;
}

async function serve() {
  const waits = [];
  const addrs = localAddresses();
  if (!addrs.length) throw new Error('no address to listen on');
  for (const port of tcp) {
    for (const a of addrs) {
      const srv = net.createServer((sock) => {
        sock.on('error', () => {});
        sock.end(line('tcp', sock.localPort, sock.localAddress, sock.remoteAddress, sock.remotePort));
      });
      waits.push(listening(srv, `tcp/${port} on ${a.address}`));
      srv.listen({ port, host: a.address, ipv6Only: a.family === 'IPv6' });
    }
  }
  for (const port of udp) {
    for (const a of addrs) {
      const s = dgram.createSocket(a.family === 'IPv6' ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
      s.on('message', (_msg, rinfo) => s.send(line('udp', port, a.address, rinfo.address, rinfo.port), rinfo.port, rinfo.address));
      waits.push(listening(s, `udp/${port} on ${a.address}`));
      s.bind(port, a.address);
    }
  }
  await Promise.all(waits);
  process.on('SIGTERM', () => process.exit(0));
}
