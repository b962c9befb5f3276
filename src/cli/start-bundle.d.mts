// Types of start-bundle.mjs, a plain ES module (it runs before tsx is registered).

/**
 * The URL of an up-to-date bundle of `entry` (a path under `root`), built into `cacheDir` when
 * the cached one is missing or stale; undefined when none can be had.
 */
export function bundled(root: string, entry: string, cacheDir: string): Promise<string | undefined>;

/** The URL of an up-to-date bundle of src/cli/main.ts, or undefined (then run through tsx). */
export function bundledMain(): Promise<string | undefined>;
