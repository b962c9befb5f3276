import type { Command } from '../command.ts';

/** Every CLI command; each stage adds its own module here (one line per command). */
export const commands: Command[] = [
];
