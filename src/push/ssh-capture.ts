/**
 * A bounded packet capture on an inventory device over SSH (no lab namespace to enter):
 * tcpdump runs on the device for at most `seconds`, stopping earlier at `maxPackets` packets
 * of at most `snaplen` bytes each, into a private temporary file there (mktemp, mode 0600),
 * which comes back base64-encoded on the same session and is removed. The device needs
 * tcpdump, coreutils' `timeout` and `base64`, and a login allowed to capture (root, or
 * CAP_NET_RAW on tcpdump). The pcap lands in `out` with mode 0600.
 */
import { writeFileSync } from 'node:fs';
import { EnvironmentError } from '../util/errors.ts';
import { credentialsFor, type InventoryDevice } from './inventory.ts';
import { SshExec, shq } from './ssh-exec.ts';

export interface SshCaptureOptions {
  seconds: number;
  maxPackets: number;
  snaplen: number;
  /** Local file the pcap is written to. */
  out: string;
}

const IFACE = /^[A-Za-z0-9_.:@-]{1,15}$/;

/** The shell line run on the device: capture, then print the file as base64 (stderr: tcpdump's own words on failure). */
export function captureCommand(iface: string, o: Omit<SshCaptureOptions, 'out'>): string {
  const n = (x: number) => String(Math.max(1, Math.floor(x)));
  return [
    'f=$(mktemp /tmp/netloom-capture.XXXXXX) || exit 70',
    'trap \'rm -f "$f" "$f.err"\' EXIT',
    // SIGINT, as an operator's ^C: tcpdump flushes the file and says how many packets it captured.
    `timeout -s INT ${n(o.seconds)} tcpdump -n -U -i ${shq(iface)} -c ${n(o.maxPackets)} -s ${n(o.snaplen)} -w "$f" 2>"$f.err"`,
    'rc=$?',
    'grep -q "packets\\? captured" "$f.err" || { [ $rc -eq 0 ] || [ $rc -eq 124 ]; } || { cat "$f.err" >&2; exit 1; }',
    'base64 -w0 "$f"',
  ].join('\n');
}

export async function sshCapture(dev: InventoryDevice, iface: string, o: SshCaptureOptions): Promise<{ file: string; bytes: number }> {
  const at = `${dev.name}:${iface}`;
  if (!IFACE.test(iface)) throw new EnvironmentError(`capture on ${at} failed: not an interface name`);
  if (dev.transport !== 'ssh') throw new EnvironmentError(`capture on ${at} failed: ${dev.name} is reached over ${dev.transport}, captures need SSH`);
  const ssh = await SshExec.connect({ device: dev.name, host: dev.address, port: dev.port, credentials: credentialsFor(dev), hostKey: dev.hostKey });
  try {
    // base64 grows the file by a third; the bound is the file's own (packets x snaplen) plus headers.
    const limit = Math.ceil(((o.maxPackets * (o.snaplen + 16) + 24) * 4) / 3) + 4096;
    const r = await ssh.exec(captureCommand(iface, o), { timeoutMs: o.seconds * 1000 + 20_000, maxOutputBytes: limit });
    if (r.code !== 0) throw new EnvironmentError(`capture on ${at} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
    const pcap = Buffer.from(r.stdout.trim(), 'base64');
    if (pcap.length < 24) throw new EnvironmentError(`capture on ${at} failed: the device sent no pcap file`);
    writeFileSync(o.out, pcap, { mode: 0o600 });
    return { file: o.out, bytes: pcap.length };
  } finally {
    ssh.close();
  }
}
