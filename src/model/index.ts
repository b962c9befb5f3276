/** The source of truth: load an intent directory, validate it and resolve it into the model. */
import { loadIntentDir, type LoadOptions } from '../intent/load.ts';
import type { ParseCache } from '../intent/parse-cache.ts';
import { validateSchema } from '../intent/validate.ts';
import { resolveModel } from './resolve.ts';
import type { FabricModel } from './types.ts';
import { isSitesDir, resolveSites } from './sites.ts';

export * from './types.ts';
export { loadPlatforms, type PlatformDef } from './platforms.ts';

export const DEFAULT_INTENT_DIR = 'intents/dc1';

/**
 * Throws IntentError (every diagnostic, file:line:col) or EnvironmentError. `parseCache`: intent
 * files parsed before, by content (netloom plan reads the same files at both revisions).
 */
export function loadModelSync(dir: string = DEFAULT_INTENT_DIR, opts: { parseCache?: ParseCache } & LoadOptions = {}): FabricModel {
  const load = (d: string) => loadFabricSync(d, opts.parseCache, opts);
  if (isSitesDir(dir)) return resolveSites(dir, load, opts);
  return load(dir);
}

/** One fabric intent directory (a site of a multi-site intent, or a fabric alone). */
function loadFabricSync(dir: string, parseCache?: ParseCache, opts: LoadOptions = {}): FabricModel {
  const loaded = loadIntentDir(dir, parseCache, opts);
  const { intent, locator } = validateSchema(loaded);
  if (parseCache) parseCache.lastIntent = { loaded, intent };
  return resolveModel({ intent, locator, revision: loaded.revision, intentDir: loaded.dir });
}

export async function loadModel(dir: string = DEFAULT_INTENT_DIR): Promise<FabricModel> {
  return loadModelSync(dir);
}
