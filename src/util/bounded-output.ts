/**
 * What a child process (local or over SSH) prints is collected up to a bound: a runaway
 * command is stopped with an error instead of filling memory (README "Limits").
 */

/** Per stream (stdout, stderr) of one command. */
export const MAX_CHILD_OUTPUT = 64 * 1024 * 1024;

export class BoundedOutput {
  private parts: Buffer[] = [];
  private size = 0;
  /** Set once more than `max` bytes arrived; later data is dropped. */
  overflowed = false;

  constructor(readonly max = MAX_CHILD_OUTPUT) {}

  /** Adds a chunk; false once the bound is passed (the caller stops the command). */
  push(chunk: Buffer | string): boolean {
    if (this.overflowed) return false;
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (this.size + b.length > this.max) {
      this.overflowed = true;
      this.parts.push(b.subarray(0, this.max - this.size));
      this.size = this.max;
      return false;
    }
    this.parts.push(b);
    this.size += b.length;
    return true;
  }

  /** Collected text (decoded once, so multi-byte characters split across chunks stay whole). */
  text(): string {
    return Buffer.concat(this.parts, this.size).toString('utf8');
  }

  describeLimit(): string {
    return `${Math.round(this.max / 1024 / 1024) || (this.max / 1024 / 1024).toFixed(2)} MiB`;
  }
}
