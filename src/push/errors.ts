import { NetloomError } from '../util/errors.ts';

/** Failures of one device during a rollout; `kind` says which step and drives the summary. */
export type DeviceErrorKind = 'unreachable' | 'auth' | 'hostkey' | 'locked' | 'rejected' | 'command' | 'timeout' | 'postcheck' | 'confirm';

export class DeviceError extends NetloomError {
  constructor(
    readonly device: string,
    readonly kind: DeviceErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'DeviceError';
  }
}
