/**
 * Rollout progress: on a TTY one bar per wave, redrawn in place; without a TTY or with CI=true
 * plain line logs (one line per step), which is what CI logs and `apply --recover` need.
 */
export interface Reporter {
  wave(index: number, total: number, devices: string[]): void;
  step(device: string, what: string): void;
  deviceDone(device: string, ok: boolean): void;
  waveDone(ok: boolean): void;
  log(line: string): void;
}

export function lineReporter(out: (l: string) => void): Reporter {
  return {
    wave: (i, total, devices) => out(`wave ${i + 1}/${total}: ${devices.join(', ')}`),
    step: (d, what) => out(`  ${d}: ${what}`),
    deviceDone: (d, ok) => out(`  ${d}: ${ok ? 'done' : 'FAILED'}`),
    waveDone: (ok) => out(ok ? '  wave confirmed' : '  wave failed'),
    log: (l) => out(l),
  };
}

export function ttyReporter(stream: NodeJS.WriteStream): Reporter {
  let label = '';
  let devices: string[] = [];
  const done = new Map<string, boolean>();
  let current = '';
  const width = 24;
  const draw = (final = false): void => {
    const n = done.size;
    const fill = devices.length ? Math.round((n / devices.length) * width) : width;
    const failed = [...done.values()].some((v) => !v);
    const bar = `[${'#'.repeat(fill)}${'-'.repeat(width - fill)}]`;
    const line = `${label} ${bar} ${n}/${devices.length}${failed ? ' (failure)' : ''} ${final ? '' : current}`.slice(0, (stream.columns || 100) - 1);
    stream.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
  };
  return {
    wave: (i, total, ds) => {
      label = `wave ${i + 1}/${total}`;
      devices = ds;
      done.clear();
      current = '';
      draw();
    },
    step: (d, what) => {
      current = `${d}: ${what}`;
      draw();
    },
    deviceDone: (d, ok) => {
      done.set(d, ok);
      draw();
    },
    waveDone: (ok) => {
      current = ok ? 'confirmed' : 'failed';
      draw(true);
    },
    log: (l) => {
      stream.write(`\r\x1b[2K${l}\n`);
      if (label) draw();
    },
  };
}

export function defaultReporter(out: (l: string) => void): Reporter {
  const tty = process.stdout.isTTY && !process.env.CI;
  return tty ? ttyReporter(process.stdout) : lineReporter(out);
}
