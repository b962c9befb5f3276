// A child process's output is collected up to a bound: a runaway command is stopped with an
// error, not buffered until memory runs out.
import { describe, expect, it } from 'vitest';
import { run } from '../../src/lab/proc.ts';
import { BoundedOutput, MAX_CHILD_OUTPUT } from '../../src/util/bounded-output.ts';
import { EnvironmentError } from '../../src/util/errors.ts';

describe('bounded child output', () => {
  it('a command printing past the bound is killed and run rejects, naming the stream', async () => {
    // `yes` never stops by itself: only the bound ends it.
    const p = run('yes', ['netloom'], { maxOutputBytes: 1 << 20, allowFail: true });
    await expect(p).rejects.toThrow(EnvironmentError);
    await expect(run('yes', [], { maxOutputBytes: 1 << 20, allowFail: true })).rejects.toThrow(/^yes printed more than 1 MiB on stdout; stopped it$/);
    await expect(run('sh', ['-c', 'head -c 2000000 /dev/zero >&2'], { maxOutputBytes: 1 << 20 })).rejects.toThrow(/printed more than 1 MiB on stderr/);
  });

  it('output under the bound is returned whole, multi-byte characters across chunks intact', async () => {
    const r = await run('sh', ['-c', 'for i in $(seq 1 20000); do printf "é€😀"; done']);
    expect(r.stdout).toBe('é€😀'.repeat(20000));
  });

  it('BoundedOutput keeps at most its bound and reports overflow', () => {
    const b = new BoundedOutput(10);
    expect(b.push('12345')).toBe(true);
    expect(b.push(Buffer.from('678901234'))).toBe(false);
    expect(b.overflowed).toBe(true);
    expect(b.text()).toBe('1234567890');
    expect(b.push('more')).toBe(false);
    expect(b.text()).toBe('1234567890');
    expect(MAX_CHILD_OUTPUT).toBe(64 * 1024 * 1024);
  });
});
