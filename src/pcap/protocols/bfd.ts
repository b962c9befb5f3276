/** BFD control packets (RFC 5880). */
import { need } from '../bytes.ts';

export const BFD_STATE = ['AdminDown', 'Down', 'Init', 'Up'] as const;
export const BFD_DIAG: Record<number, string> = {
  0: 'No Diagnostic', 1: 'Control Detection Time Expired', 2: 'Echo Function Failed', 3: 'Neighbor Signaled Session Down', 4: 'Forwarding Plane Reset',
  5: 'Path Down', 6: 'Concatenated Path Down', 7: 'Administratively Down', 8: 'Reverse Concatenated Path Down',
};

export interface BfdPacket {
  version: number;
  diag: number;
  diagName: string;
  state: string;
  flags: number;
  detectMult: number;
  length: number;
  myDisc: number;
  yourDisc: number;
  desiredMinTx: number;
  requiredMinRx: number;
  requiredMinEcho: number;
  authType?: number;
}

export function decodeBfd(buf: Buffer, off: number, end: number): BfdPacket {
  need(off, 24, end, 'BFD control packet');
  const diag = buf[off] & 0x1f;
  const pkt: BfdPacket = {
    version: buf[off] >> 5, diag, diagName: BFD_DIAG[diag] ?? `diag-${diag}`, state: BFD_STATE[buf[off + 1] >> 6], flags: buf[off + 1] & 0x3f,
    detectMult: buf[off + 2], length: buf[off + 3], myDisc: buf.readUInt32BE(off + 4), yourDisc: buf.readUInt32BE(off + 8),
    desiredMinTx: buf.readUInt32BE(off + 12), requiredMinRx: buf.readUInt32BE(off + 16), requiredMinEcho: buf.readUInt32BE(off + 20),
  };
  if (buf[off + 1] & 0x04 && off + 25 <= end) pkt.authType = buf[off + 24];
  return pkt;
}
