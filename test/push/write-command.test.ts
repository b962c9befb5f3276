import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeCommand } from '../../src/push/ssh-exec.ts';

const sh = (cmd: string, input: string) =>
  new Promise<number>((resolve) => {
    const p = spawn('sh', ['-c', cmd], { stdio: ['pipe', 'ignore', 'ignore'] });
    p.on('close', (c) => resolve(c ?? -1));
    p.stdin.end(input);
  });

describe('writeCommand', () => {
  it('concurrent writes of files in one directory never collide on the temporary file (three leaves rolled back at once)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nl-write-'));
    try {
      // Lab nodes bind-mount single files: writers of different files share the directory.
      // One target path written 40 times at once is the harshest form of it.
      const target = path.join(dir, 'network.sh');
      writeFileSync(target, 'old\n');
      const codes = await Promise.all(Array.from({ length: 40 }, (_, i) => sh(writeCommand(target, '0755'), `writer ${i}\n`)));
      expect(codes.every((c) => c === 0)).toBe(true);
      // The file is rewritten in place (bind mounts cannot be renamed over), so writers of the
      // very same file may interleave their bytes; what the fix guarantees is that none fails on
      // another's temporary file (the old shared name) and none is left behind.
      expect(readFileSync(target, 'utf8')).toMatch(/^writer \d+\n/);
      expect(readdirSync(dir)).toEqual(['network.sh']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
