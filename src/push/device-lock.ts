/**
 * The change lock of a device reached over SSH: a directory netloom creates atomically under its
 * state directory on the device (mkdir either creates it or fails), holding the rollout id,
 * host and pid of its holder, so a second rollout is refused with who holds it.
 */
import { hostname } from 'node:os';
import { DeviceError } from './errors.ts';
import { shq, type RetryingSsh } from './ssh-exec.ts';

export async function takeDeviceLock(ssh: RetryingSsh, device: string, stateDir: string, rolloutId: string): Promise<void> {
  const dir = `${stateDir}/lock`;
  const owner = `${rolloutId} ${hostname()} ${process.pid}`;
  const r = await ssh.exec(`mkdir -p ${shq(stateDir)} && if mkdir ${shq(dir)} 2>/dev/null; then printf '%s\\n' ${shq(owner)} > ${shq(dir)}/owner; else cat ${shq(dir)}/owner 2>/dev/null; exit 4; fi`);
  if (r.code === 4) {
    const holder = r.stdout.trim().split(' ')[0] ?? '';
    if (holder === rolloutId) return;
    throw new DeviceError(device, 'locked', `${device}: configuration lock held by another rollout (${r.stdout.trim() || 'unknown owner'}; ${dir} on the device)`);
  }
  if (r.code !== 0) throw new DeviceError(device, 'command', `${device}: taking the lock failed: ${r.stderr.trim()}`);
}

export async function releaseDeviceLock(ssh: RetryingSsh, stateDir: string, rolloutId: string): Promise<void> {
  const dir = `${stateDir}/lock`;
  await ssh.exec(`[ "$(cut -d' ' -f1 ${shq(dir)}/owner 2>/dev/null)" = ${shq(rolloutId)} ] && rm -rf ${shq(dir)}; true`);
}
