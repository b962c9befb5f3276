// The CLI as users run it, when they get something wrong or use it unusually: every flag
// checked, mistakes named with a suggestion, help derived from each command's option spec,
// bugs told apart from user errors, a closed pipe, and netloom run from another directory.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/intent-copy.ts';
import { commands } from '../../src/cli/commands/index.ts';
import type { OptionDef } from '../../src/cli/command.ts';
import { closingHint } from '../../src/cli/commands/pipeline.ts';
import { loadModelSync } from '../../src/model/index.ts';

const bin = path.join(repoRoot, 'src/cli/bin.mjs');

function netloom(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: opts.cwd ?? repoRoot, env: { ...process.env, NETLOOM_DEBUG: '', ...opts.env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function netloomAsync(args: string[]) {
  const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...process.env, NETLOOM_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, out, err };
}

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'netloom-cli-'));
}

const stackFrame = /\n\s+at /;

describe('flags are checked', () => {
  it('a number flag rejects a non-number (--arp-flood abc used to disable ARP flood detection)', () => {
    const dir = tempDir();
    try {
      // An empty classic pcap: a valid capture with no packets.
      const f = path.join(dir, 'empty.pcap');
      const hdr = Buffer.alloc(24);
      hdr.writeUInt32LE(0xa1b2c3d4, 0);
      hdr.writeUInt16LE(2, 4);
      hdr.writeUInt16LE(4, 6);
      hdr.writeUInt32LE(65535, 16);
      hdr.writeUInt32LE(1, 20);
      writeFileSync(f, hdr);
      expect(netloom(['pcap', 'analyze', f]).code).toBe(0);
      const r = netloom(['pcap', 'analyze', f, '--arp-flood', 'abc']);
      expect(r.code).toBe(2);
      expect(r.err).toContain("--arp-flood expects a number, got 'abc'");
      expect(netloom(['pcap', 'analyze', f, '--vxlan-port', '70000']).err).toContain('--vxlan-port must be at most 65535');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a number flag is checked even when the step that uses it does not run', () => {
    const r = netloom(['pipeline', '--no-lab', '--timeout', 'soon', '--out', path.join(tmpdir(), 'netloom-cli-never')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--timeout expects a number, got 'soon'");
  });

  it('an enum flag names the accepted values', () => {
    const r = netloom(['lab', 'up', '--runtime', 'docker']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--runtime must be one of auto, netns, containerlab, got 'docker'");
  });

  it('an unknown option is named, with the nearest one', () => {
    const r = netloom(['verify', '--fromat', 'json']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option '--fromat' (did you mean --format?)");
    expect(r.err).toContain('netloom verify --help lists every option');
    expect(r.err).not.toMatch(stackFrame);
  });

  it('an unknown command or sub-command is named, with the nearest one', () => {
    const a = netloom(['verfy']);
    expect(a.code).toBe(2);
    expect(a.err.trim()).toBe("netloom: unknown command 'verfy' (did you mean verify?); 'netloom --help' lists them");
    const b = netloom(['lab', 'statsu']);
    expect(b.code).toBe(2);
    expect(b.err).toContain("unknown sub-command 'statsu' (did you mean lab status?)");
    expect(netloom(['zzzzzz']).err).not.toContain('did you mean');
  });

  it('verify --target without --live is a usage error, not silently ignored', () => {
    const r = netloom(['verify', '--target', 'lab:nowhere']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--target applies only with --live');
  });

  it('verify --check must name a check of the chosen mode', () => {
    const s = netloom(['verify', '--check', 'live-ospf']);
    expect(s.code).toBe(2);
    expect(s.err).toContain('--check live-ospf: no static check has this id');
    // Rejected before any lab is looked for.
    const l = netloom(['verify', '--live', '--target', 'lab:h11b-none', '--check', 'live-osfp']);
    expect(l.code).toBe(2);
    expect(l.err).toContain('--check live-osfp: no live check has this id (did you mean live-ospf?)');
  });
});

// Concurrent: each is a process start, and they are independent.
describe.concurrent('--help of every command', () => {
  for (const cmd of commands) {
    it(`netloom ${cmd.name} --help lists every option with its default`, async ({ expect }) => {
      const r = await netloomAsync([...cmd.name.split(' '), '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`usage: netloom ${cmd.name}`);
      const lines = r.out.split('\n');
      const spec: Record<string, OptionDef> = { ...(cmd.options ?? {}), help: { type: 'boolean', help: '' } };
      for (const [name, def] of Object.entries(spec)) {
        const at = lines.findIndex((l) => new RegExp(`^\\s+(-\\w, )?--${name}\\b`).test(l));
        expect(at, `--${name} in netloom ${cmd.name} --help`).toBeGreaterThanOrEqual(0);
        if (def.type !== 'boolean' && def.default !== undefined) {
          expect(`${lines[at]} ${lines[at + 1]}`).toContain(`default ${def.default}`);
        }
      }
    });
  }
});

describe('errors: netloom\'s own are messages, anything else is a bug', () => {
  it('a failure that is not one of netloom\'s error classes says internal error, with the stack only under NETLOOM_DEBUG=1', () => {
    const state = tempDir();
    try {
      // A lab state file that is not JSON makes JSON.parse throw a SyntaxError.
      mkdirSync(path.join(state, 'labs', 'h11bbroken'), { recursive: true });
      writeFileSync(path.join(state, 'labs', 'h11bbroken', 'state.json'), '{ not json');
      const r = netloom(['lab', 'status', '--name', 'h11bbroken'], { env: { NETLOOM_STATE_DIR: state } });
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^netloom lab status: internal error: .*JSON/);
      expect(r.err).toContain('NETLOOM_DEBUG=1 shows where');
      expect(r.err).not.toMatch(stackFrame);
      const d = netloom(['lab', 'status', '--name', 'h11bbroken'], { env: { NETLOOM_STATE_DIR: state, NETLOOM_DEBUG: '1' } });
      expect(d.err).toMatch(/internal error[\s\S]*SyntaxError[\s\S]*\n\s+at /);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('netloom\'s own errors print their message only', () => {
    const r = netloom(['lab', 'status', '--name', 'h11bnone'], { env: { NETLOOM_STATE_DIR: tempDir() } });
    expect(r.code).toBe(2);
    expect(r.err).not.toContain('internal error');
    expect(r.err).toMatch(/^netloom lab status: .*h11bnone/);
  });
});

describe('output into a closed pipe', () => {
  it('netloom ... | head: no EPIPE stack trace, the command finishes with its own status', async () => {
    const child = spawn(process.execPath, [bin, 'model', 'intents/dc1'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader goes away before netloom writes its first line.
    child.stdout.destroy();
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(err).toBe('');
    expect(code).toBe(0);
  });
});

describe('run from another directory', () => {
  it('the default intent directory is the project\'s example', () => {
    const elsewhere = tempDir();
    try {
      const r = netloom(['validate'], { cwd: elsewhere });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toContain('fabric dc1 (site ams1): valid');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('an intents/dc1 in the current directory wins over the project\'s', () => {
    const here = tempDir();
    try {
      cpSync(path.join(repoRoot, 'intents/dc1'), path.join(here, 'intents/dc1'), { recursive: true });
      const f = path.join(here, 'intents/dc1/fabric.yaml');
      writeFileSync(f, readFileSync(f, 'utf8').replace(/^(\s+site:\s+)\S+/m, '$1h11b-here'));
      const r = netloom(['validate'], { cwd: here });
      expect(r.code).toBe(0);
      expect(r.out).toContain('(site h11b-here)');
    } finally {
      rmSync(here, { recursive: true, force: true });
    }
  });
});

describe('hints name things that exist', () => {
  it('the pipeline\'s closing hint offers ssh to a device of this fabric', () => {
    const dir = tempDir();
    try {
      // dc1 with its leaves renamed: there is no leaf1.
      cpSync(path.join(repoRoot, 'intents/dc1'), dir, { recursive: true });
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
        writeFileSync(path.join(dir, f), readFileSync(path.join(dir, f), 'utf8').replace(/\bleaf(\d)\b/g, 'tor$1'));
      }
      const model = loadModelSync(dir);
      const names = model.devices.map((d) => d.name);
      expect(names).not.toContain('leaf1');
      const hint = closingHint(model, 'h11bx', '/run/ssh_config');
      const ssh = /ssh -F \/run\/ssh_config (\S+)/.exec(hint);
      expect(ssh).not.toBeNull();
      expect(names).toContain(ssh![1]);
      expect(hint).toContain('netloom lab down --name h11bx');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
