// The CLI's sources compiled once into one ES module, kept while none of its inputs changed.
// Loading the 260 TypeScript modules through tsx's loader hooks costs about 1.5 s of CPU on
// every start (each resolve and load is a round trip to the hooks thread); the same code as one
// file loads in about 0.9 s. The bundle is a cache, never a build step: it is used only when the
// content hash of every file that went into it is what it was, and anything unusual (no
// writable cache, esbuild missing or failing) falls back to tsx, which reports source errors in
// its own words.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

function digest(file) {
  return createHash('sha1').update(readFileSync(file)).digest('hex');
}

/** The bundle's URL when the manifest's inputs are unchanged (and it was built for this root). */
function cached({ root, cacheDir, manifestFile }) {
  let m;
  try {
    m = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch {
    return undefined;
  }
  if (m.root !== root || m.node !== process.version || !Array.isArray(m.inputs)) return undefined;
  try {
    for (const [rel, sum] of m.inputs) if (digest(path.join(root, rel)) !== sum) return undefined;
  } catch {
    return undefined;
  }
  return pathToFileURL(path.join(cacheDir, m.bundle)).href;
}

// Each module keeps its own import.meta.url (the path of its .ts file): modules find templates,
// models and workers relative to themselves.
const ownUrl = {
  name: 'own-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
      loader: 'ts',
    }));
  },
};

async function build({ root, entry, cacheDir, manifestFile }) {
  const { build: esbuild } = await import('esbuild');
  const name = `main-${process.pid}-${Date.now()}.mjs`;
  mkdirSync(cacheDir, { recursive: true });
  const out = path.join(cacheDir, name);
  const r = await esbuild({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    outfile: out,
    absWorkingDir: root,
    plugins: [ownUrl],
  });
  const inputs = Object.keys(r.metafile.inputs).map((rel) => [rel, digest(path.join(root, rel))]);
  const old = (() => {
    try {
      return JSON.parse(readFileSync(manifestFile, 'utf8')).bundle;
    } catch {
      return undefined;
    }
  })();
  // Written whole then renamed: a CLI starting meanwhile reads the old manifest or the new one.
  const tmp = `${manifestFile}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify({ root, node: process.version, bundle: name, inputs }));
  renameSync(tmp, manifestFile);
  if (old && old !== name) for (const f of [old, `${old}.map`]) rmSync(path.join(cacheDir, f), { force: true });
  return pathToFileURL(out).href;
}

/**
 * The URL of an up-to-date bundle of `entry` (a path under `root`), built into `cacheDir` when
 * the cached one is missing or stale; undefined when none can be had.
 */
export async function bundled(root, entry, cacheDir) {
  const at = { root, entry, cacheDir, manifestFile: path.join(cacheDir, 'manifest.json') };
  try {
    return cached(at) ?? (await build(at));
  } catch {
    return undefined;
  }
}

/** The URL of an up-to-date bundle of src/cli/main.ts, or undefined (then run through tsx). */
export function bundledMain() {
  if (process.env.NETLOOM_NO_BUNDLE) return Promise.resolve(undefined);
  return bundled(projectRoot, path.join(projectRoot, 'src/cli/main.ts'), path.join(projectRoot, 'node_modules/.cache/netloom-cli'));
}
