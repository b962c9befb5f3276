// After the whole run: remove the temp intents and outputs the render tests made (their
// worker processes end without an exit hook running).
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  return () => {
    for (const d of readdirSync(tmpdir())) if (d.startsWith('netloom-render-')) rmSync(path.join(tmpdir(), d), { recursive: true, force: true });
  };
}
